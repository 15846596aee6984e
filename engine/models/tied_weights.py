"""Weights that only make sense in one track space: saved with its fingerprint, refused elsewhere.

The translation f and the tempo classifier both read track vectors, whose meaning changes with the
embedding and the standardisation; loading either against another track space would give silent
nonsense, so it fails with a message that says how to retrain.

Read and written with safetensors' numpy API, so the packaged app (no torch) reads the same files a
torch training run writes.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

import numpy as np
from safetensors import safe_open
from safetensors.numpy import load_file, save_file

from engine.models.track_space import TrackSpace

_EMPTY = "none"  # safetensors cannot store an empty state (an identity translator has no parameters)


def save_tied(path: Path, state: Mapping[str, np.ndarray], space: TrackSpace, meta: dict) -> None:
    """Write ``state`` (arrays, or CPU torch tensors: a module's ``state_dict()``) and ``meta`` (JSON-able)
    with the space's fingerprint, atomically."""
    about = {**meta, "space": space.fingerprint, "embedder": space.embedder}
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tensors = {k: np.ascontiguousarray(v) for k, v in state.items()} or {_EMPTY: np.zeros(1, np.float32)}
    save_file(tensors, str(tmp), metadata={"about": json.dumps(about, sort_keys=True)})
    tmp.replace(path)


def load_tied(path: Path, space: TrackSpace, mismatch: type[Exception], retrain: str) -> tuple[dict, dict]:
    """(state as numpy arrays, meta) of a file written by :func:`save_tied`; raises ``mismatch`` for another space."""
    with safe_open(str(path), framework="numpy") as f:
        meta = json.loads(f.metadata()["about"])
    if meta["embedder"] != space.embedder or meta["space"] != space.fingerprint:
        raise mismatch(
            f"{path.name} was trained for embedding {meta['embedder']} (space {meta['space']}), "
            f"not {space.embedder} (space {space.fingerprint}): retrain it with {retrain}")
    state = {k: v for k, v in load_file(str(path)).items() if k != _EMPTY}
    return state, {k: v for k, v in meta.items() if k not in ("space", "embedder")}
