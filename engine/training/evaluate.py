"""Retrieval figures on the tempo corpus, shared by the measurement and training scripts.

The task (McCallum et al. 2024, section 4): a query is a piece's tau = 1 render, translated to a
target ratio tau; it must retrieve the exact (piece, tau) among ALL versions of ALL held-out pieces,
the query file itself excluded. Renders of the same piece through another soundfont count as hits:
same notes, same tempo.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol

import numpy as np

TranslateFn = Callable[[np.ndarray, float], np.ndarray]  # (Q, D) vectors, tau -> (Q, D)


class Version(Protocol):
    """One version of a piece at a known tempo ratio: a corpus :class:`engine.training.corpus.Render`, or a
    stretched spectrogram of a library file (:mod:`engine.training.finetune`)."""

    @property
    def piece_id(self) -> str: ...

    @property
    def tau(self) -> float: ...  # rounded to 3 decimals, as the corpus manifest is


def _unit(v: np.ndarray) -> np.ndarray:
    return v / np.maximum(np.linalg.norm(v, axis=-1, keepdims=True), 1e-12)


def tempo_retrieval(renders: Sequence[Version], vectors: np.ndarray, translate: TranslateFn,
                    taus: Sequence[float], queries: np.ndarray | None = None) -> dict[float, float]:
    """Top-1 rate of the exact (piece, tau) for each target tau.

    vectors : (N, D) track vectors row-aligned with ``renders``.
    queries : (N,) bool, the rows that may be queries (at tau 1); by default all. Distractors (music of
        unknown tempo, searched among but never asked for) are the rest.
    """
    keys = [(r.piece_id, r.tau) for r in renders]
    allowed = np.ones(len(renders), bool) if queries is None else np.asarray(queries, bool)
    queries = np.array([i for i, r in enumerate(renders) if r.tau == 1.0 and allowed[i]])
    unit = _unit(vectors)
    rates = {}
    for tau in taus:
        sims = _unit(translate(vectors[queries], tau)) @ unit.T
        sims[np.arange(len(queries)), queries] = -np.inf
        best = sims.argmax(axis=1)
        rates[tau] = float(np.mean([keys[j] == (renders[q].piece_id, round(tau, 3)) for q, j in zip(queries, best)]))
    return rates


def same_piece_recall(renders: Sequence[Version], vectors: np.ndarray, k: int = 10) -> float:
    """Plain similarity, no translation: recall@k of the other versions (tempi, soundfonts) of the same piece."""
    unit = _unit(vectors)
    sims = unit @ unit.T
    np.fill_diagonal(sims, -np.inf)
    pieces = np.array([r.piece_id for r in renders])
    top = np.argsort(-sims, axis=1)[:, :k]
    found = (pieces[top] == pieces[:, None]).sum(axis=1)
    others = np.array([(pieces == p).sum() - 1 for p in pieces])
    return float(np.mean(found / np.minimum(k, others)))
