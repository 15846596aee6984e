"""The tempo knob: latency from a knob turn to the new result list, at 10k, 100k and 1M tracks.

Everything runs through the app's code path: a :class:`engine.search.session.SearchSession` over a
:class:`engine.search.session.VectorLibrary` (what a Library searches, without the database) on an HNSW
index, with the shipped translator and the real track-vector dimension, listing ``k`` = 20 results
as the app does (``DESKTOP.results``). The vectors are the clustered synthetic ones of ``bench_index``
(harder for HNSW than real embeddings). Tempi follow a sample library's mix
(:mod:`benchmarks.sample_library`: 10 % one-shots, clusters at 85-95, 120-128, 140 and 170-175 BPM,
one loop in five with a second, half- or double-tempo reading passed to the tempo gate as its
belief). Each graph is built once and cached under ``data/bench/`` (the 1M one takes about 3
minutes to build on 2 cores and 1.3 GB on disk; later runs load it in seconds).

Queries are library loops (files with a tempo), as when a user clicks one in the browser; each
session turns the knob ``TURNS`` times to a target drawn log-uniform over 60-200 BPM, so every turn
is a new translation (never one the session cached) and one search. Rows:

- ``target, ungated``: the paper's pure translation search, window off: one HNSW query over the
  whole library (one-shots included).
- ``target, any tempo (app)``: what the app's "Any tempo" runs in target mode: window off but
  loops only (``tempo_only``), an exact search over every file with a tempo (10k and 100k only).
- ``target, gated``: the default "at this tempo", the tempo gate at ``SEARCH.bpm_window``: an
  exact search over the window's slice. Beside it the slots filled (mean and min over the turns,
  out of ``k``) and how many files the window held (mean). Goal: p95 <= 5 ms at 100k files with
  every slot filled on every turn. 1M is left out (the gate's slice grows with the library).
- ``contour``: a fresh session per query (the contour does not depend on the knob, so this is the
  cost of switching to it or of a new query): one translation and one index query per grid point,
  merged.
"""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path

import numpy as np

from benchmarks.bench_index import clustered_vectors
from benchmarks.sample_library import machine, sample_tempi
from engine.config import DESKTOP, INDEX, SEARCH, SearchConfig
from engine.models.track_space import TrackSpace
from engine.search.session import DEFAULT_WINDOW, SearchSession, VectorLibrary
from engine.models.translation import Translator
from engine.search.vector_index import HnswIndex, IndexCacheError

SIZES = (10_000, 100_000, 1_000_000)
GATED_SIZES = (10_000, 100_000)  # the gate and the app's exact "any tempo" are timed up to here
CACHE_DIR = Path("data/bench")
QUERIES = 100  # library loops used as queries per size
TURNS = 4  # knob turns per target session: QUERIES * TURNS timed turns per cell
K = DESKTOP.results  # as the app lists
TARGETS = (60.0, 200.0)  # BPM, log-uniform
GOAL_N, GOAL_P95_MS = 100_000, 5.0


def cached_index(n: int, vectors: np.ndarray) -> tuple[HnswIndex, str]:
    """The HNSW graph of these vectors (ids 0..n-1) from data/bench/, built and saved on a miss."""
    path = CACHE_DIR / f"knob_{n}.hnsw"
    fingerprint = (f"clustered n={n} d={vectors.shape[1]} seed={n} M={INDEX.hnsw_m} "
                   f"ef_construction={INDEX.hnsw_ef_construction} seed={INDEX.hnsw_seed}")
    try:
        return HnswIndex.load(path, fingerprint, vectors.shape[1]), "cached"
    except IndexCacheError:
        started = time.perf_counter()
        index = HnswIndex(vectors.shape[1], capacity=n)
        index.build(np.arange(n, dtype=np.int64), vectors)
        built = time.perf_counter() - started
        index.save(path, fingerprint)
        return index, f"built in {built:.0f} s"


@dataclasses.dataclass
class Turns:
    """Per timed turn: milliseconds, results listed, files the window held (gated only)."""

    ms: list[float] = dataclasses.field(default_factory=list)
    filled: list[int] = dataclasses.field(default_factory=list)
    available: list[int] = dataclasses.field(default_factory=list)

    def p50_p95(self) -> tuple[float, float]:
        p50, p95 = np.percentile(self.ms, [50, 95])
        return float(p50), float(p95)

    def latency(self) -> str:
        return "{:.2f} / {:.2f}".format(*self.p50_p95())


def turn(library: VectorLibrary, rows: np.ndarray, window, tempo_only: bool, rng: np.random.Generator) -> Turns:
    """``TURNS`` knob turns per query to new targets, from setting the tempo to the new list."""
    out = Turns()
    for row in rows:
        session = SearchSession(library, k=K)
        session.set_query(library.paths[int(row)])
        session.set_mode("target")
        session.set_bpm_window(window)
        session.set_tempo_only(tempo_only)
        for target in np.exp(rng.uniform(np.log(TARGETS[0]), np.log(TARGETS[1]), TURNS)).round(1):
            started = time.perf_counter()
            session.set_target_bpm(float(target))
            results = session.results()
            out.ms.append((time.perf_counter() - started) * 1e3)
            out.filled.append(len(results))
            if session.window is not None:
                out.available.append(session.window.available)
    return out


def contour_ms(library: VectorLibrary, rows: np.ndarray, cfg: SearchConfig) -> list[float]:
    """Milliseconds for a contour list from a fresh session: every grid point translated and searched."""
    out = []
    for row in rows:
        started = time.perf_counter()
        session = SearchSession(library, k=K, cfg=cfg)
        session.set_query(library.paths[int(row)])
        session.set_mode("contour")
        session.results()
        out.append((time.perf_counter() - started) * 1e3)
    return out


def percentiles(ms: list[float]) -> str:
    p50, p95 = np.percentile(ms, [50, 95])
    return f"{p50:.2f} / {p95:.2f}"


def main(sizes: tuple[int, ...] = SIZES) -> None:
    space = TrackSpace.load()
    translator = Translator.load(space)
    dim = space.dimension
    grids = sorted({13, SEARCH.contour_points})
    print(f"\n## Tempo knob: turn -> new result list (ms, p50 / p95), d = {dim}, k = {K}, HNSW (M = {INDEX.hnsw_m}, "
          f"ef = {INDEX.hnsw_ef_search}, {INDEX.threads} threads), {QUERIES * TURNS} turns or {QUERIES} contour "
          f"lists per cell; graphs cached in {CACHE_DIR}/")
    print(machine())
    print(f"Targets log-uniform {TARGETS[0]:.0f}-{TARGETS[1]:.0f} BPM, each turn a new translation; gated = the "
          f"default window, +-{SEARCH.bpm_window:g} % of the target. Goal: gated p95 <= {GOAL_P95_MS:g} ms at "
          f"{GOAL_N:,} files with all {K} slots filled.\n")
    print("| tracks | index | target, ungated (HNSW) | target, any tempo (app: loops only, exact) | "
          f"target, gated +-{SEARCH.bpm_window:g} % | gated: slots filled, mean / min of {K} | "
          "gated: files in window, mean | "
          + " | ".join(f"contour, {g} points{' (default)' if g == SEARCH.contour_points else ''}" for g in grids) + " |")
    print("|---" * (7 + len(grids)) + "|")
    verdict = None
    for n in sizes:
        vectors = clustered_vectors(n, dim, seed=n)
        tempi = sample_tempi(n, seed=n)
        rng = np.random.default_rng(n)
        index, how = cached_index(n, vectors)
        library = VectorLibrary([f"/bench/{i:07d}.wav" for i in range(n)], vectors, tempi.bpms, translator, index,
                                beliefs=tempi.beliefs)
        loops = np.flatnonzero([b is not None for b in tempi.bpms])
        rows = rng.choice(loops, QUERIES, replace=False)
        contour_ms(library, rows[:3], SEARCH)  # warm up torch and the graph's pages
        ungated = turn(library, rows, None, False, rng)
        cells = [ungated.latency()]
        if n in GATED_SIZES:
            turn(library, rows[:5], DEFAULT_WINDOW, False, rng)  # warm up the gate's pages
            cells.append(turn(library, rows, None, True, rng).latency())
            gated = turn(library, rows, DEFAULT_WINDOW, False, rng)
            cells += [gated.latency(), f"{np.mean(gated.filled):.2f} / {min(gated.filled)}",
                      f"{np.mean(gated.available):,.0f}"]
            if n == GOAL_N:
                p95 = gated.p50_p95()[1]
                ok = p95 <= GOAL_P95_MS and min(gated.filled) == K
                verdict = (f"Goal at {n:,} files: gated p95 {p95:.2f} ms (<= {GOAL_P95_MS:g}), slots filled min "
                           f"{min(gated.filled)} of {K}: {'met' if ok else 'NOT met'}")
        else:
            cells += ["-"] * 4
        cells += [percentiles(contour_ms(library, rows, dataclasses.replace(SEARCH, contour_points=g))) for g in grids]
        print(f"| {n:,} | {how} | " + " | ".join(cells) + " |", flush=True)
        del library, index, vectors
    if verdict:
        print(f"\n{verdict}")


if __name__ == "__main__":
    import sys

    main(tuple(int(a) for a in sys.argv[1:]) or SIZES)
