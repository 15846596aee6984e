"""Search at a tempo: the engine behind the tempo knob.

Three modes, all on the same index of track vectors:

- ``similar``: plain nearest neighbours of the query.
- ``target``: "sounds like this, at 140 BPM": translate the query by tau = target / query BPM with
  f(z, tau) (engine/models/translation.py), then nearest neighbours.
- ``contour``: "sounds like this, at any tempo": translate over a log-spaced grid of tau, search at
  each point and keep each candidate's best match, reporting the tau it matched at.

A :class:`SearchSession` holds one query and answers knob moves cheaply: the query's vector and its
translations per tau are computed once and reused, so a move costs one translation (or none) and one
index query. It searches anything :class:`Searchable`: a :class:`engine.library.facade.Library`, or a
:class:`VectorLibrary` of vectors held in memory (evaluations and benchmarks), both through
:func:`merged_neighbours`.
"""

from __future__ import annotations

import math

from collections import OrderedDict, defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from engine.config import SEARCH, SearchConfig
from engine.errors import SearchError
from engine.search.tempo_gate import TempoBelief, TempoGate
from engine.search.vector_index import VectorIndex, make_index

MODES = ("similar", "target", "contour")
MERGES = ("min", "rrf")

TranslateFn = Callable[[np.ndarray, np.ndarray], np.ndarray]  # (B, D) vectors, (B,) taus -> (B, D) at those taus



@dataclass(frozen=True)
class Query:
    """The query file: its track vector (D,), BPM (None: no tempo) and library row (None: outside)."""

    path: str
    vector: np.ndarray
    bpm: float | None
    file_id: int | None


@dataclass(frozen=True)
class SearchResult:
    """One neighbour.

    score : cosine similarity of track vectors, 1 = identical
    bpm : the file's tempo in BPM, None when unknown or the file has no tempo
    tau : tempo ratio T'/T the query was translated by to match (1.0 for plain similarity)
    offline : the file's folder is offline (its drive unplugged): listed, but it cannot be played now
    """

    path: str
    score: float
    bpm: float | None
    tau: float
    offline: bool = False


class Searchable(Protocol):
    """What a :class:`SearchSession` searches: a query by path, f(z, tau), and merged neighbours."""

    def query(self, path: str | Path) -> Query: ...

    @property
    def translator(self) -> TranslateFn: ...

    def nearest(self, vectors: np.ndarray, taus: np.ndarray, k: int, exclude: Query | None = None,
                window: tuple[float, float] | None = None, cfg: SearchConfig = SEARCH) -> Found: ...


@dataclass(frozen=True)
class Found:
    """What one search found: the results, and for a gated search how many files the window held.

    available : distinct files in the BPM window besides the query's own; None without a window
    """

    results: list[SearchResult]
    available: int | None = None


def merged_neighbours(index: VectorIndex, gate: TempoGate, paths: Mapping[int, str], bpms: Mapping[int, float | None],
                      vectors: np.ndarray, taus: np.ndarray, k: int, exclude: Query | None = None,
                      window: tuple[float, float] | None = None, cfg: SearchConfig = SEARCH) -> Found:
    """The ``k`` best files for several translated queries (M, D), one per tau (M,), merged.

    Without a ``window`` the (approximate) ``index`` answers. With one, the ``gate`` does: an exact
    search among the files with a tempo inside it (:mod:`engine.search.tempo_gate`), so every slot is
    filled whenever the window holds ``k`` files, and each result reports the tempo it is in the
    window at. The query file itself is left out. Each candidate reports its closest match: the
    score and the tau it matched at. With one query (the ``similar`` and ``target`` modes) the order
    is by distance; with several (``contour``) it follows ``cfg.contour_merge``: "min" ranks each
    candidate by its closest match over the grid, "rrf" by reciprocal-rank fusion, the sum over grid
    points of 1 / (``cfg.rrf_k`` + its rank there). Table 3 of ``scripts/eval_search.py`` compares them.

    Parameters
    ----------
    index : the vectors, keyed by file id
    gate : the same vectors sorted by tempo
    paths, bpms : each file id's path and BPM (None: no tempo)
    """
    if cfg.contour_merge not in MERGES:
        raise ValueError(f"unknown merge rule {cfg.contour_merge!r}: choose one of {', '.join(MERGES)}")
    exclude_id = exclude.file_id if exclude is not None else None
    available = None
    if window is None:
        found = index.query(vectors, min(len(index), k + 1))
        rows = [(ids.tolist(), dist.tolist(), [bpms.get(i) for i in ids.tolist()])
                for ids, dist in zip(found.ids, found.distances)]
    else:
        hits = gate.query(vectors, window[0], window[1], k + 1, exclude_id)
        rows = [(i.tolist(), d.tolist(), b.tolist()) for i, d, b in zip(hits.ids, hits.distances, hits.bpms)]
        available = hits.available
    best: dict[int, tuple[float, float, float | None]] = {}  # file id -> (distance, tau, BPM) of its closest match
    fused: defaultdict[int, float] = defaultdict(float)
    for (ids, distances, tempi), tau in zip(rows, taus):
        rank = 0
        for file_id, distance, bpm in zip(ids, distances, tempi):
            if exclude is not None and (file_id == exclude_id or paths[file_id] == exclude.path):
                continue
            rank += 1
            fused[file_id] += 1.0 / (cfg.rrf_k + rank)
            if file_id not in best or distance < best[file_id][0]:
                best[file_id] = (distance, float(tau), bpm)
    if len(taus) > 1 and cfg.contour_merge == "rrf":
        order = sorted(best, key=lambda i: (-fused[i], best[i][0]))
    else:
        order = sorted(best, key=lambda i: best[i][0])
    return Found([SearchResult(paths[i], 1.0 - best[i][0], best[i][2], best[i][1]) for i in order[:k]], available)


class VectorLibrary:
    """Track vectors held in memory and searched like a library, without a database or audio.

    What the evaluation on the tempo corpus (``scripts/eval_search.py``) and the knob benchmark
    (``benchmarks/bench_knob.py``) search, so that they measure the very code a
    :class:`engine.library.facade.Library` runs. Row ``i`` of ``vectors`` is file id ``i``.

    Parameters
    ----------
    paths : (N,) distinct paths, the names results report
    vectors : (N, D) float32 track vectors
    bpms : (N,) each file's tempo in BPM, None for no tempo
    translator : f(z, tau), usually a :class:`engine.models.translation.Translator`
    index : an index already holding ids 0..N-1 with these vectors (a cached HNSW graph); when
        None one is built, exact or HNSW by :func:`engine.search.vector_index.make_index`
    beliefs : each file's tempo readings (BPM, share), for the tempo gate; by default its BPM alone
    """

    def __init__(self, paths: Sequence[str], vectors: np.ndarray, bpms: Sequence[float | None],
                 translator: TranslateFn, index: VectorIndex | None = None,
                 beliefs: Sequence[TempoBelief] | None = None, cfg: SearchConfig = SEARCH):
        if not len(paths) == len(vectors) == len(bpms):
            raise ValueError(f"{len(paths)} paths, {len(vectors)} vectors and {len(bpms)} BPMs: one each per file")
        self.vectors = np.asarray(vectors, dtype=np.float32)
        self.paths = dict(enumerate(paths))
        self.bpms = dict(enumerate(bpms))
        self.translator = translator
        self._rows = {p: i for i, p in self.paths.items()}
        ids = np.arange(len(self.vectors), dtype=np.int64)
        if index is None:
            index = make_index(len(self.vectors), self.vectors.shape[1])
            index.build(ids, self.vectors)
        elif len(index) != len(self.vectors):
            raise ValueError(f"the index holds {len(index)} vectors, not the {len(self.vectors)} given")
        self.index = index
        if beliefs is None:
            beliefs = [() if b is None else ((b, 1.0),) for b in bpms]
        self.gate = TempoGate(ids, self.vectors.copy(), dict(enumerate(beliefs)), cfg.gate_min_share, index)

    def query(self, path: str | Path) -> Query:
        row = self._rows.get(str(path))
        if row is None:
            raise SearchError(f"{_name(str(path))} is not in this set of vectors")
        return Query(str(path), self.vectors[row], self.bpms[row], row)

    def nearest(self, vectors: np.ndarray, taus: np.ndarray, k: int, exclude: Query | None = None,
                window: tuple[float, float] | None = None, cfg: SearchConfig = SEARCH) -> Found:
        return merged_neighbours(self.index, self.gate, self.paths, self.bpms, vectors, taus, k, exclude, window, cfg)


DEFAULT_WINDOW = "default"  # a session's BPM window until one is set: the gate in target mode, none otherwise


def checked_target_bpm(bpm: float) -> float:
    """A target tempo the knob can ask for, or :class:`SearchError` in a musician's words."""
    if not math.isfinite(bpm) or bpm <= 0:
        raise SearchError(f"The target tempo must be a number of BPM from {SEARCH.bpm_min:g} to {SEARCH.bpm_max:g}, "
                          f"like 140 (got {bpm:g})")
    if not SEARCH.bpm_min <= bpm <= SEARCH.bpm_max:
        raise SearchError(f"A target tempo of {bpm:g} BPM is out of range: choose {SEARCH.bpm_min:g} to "
                          f"{SEARCH.bpm_max:g} BPM")
    return float(bpm)


def checked_ratio(tau: float) -> float:
    """A tempo ratio T'/T the knob can ask for, or :class:`SearchError` in a musician's words."""
    if not (math.isfinite(tau) and SEARCH.ratio_min <= tau <= SEARCH.ratio_max):
        raise SearchError(f"A tempo ratio of {tau:g} is out of range: choose {SEARCH.ratio_min:g} (four times "
                          f"slower) to {SEARCH.ratio_max:g} (four times faster); 2 is twice as fast")
    return float(tau)


def checked_window(percent: float | None) -> float | None:
    """A BPM window in percent; None or 0 turns the gate off."""
    if percent is None or percent == 0:
        return None
    if not (math.isfinite(percent) and 0 < percent <= SEARCH.bpm_window_max):
        raise SearchError(f"A BPM window of {percent:g} % is out of range: choose 0 (off) to "
                          f"{SEARCH.bpm_window_max:g} %")
    return float(percent)


@dataclass(frozen=True)
class WindowReport:
    """The BPM window of the last gated search, and how many files it held besides the query.

    lo, hi, centre : BPM; percent : the half-width; available : files in the window, the query left out
    """

    lo: float
    hi: float
    centre: float
    percent: float
    available: int

    def short_of(self, k: int) -> bool:
        return self.available < k

    def message(self) -> str:
        files = "file" if self.available == 1 else "files"
        return f"Only {self.available} {files} near {self.centre:.0f} BPM (within {self.percent:g} %)"


class SearchSession:
    """One query and the knob's settings; :meth:`results` gives the current neighbour list.

    In ``target`` mode the tempo gate is on by default (``cfg.bpm_window``): results are files whose
    tempo lies within that many percent of the target, ranked by similarity to f(z, tau).
    :meth:`set_bpm_window` changes it; ``None`` (or 0) turns it off, leaving the paper's pure
    translation search. After each gated search :attr:`window` says how many files the window held.
    """

    def __init__(self, library: Searchable, k: int = 10, cfg: SearchConfig = SEARCH):
        self.library, self.k, self.cfg = library, k, cfg
        self.query: Query | None = None
        self.mode = "similar"
        self.target_bpm: float | None = None
        self.ratio: float | None = None
        self.bpm_window: float | None | str = DEFAULT_WINDOW  # percent
        self.tempo_only = False  # leave out files with no tempo (one-shots): nothing to be "at a tempo"
        self.window: WindowReport | None = None
        self._translated: OrderedDict[float, np.ndarray] = OrderedDict()

    def set_query(self, path) -> Query:
        self.query = self.library.query(path)
        self._translated.clear()
        return self.query

    def set_mode(self, mode: str) -> None:
        if mode not in MODES:
            raise SearchError(f"Unknown search mode {mode!r}: choose one of {', '.join(MODES)}")
        self.mode = mode

    def set_target_bpm(self, bpm: float | None) -> None:
        """The knob in BPM; clears a ratio set directly."""
        self.target_bpm, self.ratio = (None if bpm is None else checked_target_bpm(bpm)), None

    def set_ratio(self, tau: float | None) -> None:
        """The knob as a ratio T'/T (2 = twice as fast); clears a target BPM."""
        self.ratio, self.target_bpm = (None if tau is None else checked_ratio(tau)), None

    def set_bpm_window(self, percent: float | None | str) -> None:
        """Percent around the knob's tempo; None or 0: no gate; :data:`DEFAULT_WINDOW`: the mode's default."""
        self.bpm_window = percent if percent == DEFAULT_WINDOW else checked_window(percent)

    def set_tempo_only(self, tempo_only: bool) -> None:
        """Leave out files with no tempo even without a window. A kick sounds "like" a drum loop at any
        tempo, so without this one-shots crowd an ungated "at this tempo" list."""
        self.tempo_only = tempo_only

    def window_percent(self) -> float | None:
        """The BPM window in force for the current mode, percent (None: no gate)."""
        if self.bpm_window == DEFAULT_WINDOW:
            return self.cfg.bpm_window if self.mode == "target" else None
        return self.bpm_window

    def tau(self) -> float:
        """The ratio a ``target`` search translates by."""
        if self.ratio is not None:
            return self.ratio
        q = self._require_query()
        if self.target_bpm is None:
            raise SearchError("Set a target BPM or a ratio for a search at a tempo")
        if q.bpm is None:
            raise SearchError(f"{_name(q.path)} has no tempo (a one-shot?), so it cannot be played at another tempo: "
                              "use Similar, or give it a BPM")
        return self.target_bpm / q.bpm

    def results(self) -> list[SearchResult]:
        q = self._require_query()
        if self.mode == "similar":
            taus = np.array([1.0])
        elif self.mode == "target":
            taus = np.array([self.tau()])
        else:
            taus = np.geomspace(self.cfg.contour_min, self.cfg.contour_max, self.cfg.contour_points)
        window = self._window()
        vectors = self._vectors_at(taus)
        found = self.library.nearest(vectors, taus, self.k, exclude=q, window=window[:2] if window else None,
                                     cfg=self.cfg)
        self.window = None
        if window is not None and found.available is not None and window[2] is not None:
            self.window = WindowReport(window[0], window[1], window[2], window[3], found.available)
        return found.results

    def _window(self) -> tuple[float, float, float | None, float | None] | None:
        """(lo, hi, centre, percent) of the BPM window, in any mode: around the knob's tempo when one is
        set (the target BPM, or the query's BPM times the ratio), else around the query's own tempo.

        So ``similar`` with a target BPM and a window is the plain BPM filter of any sample browser.
        """
        percent = self.window_percent()
        if percent is None:
            return (0.0, math.inf, None, None) if self.tempo_only else None  # a file with no tempo is in no window
        q = self._require_query()
        if self.target_bpm is not None:
            centre = self.target_bpm
        elif q.bpm is not None:
            centre = q.bpm * (self.ratio if self.ratio is not None else 1.0)
        else:
            raise SearchError(f"{_name(q.path)} has no tempo (a one-shot?), so there is no tempo to search at: "
                              "use Similar, set a target BPM, or give it a BPM")
        half = percent / 100.0
        return centre * (1 - half), centre * (1 + half), centre, percent

    def _vectors_at(self, taus: np.ndarray) -> np.ndarray:
        """The query at each tempo ratio (M,) -> (M, D): translations already made are reused, the rest
        made in one batch (a contour grid of 33 costs 0.1 ms batched, 1.2-1.9 ms one by one)."""
        q = self._require_query()
        keys = [round(float(t), 6) for t in taus]
        missing = list(dict.fromkeys(k for k in keys if k != 1.0 and k not in self._translated))
        if missing:
            moved = self.library.translator(np.repeat(q.vector[None, :], len(missing), axis=0), np.array(missing))
            self._translated.update(zip(missing, moved))
        out = np.stack([q.vector if k == 1.0 else self._translated[k] for k in keys])
        for k in keys:
            if k != 1.0:
                self._translated.move_to_end(k)
        while len(self._translated) > self.cfg.cached_translations:
            self._translated.popitem(last=False)
        return out

    def _require_query(self) -> Query:
        if self.query is None:
            raise SearchError("Choose a query file first")
        return self.query


def _name(path: str) -> str:
    return path.rsplit("/", 1)[-1]
