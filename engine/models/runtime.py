"""Which runtime runs the networks, ONNX Runtime or PyTorch: chosen in one place, explicitly.

The torch modules (``engine/models/torch_*.py``) are the single source of truth for every forward pass;
``scripts/export_onnx.py`` exports them to ``resources/onnx/``, and tests hold ONNX Runtime's outputs to
torch's within 1e-4. Measured on one thread of this 2-core CPU (``scripts/measure_inference.py``):

- MusiCNN, the whole cost of indexing: about 14 ms per 3 s patch on ONNX Runtime against 23-32 ms on torch.
- The translator and the tempo classifier: 6-400 us a call on either runtime (ONNX Runtime about twice
  as fast); but importing torch takes 0.8 s against 0.07 s, paid by the first search.

So ONNX Runtime runs every network (``InferenceConfig.backend``); the app installs nothing else, and
torch (750 MB) comes only with the ``training`` extra. ``$SBF_INFERENCE`` overrides the choice (tests,
benchmarks). The choice never depends on what happens to be imported: a script that loaded torch to
train still searches as the app does. Code that has just trained a torch network uses that network
directly, with no lookup here.

The runtime-specific modules are imported on first use, so importing the engine costs neither runtime
until a network is needed.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from importlib.util import find_spec
from typing import Any, Protocol

import numpy as np

from engine.config import INFERENCE, InferenceConfig
from engine.errors import ModelError, TrainingError
from engine.models.identity import MODELS

BACKENDS = ("onnx", "torch")
_MODULE = {"onnx": "onnxruntime", "torch": "torch"}  # what each needs importable
DEVELOPER_INSTALL = ("`pip install \"similar-but-faster[training]\"` (or, in a checkout of its source, "
                     "`make setup`)")
_MISSING = {
    "onnx": "ONNX Runtime, which runs the networks, is not installed: reinstall Similar But Faster "
            "(or `pip install onnxruntime`)",
    "torch": f"PyTorch is not installed: it comes with the developer install, {DEVELOPER_INSTALL}",
}
NETWORKS = tuple(model.network for model in MODELS)

PatchNetwork = Callable[[np.ndarray], np.ndarray]
"""MusiCNN on a batch of log-mel patches: float32 (B, 187, 96) -> (B, 753) temporal mean pool."""


class TranslatorNet(Protocol):
    """The translation's learned part on some runtime: a torch module (training, or torch inference) or an ONNX graph."""

    def predict(self, z: np.ndarray, log_tau: np.ndarray) -> np.ndarray:
        """(B, K) float32 MusiCNN parts and (B,) log2 tau -> (B, K) translated parts."""
        ...

    def state_dict(self) -> Mapping[str, Any]:
        """The weights by name, as arrays or tensors (what :meth:`engine.models.translation.Translator.save` writes)."""
        ...


class TempoNet(Protocol):
    """The tempo classifier's network on some runtime: torch (training, or torch inference) or an ONNX graph."""

    def predict(self, vectors: np.ndarray) -> np.ndarray:
        """(B, D) float32 track vectors -> (B, C) class probabilities (rows add up to 1)."""
        ...

    def state_dict(self) -> Mapping[str, Any]:
        """The weights by name, as arrays or tensors (what :meth:`engine.models.tempo_classifier.TempoClassifier.save` writes)."""
        ...


class BackendUnavailable(ModelError):
    """The runtime asked for is unknown or not installed."""


class TrainingUnavailable(TrainingError):
    """Training needs PyTorch, which the app leaves out."""


def inference_backend(network: str, cfg: InferenceConfig = INFERENCE) -> str:
    """"onnx" or "torch": the runtime that runs ``network`` (one of :data:`NETWORKS`).

    ``$SBF_INFERENCE`` when set, else ``cfg.backend``; the same for every network.

    Raises
    ------
    BackendUnavailable
        The runtime named is not one of :data:`BACKENDS`, or is not installed.
    """
    if network not in NETWORKS:
        raise ValueError(f"unknown network {network!r}: one of {', '.join(NETWORKS)}")
    forced = os.environ.get(cfg.backend_env, "").strip().lower()
    backend = forced or cfg.backend
    if backend not in BACKENDS:
        asked = f"{cfg.backend_env}={forced!r}" if forced else f"InferenceConfig.backend={backend!r}"
        raise BackendUnavailable(f"{asked} names no runtime Similar But Faster knows: use one of {', '.join(BACKENDS)}")
    if not _installed(_MODULE[backend]):
        unset = f"; or unset {cfg.backend_env} to use ONNX Runtime" if forced and backend != "onnx" else ""
        raise BackendUnavailable(f"{_MISSING[backend]}{unset}")
    return backend


def musicnn_network(threads: int = INFERENCE.threads) -> PatchNetwork:
    """MusiCNN (MSD weights) on the chosen runtime, using at most ``threads`` threads."""
    if inference_backend("musicnn") == "onnx":
        from engine.models.onnx_runtime import OnnxMusicnn

        return OnnxMusicnn(threads)
    from engine.models.torch_musicnn import TorchMusicnn

    return TorchMusicnn(threads)


def translator_network(kind: str, hidden: int, dim: int, state: Mapping[str, np.ndarray]) -> TranslatorNet:
    """The learned part of a translator of ``kind`` "direction" or "mlp" (``hidden`` units) with weights
    ``state``, on the chosen runtime; ``dim`` is the MusiCNN part's dimension K."""
    if inference_backend("translator") == "onnx":
        from engine.models.onnx_runtime import OnnxTranslatorNet

        return OnnxTranslatorNet(kind, state)
    from engine.models.torch_translator import MusicnnTranslator

    return MusicnnTranslator.from_state(dim, kind, hidden, state)


def tempo_network(dim: int, n_classes: int, hidden: int, state: Mapping[str, np.ndarray]) -> TempoNet:
    """A tempo classifier's network (``hidden`` units, 0: linear) with weights ``state`` on the chosen
    runtime: track vectors (B, ``dim``) -> probabilities (B, ``n_classes``)."""
    if inference_backend("tempo_classifier") == "onnx":
        from engine.models.onnx_runtime import OnnxTempoNet

        return OnnxTempoNet(hidden > 0, state)
    from engine.models.torch_tempo_classifier import TorchTempoNet

    return TorchTempoNet.from_state(dim, n_classes, hidden, state)


def require_training() -> None:
    """Raise :class:`TrainingUnavailable` with the way out when PyTorch is missing (the app's install)."""
    if not _installed("torch"):
        raise TrainingUnavailable(
            "Fine-tuning the tempo translation needs the developer install of Similar But Faster, which "
            f"includes PyTorch: {DEVELOPER_INSTALL}, "
            "then run `sbf train translator --library-dir DIR` there. This app then uses the fine-tuned "
            "translation of that library folder as it is.")


def _installed(module: str) -> bool:
    """Whether ``module`` can be found without importing it (a finder that refuses it counts as absent)."""
    try:
        return find_spec(module) is not None
    except ImportError:
        return False
