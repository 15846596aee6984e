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
from engine.search.vector_index import HnswIndex, VectorIndex, one_blas_thread

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
    available : distinct files in the window, the excluded one (the query's own) left out
    """

    ids: list[np.ndarray]
    distances: list[np.ndarray]
    bpms: list[np.ndarray]
    available: int


class TempoGate:
    """The library's vectors sorted by tempo, searched within a BPM window.

    Each file's unit vector is stored once, in the order of its first tempo (files with none last),
    so a window's files at their shown tempo are one contiguous block of rows, multiplied in place;
    the further tempi of split estimates are a short sorted list of (BPM, row) whose rows are
    gathered. The gate holds the library's only in-memory copy of the vectors: it is built from the
    caller's array (normalised in place, then reordered once) and re-sorted on a BPM correction.

    Parameters
    ----------
    ids : (N,) int64 file ids
    vectors : (N, D) float32 track vectors, row-aligned with ``ids``: normalised IN PLACE; the caller
        drops its reference afterwards
    beliefs : each file id's readings (:data:`TempoBelief`); a file missing or without any has no tempo
    min_share : see :func:`admitted_tempi`
    graph : the library's HNSW index over the same ids, for wide windows; None: always exact
    exact_rows : windows holding more files than this are searched in ``graph``
    """

    def __init__(self, ids: np.ndarray, vectors: np.ndarray, beliefs: Mapping[int, TempoBelief], min_share: float,
                 graph: VectorIndex | None = None, exact_rows: int = INDEX.gate_exact_rows):
        unit = np.asarray(vectors, np.float32)
        unit /= np.maximum(np.linalg.norm(unit, axis=1, keepdims=True), np.finfo(np.float32).tiny)
        self._graph, self._exact_rows, self._min_share = graph, exact_rows, min_share
        self._sort(np.asarray(ids, np.int64), unit, beliefs)

    def _sort(self, ids: np.ndarray, unit: np.ndarray, beliefs: Mapping[int, TempoBelief]) -> None:
        tempi = [admitted_tempi(beliefs.get(i, ()), self._min_share) for i in ids.tolist()]
        first = np.array([t[0] if t else np.inf for t in tempi])
        order = np.argsort(first, kind="stable")
        self._ids, self._unit, self._bpm = ids[order], unit[order], first[order]
        self._with_tempo = int(np.searchsorted(self._bpm, np.inf))  # rows [0, this) have a tempo
        self._row_of = {int(i): r for r, i in enumerate(self._ids.tolist())}
        extra = sorted((bpm, self._row_of[i]) for i, t in zip(ids.tolist(), tempi) for bpm in t[1:])
        self._extra_bpm = np.array([b for b, _ in extra], np.float64)
        self._extra_row = np.array([r for _, r in extra], np.int64)

    def with_beliefs(self, beliefs: Mapping[int, TempoBelief]) -> TempoGate:
        """The same vectors under new tempo readings (after a BPM correction), re-sorted."""
        gate = copy.copy(self)
        gate._sort(self._ids, self._unit, beliefs)
        return gate

    def __len__(self) -> int:
        """Files with a tempo."""
        return self._with_tempo

    @property
    def nbytes(self) -> int:
        return sum(a.nbytes for a in (self._unit, self._ids, self._bpm, self._extra_bpm, self._extra_row))

    def _window(self, lo: float, hi: float) -> tuple[slice, np.ndarray, np.ndarray]:
        """The block of rows at their first tempo in the window [lo, hi] BPM, and the other rows with a
        further tempo in it (each once, none already in the block) with that tempo."""
        block = slice(int(np.searchsorted(self._bpm, lo, "left")),
                      min(self._with_tempo, int(np.searchsorted(self._bpm, hi, "right"))))
        a, b = np.searchsorted(self._extra_bpm, lo, "left"), np.searchsorted(self._extra_bpm, hi, "right")
        rows, bpms = self._extra_row[a:b], self._extra_bpm[a:b]
        outside = (rows < block.start) | (rows >= block.stop)
        rows, first = np.unique(rows[outside], return_index=True)
        return block, rows, bpms[outside][first]

    def count(self, lo: float, hi: float) -> int:
        """Distinct files listed in the window [lo, hi] BPM."""
        block, rows, _ = self._window(lo, hi)
        return max(0, block.stop - block.start) + len(rows)

    def query(self, queries: np.ndarray, lo: float, hi: float, k: int, exclude: int | None = None) -> GateHits:
        """The ``k`` nearest files (cosine) to each of the (M, D) ``queries`` among those in [lo, hi] BPM.

        ``exclude`` (a file id, the query's own) is never returned.
        """
        block, extra_rows, extra_bpm = self._window(lo, hi)
        available = max(0, block.stop - block.start) + len(extra_rows)
        own = self._row_of.get(exclude) if exclude is not None else None
        if own is not None and (block.start <= own < block.stop or own in extra_rows):
            available -= 1  # the query's own file, never a result
        queries = np.asarray(queries, np.float32)
        if available > self._exact_rows and isinstance(self._graph, HnswIndex):
            hits = self._graph_query(queries, block, extra_rows, extra_bpm, k, exclude)
            if hits is not None:
                return GateHits(*hits, available)
        return GateHits(*self._exact_query(queries, block, extra_rows, extra_bpm, k, exclude), available)

    def _exact_query(self, queries, block, extra_rows, extra_bpm, k, exclude):
        queries = queries / np.maximum(np.linalg.norm(queries, axis=1, keepdims=True), np.finfo(np.float32).tiny)
        with one_blas_thread():
            sim = queries @ self._unit[block].T  # (M, block rows): a view, no copy
            if len(extra_rows):
                sim = np.concatenate([sim, queries @ self._unit[extra_rows].T], axis=1)
        bpms = np.concatenate([self._bpm[block], extra_bpm])
        ids = np.concatenate([self._ids[block], self._ids[extra_rows]])
        if exclude is not None:
            sim[:, ids == exclude] = -np.inf
        n = min(k, len(ids) - int(exclude is not None and bool((ids == exclude).any())))
        out_ids, out_dist, out_bpm = [], [], []
        for line in sim:
            top = np.argpartition(-line, n - 1)[:n] if 0 < n < len(line) else np.arange(n)
            top = top[np.argsort(-line[top], kind="stable")]
            out_ids.append(ids[top])
            out_dist.append((1.0 - line[top]).astype(np.float32))
            out_bpm.append(bpms[top])
        return out_ids, out_dist, out_bpm

    def _graph_query(self, queries, block, extra_rows, extra_bpm, k, exclude):
        """The graph's neighbours among the window's files; None when it cannot return ``k`` of them."""
        at = np.full(len(self._ids), np.nan)
        at[block] = self._bpm[block]
        at[extra_rows] = extra_bpm
        if exclude is not None and exclude in self._row_of:
            at[self._row_of[exclude]] = np.nan
        inside = ~np.isnan(at)
        row_of = self._row_of
        try:
            found = self._graph.query_where(queries, min(k, int(inside.sum())), lambda i: inside[row_of[i]])
        except RuntimeError:  # hnswlib found fewer than that in the window: the exact scan will
            return None
        return list(found.ids), list(found.distances), [at[[row_of[i] for i in line.tolist()]] for line in found.ids]
