"""The tempo corpora (``scripts/build_corpus.py``, ``scripts/build_real_corpus.py``) as training and
evaluation data.

Each row is one render: a piece at tempo ratio ``tau`` through one soundfont (or effect chain, or
tracker player). Analyses are computed once, in one single-threaded process per core, and cached
under ``data/measure/`` keyed by the exact list of files and the patch hop: the track-mean MusiCNN
embedding, the tempo block, and the onset periodicity the tempo estimator reads, so an estimate can
be redone with another classifier or setting without decoding a file again.
"""

from __future__ import annotations

import concurrent.futures as cf
import dataclasses
import hashlib
import json
import multiprocessing
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from engine.audio.decode import load_mono
from engine.config import PATCHES, TEMPO_BLOCK, PatchConfig
from engine.analysis.tempo_block import compute_tempo_block
from engine.training.evaluate import TranslateFn, tempo_retrieval
from engine.analysis.tempo import SignalEvidence, signal_evidence

if TYPE_CHECKING:
    from engine.models.track_space import TrackSpace

DEFAULT_CORPUS = Path("data/corpus")
REAL_CORPUS = Path("data/real")  # tracker modules at other tempi, mixed renders, productions (docs/corpus.md)
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
    bpm_reliable: bool = True  # False where the source's tempo is uncertain (a tracker module changing speed)


def load_manifest(corpus: Path = DEFAULT_CORPUS) -> list[Render]:
    rows = []
    for line in (corpus / "manifest.jsonl").read_text().splitlines():
        r = json.loads(line)
        path = Path(r["path"]) if Path(r["path"]).is_absolute() else corpus / r["path"]
        rows.append(Render(str(path), r["piece_id"], r["soundfont"], round(float(r["tau"]), 3), float(r["bpm"]),
                           r["split"], r.get("style", ""), bool(r.get("bpm_reliable", True))))
    return sorted(rows, key=lambda r: r.path)


def load_distractors(path: Path = REAL_CORPUS / "distractors.jsonl") -> list[Render]:
    """Productions of unknown tempo: each its own piece at tau 1, split "distractor", bpm NaN."""
    rows = []
    for line in path.read_text().splitlines():
        r = json.loads(line)
        rows.append(Render(str(path.parent / r["path"]), r["piece_id"], r.get("soundfont") or r["source"], 1.0,
                           float("nan"), "distractor", r.get("style") or r["source"]))
    return sorted(rows, key=lambda r: r.path)


@dataclass(frozen=True)
class CorpusAnalyses:
    """Row-aligned with ``renders``: means (N, 753) track-mean embeddings, blocks (N, n_bins) tempo
    blocks, strength (N, A) onset periodicity on the tempo estimator's axis (:func:`signal_axis`),
    periodicity (N,) and durations (N,) seconds."""

    renders: list[Render]
    means: np.ndarray
    blocks: np.ndarray
    strength: np.ndarray
    periodicity: np.ndarray
    durations: np.ndarray

    def signal(self, i: int) -> SignalEvidence:
        """What the tempo estimator hears in render ``i``."""
        return SignalEvidence(signal_axis(), self.strength[i], float(self.periodicity[i]))


def _init(hop: int) -> None:
    import torch

    from engine.analysis.embedding import MusicnnEmbedder

    torch.set_num_threads(1)
    global _EMB
    _EMB = MusicnnEmbedder(patches=PatchConfig(hop_frames=hop, max_patches=PATCHES.max_patches))


def signal_axis() -> np.ndarray:
    """The tempo estimator's BPM axis: what :func:`engine.analysis.tempo.signal_evidence` returns on silence."""
    return signal_evidence(np.zeros(16), 16_000).bpm


def _analyse(path: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, float, float]:
    decoded = load_mono(path, sr=_EMB.sample_rate)
    block = compute_tempo_block(decoded.samples, decoded.sample_rate)
    signal = signal_evidence(decoded.samples, decoded.sample_rate, block)
    return (_EMB.embed(decoded.samples).mean(axis=0), block, signal.strength.astype(np.float32),
            signal.periodicity, decoded.duration_s)


def analyse_renders(renders: list[Render], hop: int = PATCHES.hop_frames, cache_dir: Path = CACHE_DIR) -> CorpusAnalyses:
    """Analyse every render (both cores), reusing the cache when the same files were analysed before."""
    if not renders:
        return CorpusAnalyses([], *(np.zeros(shape, np.float32) for shape in
                                    ((0, 753), (0, TEMPO_BLOCK.n_bins), (0, len(signal_axis())), 0, 0)))
    paths = [r.path for r in renders]
    digest = hashlib.blake2b("\n".join(paths).encode(), digest_size=8).hexdigest()
    cache = cache_dir / f"analyses2_{hop}_{digest}.npz"
    if cache.exists():
        data = np.load(cache)
        return CorpusAnalyses(renders, *(data[k] for k in _FIELDS))
    ctx = multiprocessing.get_context("spawn")
    with cf.ProcessPoolExecutor(2, mp_context=ctx, initializer=_init, initargs=(hop,)) as pool:
        results = list(pool.map(_analyse, paths, chunksize=4))
    columns = {k: np.stack([r[i] for r in results]) if i < 3 else np.array([r[i] for r in results])
               for i, k in enumerate(_FIELDS)}
    cache.parent.mkdir(parents=True, exist_ok=True)
    np.savez(cache, **columns)
    return CorpusAnalyses(renders, *columns.values())


_FIELDS = ("means", "blocks", "strength", "periodicity", "durations")


@dataclass(frozen=True)
class MaterialSet:
    """One kind of material, analysed: versions of pieces at known tempi, split by piece, and
    distractors (music of unknown tempo searched among, never asked for)."""

    name: str
    train: CorpusAnalyses
    held: CorpusAnalyses
    distractors: CorpusAnalyses | None = None

    def translation_rates(self, space: TrackSpace, split: str, translate: TranslateFn) -> dict[float, float]:
        """Translation top-1 per target tau (:func:`engine.training.evaluate.tempo_retrieval`) on one split's pieces
        ("train" or "heldout"), searched among every version of them and the distractors."""
        parts = [self.held if split == "heldout" else self.train]
        parts += [self.distractors] if self.distractors is not None else []
        renders = [r for p in parts for r in p.renders]
        vectors = np.concatenate([space.vector(p.means[:, None, :], p.blocks) for p in parts])
        return tempo_retrieval(renders, vectors, translate, sorted({r.tau for r in parts[0].renders} - {1.0}),
                               queries=np.array([r.split != "distractor" for r in renders]))


def material_sets() -> list[MaterialSet]:
    """The three sets every figure is reported on, side by side: "renders" (the MIDI corpus), "mixed"
    (the same renders through an effect chain) and "real" (tracker modules re-rendered at other tempi,
    among SuperTuxKart and Wesnoth music). Real pieces are never trained or tuned on: all held out."""
    sets = []
    for name, folder in (("renders", DEFAULT_CORPUS), ("mixed", REAL_CORPUS / "mixed"), ("real", REAL_CORPUS)):
        renders = load_manifest(folder)
        if name == "real":
            held = [dataclasses.replace(r, split="heldout") for r in renders]
            sets.append(MaterialSet(name, analyse_renders([]), analyse_renders(held),
                                    analyse_renders(load_distractors())))
        else:
            sets.append(MaterialSet(name, analyse_renders([r for r in renders if r.split == "train"]),
                                    analyse_renders([r for r in renders if r.split == "heldout"])))
    return sets
