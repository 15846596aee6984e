"""Analyse one audio file: decode it once, embed every patch, run the analysers.

This is the unit of work of a scan (run in a worker process per core) and of a query from outside
the library; both go through the same steps so they can never disagree. A file the library already
embedded is not embedded again: :func:`analyse_again` runs only the analysers that are stale, on its
stored embedding.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from engine.analysis.contract import AUDIO, AnalyserResult, Analyser, AnalysisInputs, Embedding, run_analyser
from engine.analysis.embedding import Embedder, MusicnnEmbedder
from engine.analysis.tempo import TempoEstimate
from engine.analysis.tempo_analyser import file_tempo, learned_belief
from engine.analysis.tempo_block import compute_tempo_block
from engine.audio.decode import load_mono, probe
from engine.models.tempo_classifier import LearnedBelief
from engine.models.track_space import TrackSpace


@dataclass(frozen=True)
class FileAnalysis:
    """What a query needs of one file: its embedding and its tempo.

    patches : (n_patches, dimension) float32 per-patch embeddings
    tempo_block : (n_bins,) float32 onset autocorrelation on the log-BPM grid
    tempo : the file's BPM estimate (bpm None for one-shots)
    """

    path: str
    size: int
    mtime_ns: int
    duration: float  # seconds, of the whole file
    format: str
    patches: np.ndarray
    tempo_block: np.ndarray
    tempo: TempoEstimate


@dataclass(frozen=True, eq=False)
class FileResults:
    """What a scan learnt about one file.

    embedding : the file's fresh embedding (:func:`analyse_new`); None when the stored one was kept
    results : one per analyser run, in the order they were given
    """

    path: str
    size: int
    mtime_ns: int
    duration: float  # seconds, of the whole file
    format: str
    embedding: Embedding | None
    results: tuple[AnalyserResult, ...]


def model_key(embedder: Embedder) -> str:
    """``"<id>/<version>"``: the embedder an :class:`Embedding` comes from."""
    return f"{embedder.id}/{embedder.version}"


def analyse_file(path: str | Path, embedder: Embedder) -> FileAnalysis:
    """Decode, embed and estimate the tempo of one file; raises :class:`engine.audio.decode.AudioError`
    for unusable input."""
    inputs = _embedded(path, embedder)
    info, e = inputs.info, inputs.embedding
    return FileAnalysis(inputs.path, info.size_bytes, info.mtime_ns, inputs.audio.duration_s, info.format,
                        e.patches, e.tempo_block, file_tempo(inputs))


def analyse_new(path: str | Path, embedder: Embedder, analysers: Sequence[Analyser]) -> FileResults:
    """A file new to the library (or changed): decode it, embed it and run every analyser on it.

    Raises :class:`engine.audio.decode.AudioError` for unusable input; an analyser's own failure is
    its result (:func:`engine.analysis.contract.run_analyser`).
    """
    inputs = _embedded(path, embedder)
    return _results(inputs, inputs.audio.duration_s, inputs.embedding, analysers)


def analyse_again(path: str | Path, analysers: Sequence[Analyser], sample_rate: int,
                  stored: Embedding | None) -> FileResults:
    """A file whose stored embedding is current: run only ``analysers`` (the stale ones), on ``stored``.

    The file is decoded (at ``sample_rate`` Hz, the embedder's, as :func:`analyse_new` does) only when
    one of them needs audio; the embedder is never called. ``stored`` may be None when none of them
    needs patches.
    """
    info = probe(path)
    audio = load_mono(path, sr=sample_rate) if any(AUDIO in a.needs for a in analysers) else None
    return _results(AnalysisInputs(str(path), info, audio, stored), info.duration_s, None, analysers)


def _embedded(path: str | Path, embedder: Embedder) -> AnalysisInputs:
    info = probe(path)
    decoded = load_mono(path, sr=embedder.sample_rate)
    embedding = Embedding(model_key(embedder), embedder.embed(decoded.samples),
                          compute_tempo_block(decoded.samples, decoded.sample_rate))
    return AnalysisInputs(str(path), info, decoded, embedding)


def _results(inputs: AnalysisInputs, duration: float, fresh: Embedding | None,
             analysers: Sequence[Analyser]) -> FileResults:
    info = inputs.info
    return FileResults(inputs.path, info.size_bytes, info.mtime_ns, duration, info.format, fresh,
                       tuple(run_analyser(a, inputs) for a in analysers))


def learned_tempo(embedder: Embedder, patches: np.ndarray, block: np.ndarray) -> LearnedBelief | None:
    """The shipped tempo classifier's reading of a file embedded by ``embedder``; None when it was
    trained on another embedder's vectors (:func:`engine.analysis.tempo_analyser.learned_belief`)."""
    return learned_belief(model_key(embedder), patches, block)


@dataclass(frozen=True)
class EmbeddedFile:
    """Python API result of :func:`embed_file`.

    patches : (n_patches, 753) float32 MusiCNN mean pool of every 3 s patch
    track_vector : (K + n_bins,) float32 the searchable vector (see engine.models.track_space)
    tempo_block : (n_bins,) float32
    """

    path: str
    patches: np.ndarray
    track_vector: np.ndarray
    tempo_block: np.ndarray


@lru_cache(maxsize=1)
def _default_models() -> tuple[MusicnnEmbedder, TrackSpace]:
    return MusicnnEmbedder(), TrackSpace.load()


def embed_file(path: str | Path) -> EmbeddedFile:
    """Embed one audio file with the shipped model: per-patch matrix and track vector."""
    embedder, space = _default_models()
    a = analyse_file(path, embedder)
    return EmbeddedFile(a.path, a.patches, space.vector(a.patches, a.tempo_block), a.tempo_block)
