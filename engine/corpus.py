"""The MIDI tempo corpus (``scripts/build_corpus.py``) as training and evaluation data.

Each row is one render: a piece at tempo ratio ``tau`` through one soundfont. Analyses (track-mean
MusiCNN embedding and tempo block) are computed once, in one single-threaded process per core, and
cached under ``data/measure/`` keyed by the exact list of files and the patch hop.
"""

from __future__ import annotations

import concurrent.futures as cf
import hashlib
import json
import multiprocessing
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from engine.config import PATCHES, PatchConfig

DEFAULT_CORPUS = Path("data/corpus")
CACHE_DIR = Path("data/measure")


@dataclass(frozen=True)
class Render:
    """One corpus file: ``path`` absolute, ``bpm`` its true tempo (quarter notes per minute)."""

    path: str
    piece_id: str
    soundfont: str
    tau: float
    bpm: float
    split: str  # "train" or "heldout": whole pieces on one side
    style: str


def load_manifest(corpus: Path = DEFAULT_CORPUS) -> list[Render]:
    rows = []
    for line in (corpus / "manifest.jsonl").read_text().splitlines():
        r = json.loads(line)
        path = Path(r["path"]) if Path(r["path"]).is_absolute() else corpus / r["path"]
        rows.append(Render(str(path), r["piece_id"], r["soundfont"], round(float(r["tau"]), 3), float(r["bpm"]),
                           r["split"], r.get("style", "")))
    return sorted(rows, key=lambda r: r.path)


@dataclass(frozen=True)
class CorpusAnalyses:
    """means (N, 753) track-mean embeddings and blocks (N, n_bins) tempo blocks, row-aligned with ``renders``."""

    renders: list[Render]
    means: np.ndarray
    blocks: np.ndarray


def _init(hop: int) -> None:
    import torch

    from engine.embed.embedder import MusicnnEmbedder

    torch.set_num_threads(1)
    global _EMB
    _EMB = MusicnnEmbedder(patches=PatchConfig(hop_frames=hop, max_patches=PATCHES.max_patches))


def _analyse(path: str) -> tuple[np.ndarray, np.ndarray]:
    from engine.analysis import analyse_file

    a = analyse_file(path, _EMB)
    return a.patches.mean(axis=0), a.tempo_block


def analyse_renders(renders: list[Render], hop: int = PATCHES.hop_frames, cache_dir: Path = CACHE_DIR) -> CorpusAnalyses:
    """Analyse every render (both cores), reusing the cache when the same files were analysed before."""
    paths = [r.path for r in renders]
    digest = hashlib.blake2b("\n".join(paths).encode(), digest_size=8).hexdigest()
    cache = cache_dir / f"analyses_{hop}_{digest}.npz"
    if cache.exists():
        data = np.load(cache)
        return CorpusAnalyses(renders, data["means"], data["blocks"])
    ctx = multiprocessing.get_context("spawn")
    with cf.ProcessPoolExecutor(2, mp_context=ctx, initializer=_init, initargs=(hop,)) as pool:
        results = list(pool.map(_analyse, paths, chunksize=4))
    means, blocks = np.stack([r[0] for r in results]), np.stack([r[1] for r in results])
    cache.parent.mkdir(parents=True, exist_ok=True)
    np.savez(cache, means=means, blocks=blocks)
    return CorpusAnalyses(renders, means, blocks)
