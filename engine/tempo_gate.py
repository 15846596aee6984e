"""The tempo gate: exact nearest neighbours among the files whose tempo lies in a BPM window.

Why inside the index and not after it: filtering an approximate neighbour list by BPM leaves
slots empty whenever the window is narrow (a third of a top 10 at +-4 %), and fetching further
costs 40x a plain query at 100k files. Here every file is an entry at each tempo it may have,
entries are sorted by BPM, and a window is one slice (two binary searches) searched exactly: every
slot is filled whenever the library holds ``k`` files in the window, and the cost is that of the
slice, not of the library.

Which tempi a file may have: the user's BPM when they corrected it, else its estimate and those of
the estimator's other readings that held at least ``min_share`` of its belief. A loop whose
estimate split between 90 and 180 BPM is listed at either, so a wrong octave does not hide it;
a file with no tempo (a one-shot) is in no window.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from engine.vector_index import one_blas_thread

TempoBelief = Sequence[tuple[float, float]]  # (BPM, share), the tempo shown first; empty: no tempo


def admitted_tempi(belief: TempoBelief, min_share: float) -> list[float]:
    """The tempi a file is listed at: the first reading always, the others when they hold ``min_share``."""
    return [bpm for i, (bpm, share) in enumerate(belief) if i == 0 or share >= min_share]


@dataclass(frozen=True)
class GateHits:
    """The neighbours of each query inside one window, nearest first.

    ids : per query, (n,) int64 file ids, n <= k
    distances : per query, (n,) float32 cosine distances
    bpms : per query, (n,) float64 the tempo each file is in the window at
    available : distinct files in the window (the query's own file included)
    """

    ids: list[np.ndarray]
    distances: list[np.ndarray]
    bpms: list[np.ndarray]
    available: int


class TempoGate:
    """Files' vectors sorted by tempo, searched exactly within a BPM window.

    Each file's unit vector is stored once, in the order of its first tempo, so a window's files
    at their shown tempo are one contiguous block of rows; the further tempi of split estimates are
    a short sorted list of (BPM, row) whose rows are gathered.

    Parameters
    ----------
    ids : (N,) int64 file ids
    vectors : (N, D) float32 track vectors, row-aligned with ``ids``
    beliefs : each file id's readings (:data:`TempoBelief`); files missing or without any are left out
    min_share : see :func:`admitted_tempi`
    """

    def __init__(self, ids: np.ndarray, vectors: np.ndarray, beliefs: Mapping[int, TempoBelief], min_share: float):
        tempi = [admitted_tempi(beliefs.get(int(i), ()), min_share) for i in ids.tolist()]
        has = np.array([bool(t) for t in tempi], dtype=bool)
        first = np.array([t[0] if t else np.inf for t in tempi])
        order = np.flatnonzero(has)[np.argsort(first[has], kind="stable")]
        self._ids = np.asarray(ids, np.int64)[order]
        self._bpm = first[order]
        unit = np.asarray(vectors, np.float32)[order]
        self._unit = unit / np.maximum(np.linalg.norm(unit, axis=1, keepdims=True), np.finfo(np.float32).tiny)
        row_of = {int(i): r for r, i in enumerate(self._ids.tolist())}
        extra = [(bpm, row_of[int(i)]) for i, t in zip(ids.tolist(), tempi) if t for bpm in t[1:]]
        extra.sort()
        self._extra_bpm = np.array([b for b, _ in extra], np.float64)
        self._extra_row = np.array([r for _, r in extra], np.int64)

    def __len__(self) -> int:
        """Files with a tempo."""
        return len(self._ids)

    @property
    def nbytes(self) -> int:
        return self._unit.nbytes + self._ids.nbytes + self._bpm.nbytes + self._extra_bpm.nbytes + self._extra_row.nbytes

    def _window_rows(self, lo: float, hi: float) -> tuple[slice, np.ndarray, np.ndarray]:
        """The block of rows at their first tempo, and the other rows with their tempo in the window."""
        block = slice(int(np.searchsorted(self._bpm, lo, "left")), int(np.searchsorted(self._bpm, hi, "right")))
        a, b = np.searchsorted(self._extra_bpm, lo, "left"), np.searchsorted(self._extra_bpm, hi, "right")
        rows, bpms = self._extra_row[a:b], self._extra_bpm[a:b]
        outside = (rows < block.start) | (rows >= block.stop)  # a file already in the block at its first tempo
        rows, first = np.unique(rows[outside], return_index=True)
        return block, rows, bpms[outside][first]

    def count(self, lo: float, hi: float) -> int:
        """Distinct files listed in the window [lo, hi] BPM."""
        block, rows, _ = self._window_rows(lo, hi)
        return block.stop - block.start + len(rows)

    def query(self, queries: np.ndarray, lo: float, hi: float, k: int, exclude: int | None = None) -> GateHits:
        """The ``k`` nearest files (cosine) to each of the (M, D) ``queries`` among those in [lo, hi] BPM.

        ``exclude`` (a file id, the query's own) is never returned.
        """
        block, extra_rows, extra_bpm = self._window_rows(lo, hi)
        queries = np.asarray(queries, np.float32)
        queries = queries / np.maximum(np.linalg.norm(queries, axis=1, keepdims=True), np.finfo(np.float32).tiny)
        with one_blas_thread():
            sim = queries @ self._unit[block].T  # (M, block rows): a view, no copy
            if len(extra_rows):
                sim = np.concatenate([sim, queries @ self._unit[extra_rows].T], axis=1)
        bpms = self._bpm[block]
        ids = self._ids[block]
        if len(extra_rows):
            bpms = np.concatenate([bpms, extra_bpm])
            ids = np.concatenate([ids, self._ids[extra_rows]])
        available = len(ids)
        if exclude is not None:
            sim[:, ids == exclude] = -np.inf
        n = min(k, available - int(exclude is not None and bool((ids == exclude).any())))
        out_ids, out_dist, out_bpm = [], [], []
        for row in sim:
            top = np.argpartition(-row, n - 1)[:n] if 0 < n < len(row) else np.arange(n)
            top = top[np.argsort(-row[top], kind="stable")]
            out_ids.append(ids[top])
            out_dist.append((1.0 - row[top]).astype(np.float32))
            out_bpm.append(bpms[top])
        return GateHits(out_ids, out_dist, out_bpm, available)
