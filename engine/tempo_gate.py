"""The tempo gate: nearest neighbours among the files whose tempo lies in a BPM window.

Why inside the index and not after it: filtering an approximate neighbour list by BPM leaves
slots empty whenever the window is narrow (a third of a top 10 at +-4 %), and fetching further
costs 40x a plain query at 100k files. Here every file is an entry at each tempo it may have and
entries are sorted by BPM, so a window is one slice (two binary searches). Every slot is filled
whenever the library holds ``k`` files in the window. How the slice is searched depends on its size:

- up to ``exact_rows`` files, exactly: one product with the slice's rows, contiguous in memory;
- beyond that, in the library's HNSW graph, visiting only the window's files (hnswlib's filter).
  A wide window holds a large share of the library, where a filtered graph search loses nothing
  (recall@20 1.00 at a third of 100k files) and costs 1 ms, where scanning 30k rows costs 5-10.

Which tempi a file may have: the user's BPM when they corrected it, else its estimate and those of
the estimator's other readings that held at least ``min_share`` of its belief. A loop whose estimate
split between 90 and 180 BPM is listed at either, so a wrong octave does not hide it; a file with
no tempo (a one-shot) is in no window.

The gate holds the library's only in-memory copy of the track vectors (as unit rows, sorted by
tempo): a BPM correction re-sorts them (:meth:`TempoGate.with_beliefs`) without reading the store.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from engine.config import INDEX
from engine.vector_index import HnswIndex, VectorIndex, one_blas_thread

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
    """The library's vectors, and their rows sorted by tempo, searched within a BPM window.

    The unit vectors stay in the order given (the gate takes the caller's array and normalises it in
    place: the library's only copy); the rows sorted by each file's first tempo (files with none
    last) make a window's files at their shown tempo one slice of row numbers, and the further tempi
    of split estimates are a short sorted list of (BPM, row).

    Parameters
    ----------
    ids : (N,) int64 file ids
    vectors : (N, D) float32 track vectors, row-aligned with ``ids``: normalised IN PLACE and kept
    beliefs : each file id's readings (:data:`TempoBelief`); a file missing or without any has no tempo
    min_share : see :func:`admitted_tempi`
    graph : the library's HNSW index over the same ids, for wide windows; None: always exact
    exact_rows : windows holding more files than this are searched in ``graph``
    """

    def __init__(self, ids: np.ndarray, vectors: np.ndarray, beliefs: Mapping[int, TempoBelief], min_share: float,
                 graph: VectorIndex | None = None, exact_rows: int = INDEX.gate_exact_rows):
        self._ids = np.asarray(ids, np.int64)
        self._unit = np.asarray(vectors, np.float32)
        self._unit /= np.maximum(np.linalg.norm(self._unit, axis=1, keepdims=True), np.finfo(np.float32).tiny)
        self._row_of = {int(i): r for r, i in enumerate(self._ids.tolist())}
        self._graph, self._exact_rows = graph, exact_rows
        self._sort(beliefs, min_share)

    def _sort(self, beliefs: Mapping[int, TempoBelief], min_share: float) -> None:
        tempi = [admitted_tempi(beliefs.get(i, ()), min_share) for i in self._ids.tolist()]
        first = np.array([t[0] if t else np.inf for t in tempi])
        self._order = np.argsort(first, kind="stable")
        self._bpm = first[self._order]
        self._with_tempo = int(np.searchsorted(self._bpm, np.inf))  # sorted positions [0, this) have a tempo
        extra = sorted((bpm, row) for row, t in enumerate(tempi) for bpm in t[1:])
        self._extra_bpm = np.array([b for b, _ in extra], np.float64)
        self._extra_row = np.array([r for _, r in extra], np.int64)
        self._min_share = min_share

    def with_beliefs(self, beliefs: Mapping[int, TempoBelief]) -> TempoGate:
        """The same vectors (shared, not copied) under new tempo readings: after a BPM correction."""
        gate = copy.copy(self)
        gate._sort(beliefs, self._min_share)
        return gate

    def __len__(self) -> int:
        """Files with a tempo."""
        return self._with_tempo

    @property
    def nbytes(self) -> int:
        return sum(a.nbytes for a in (self._unit, self._ids, self._order, self._bpm, self._extra_bpm, self._extra_row))

    def _window(self, lo: float, hi: float) -> tuple[np.ndarray, np.ndarray]:
        """Rows of the files in the window [lo, hi] BPM, each once, and the tempo each is in it at."""
        start = int(np.searchsorted(self._bpm, lo, "left"))
        stop = min(self._with_tempo, int(np.searchsorted(self._bpm, hi, "right")))
        rows, bpms = self._order[start:stop], self._bpm[start:stop]
        a, b = np.searchsorted(self._extra_bpm, lo, "left"), np.searchsorted(self._extra_bpm, hi, "right")
        if a < b:
            more, first = np.unique(self._extra_row[a:b], return_index=True)
            fresh = ~np.isin(more, rows)  # a file already in at its first tempo
            rows = np.concatenate([rows, more[fresh]])
            bpms = np.concatenate([bpms, self._extra_bpm[a:b][first][fresh]])
        return rows, bpms

    def count(self, lo: float, hi: float) -> int:
        """Distinct files listed in the window [lo, hi] BPM."""
        return len(self._window(lo, hi)[0])

    def query(self, queries: np.ndarray, lo: float, hi: float, k: int, exclude: int | None = None) -> GateHits:
        """The ``k`` nearest files (cosine) to each of the (M, D) ``queries`` among those in [lo, hi] BPM.

        ``exclude`` (a file id, the query's own) is never returned.
        """
        rows, bpms = self._window(lo, hi)
        available = len(rows)
        if exclude is not None:
            keep = self._ids[rows] != exclude
            rows, bpms = rows[keep], bpms[keep]
        queries = np.asarray(queries, np.float32)
        if len(rows) > self._exact_rows and isinstance(self._graph, HnswIndex):
            hits = self._graph_query(queries, rows, bpms, k)
            if hits is not None:
                return GateHits(*hits, available)
        return GateHits(*self._exact_query(queries, rows, bpms, k), available)

    def _exact_query(self, queries, rows, bpms, k):
        queries = queries / np.maximum(np.linalg.norm(queries, axis=1, keepdims=True), np.finfo(np.float32).tiny)
        with one_blas_thread():
            sim = queries @ self._unit[rows].T  # (M, rows): a gather of at most exact_rows rows
        ids = self._ids[rows]
        n = min(k, len(rows))
        out_ids, out_dist, out_bpm = [], [], []
        for line in sim:
            top = np.argpartition(-line, n - 1)[:n] if 0 < n < len(line) else np.arange(n)
            top = top[np.argsort(-line[top], kind="stable")]
            out_ids.append(ids[top])
            out_dist.append((1.0 - line[top]).astype(np.float32))
            out_bpm.append(bpms[top])
        return out_ids, out_dist, out_bpm

    def _graph_query(self, queries, rows, bpms, k):
        """The graph's neighbours among the window's files; None when it cannot return ``k`` of them."""
        at = np.full(len(self._ids), np.nan)
        at[rows] = bpms
        inside = ~np.isnan(at)
        row_of = self._row_of
        try:
            found = self._graph.query_where(queries, min(k, len(rows)), lambda i: inside[row_of[i]])
        except RuntimeError:  # hnswlib found fewer than that in the window: the exact scan will
            return None
        return list(found.ids), list(found.distances), [at[[row_of[i] for i in line.tolist()]] for line in found.ids]


