"""The tempo knob: latency from a knob turn to the new result list, at 10k, 100k and 1M tracks.

Everything runs through the app's code path: a :class:`engine.search.SearchSession` over a
:class:`engine.search.VectorLibrary` (what a Library searches, without the database) on an HNSW
index, with the shipped translator and the real track-vector dimension. The vectors are the
clustered synthetic ones of ``bench_index`` (harder for HNSW than real embeddings); each file gets a
BPM log-uniform in 60-180. Each graph is built once and cached under ``data/bench/`` (the 1M one
takes about 3 minutes to build on 2 cores and 1.3 GB on disk; later runs load it in seconds).

Queries are library files, as when a user clicks one in the browser. Rows:

- ``target``: one session per query, the knob turned to a new random tempo (0.5-2x) each time, never
  one already visited: one translation and one index query.
- ``target, +-4 % window``: the same with the BPM window on, which filters the neighbours and fetches
  more when too few are left.
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
from engine.config import INDEX, SEARCH, TEMPO, SearchConfig
from engine.embed.track_vector import TrackSpace
from engine.search import SearchSession, VectorLibrary
from engine.translation import Translator
from engine.vector_index import HnswIndex, IndexCacheError

SIZES = (10_000, 100_000, 1_000_000)
CACHE_DIR = Path("data/bench")
QUERIES = 100  # library files used as queries per size
TURNS = 4  # knob turns per target session: QUERIES * TURNS timed turns per row
K = 10


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


def percentiles(ms: list[float]) -> str:
    p50, p95 = np.percentile(ms, [50, 95])
    return f"{p50:.2f} / {p95:.2f}"


def turn_ms(library: VectorLibrary, rows: np.ndarray, window: float | None, rng: np.random.Generator) -> list[float]:
    """Milliseconds from setting a new target tempo to the new list, ``TURNS`` turns per query."""
    out = []
    for row in rows:
        session = SearchSession(library, k=K)
        query = session.set_query(library.paths[int(row)])
        session.set_mode("target")
        session.set_bpm_window(window)
        for tau in np.exp(rng.uniform(np.log(0.5), np.log(2.0), TURNS)):
            started = time.perf_counter()
            session.set_target_bpm(query.bpm * float(tau))
            session.results()
            out.append((time.perf_counter() - started) * 1e3)
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


def main() -> None:
    space = TrackSpace.load()
    translator = Translator.load(space)
    dim = space.dimension
    grids = sorted({13, SEARCH.contour_points})
    window = TEMPO.tolerance * 100
    print(f"\n## Tempo knob: turn -> new result list (ms, p50 / p95), d = {dim}, k = {K}, HNSW (M = {INDEX.hnsw_m}, "
          f"ef = {INDEX.hnsw_ef_search}, {INDEX.threads} threads), {QUERIES * TURNS} turns or {QUERIES} contour "
          f"lists per cell; graphs cached in {CACHE_DIR}/")
    print(f"| tracks | index | target | target, +-{window:.0f} % window | "
          + " | ".join(f"contour, {g} points{' (default)' if g == SEARCH.contour_points else ''}" for g in grids) + " |")
    print("|---" * (3 + len(grids) + 1) + "|")
    for n in SIZES:
        vectors = clustered_vectors(n, dim, seed=n)
        rng = np.random.default_rng(n)
        bpms = np.exp(rng.uniform(np.log(60.0), np.log(180.0), n)).round(1).tolist()
        index, how = cached_index(n, vectors)
        library = VectorLibrary([f"/bench/{i:07d}.wav" for i in range(n)], vectors, bpms, translator, index)
        rows = rng.choice(n, QUERIES, replace=False)
        contour_ms(library, rows[:3], SEARCH)  # warm up torch and the graph's pages
        cells = [percentiles(turn_ms(library, rows, None, rng)), percentiles(turn_ms(library, rows, window, rng))]
        cells += [percentiles(contour_ms(library, rows, dataclasses.replace(SEARCH, contour_points=g))) for g in grids]
        print(f"| {n:,} | {how} | " + " | ".join(cells) + " |", flush=True)
        del library, index, vectors


if __name__ == "__main__":
    main()
