"""Vector index: exact numpy scan against hnswlib HNSW at d = 282, and where HNSW starts to win.

Data are 500 Gaussian clusters (centres N(0, 1), spread 0.5 per axis), which is harder for a graph
index than real embeddings: within a cluster the noise is isotropic in all 282 dimensions, so the
neighbours of a point are barely nearer than the rest of its cluster. Queries are held-out points
from the same clusters, answered one at a time as the desktop app asks them. The smaller sizes
locate the crossover that sets ``IndexConfig.exact_threshold``.
"""

from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from engine.config import INDEX
from engine.search.vector_index import ExactIndex, HnswIndex, VectorIndex

DIM = 282
SIZES = (2_000, 5_000, 10_000, 100_000)
N_QUERIES = 200
K = 10


def clustered_vectors(n: int, dim: int = DIM, n_clusters: int = 500, seed: int = 0) -> np.ndarray:
    """(n, dim) float32 points drawn from ``n_clusters`` isotropic Gaussians."""
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((n_clusters, dim), dtype=np.float32)
    members = rng.integers(n_clusters, size=n)
    return centres[members] + 0.5 * rng.standard_normal((n, dim), dtype=np.float32)


@dataclass(frozen=True)
class Row:
    """One library size: seconds, milliseconds per single query, recall in [0, 1], megabytes."""

    n: int
    exact_build_s: float
    hnsw_build_s: float
    hnsw_load_s: float
    exact_ms: tuple[float, float]  # p50, p95
    hnsw_ms: tuple[float, float]
    recall: float
    exact_mb: float
    hnsw_mb: float


def timed(f, *args) -> float:
    start = time.perf_counter()
    f(*args)
    return time.perf_counter() - start


def single_query_ms(index: VectorIndex, queries: np.ndarray) -> tuple[float, float]:
    """p50 and p95 latency of one query at a time (ms), as the app asks them."""
    ms = [timed(index.query, q, K) * 1e3 for q in queries]
    p50, p95 = np.percentile(ms, [50, 95])
    return float(p50), float(p95)


def measure(n: int) -> Row:
    data = clustered_vectors(n + N_QUERIES, seed=n)
    vectors, queries = data[:n], data[n:]
    ids = np.arange(n, dtype=np.int64)
    exact, hnsw = ExactIndex(DIM), HnswIndex(DIM)
    exact_build = timed(exact.build, ids, vectors)
    hnsw_build = timed(hnsw.build, ids, vectors)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "index.hnsw"
        hnsw.save(path, fingerprint="bench")
        hnsw_load = timed(HnswIndex.load, path, "bench")
    truth, found = exact.query(queries, K).ids, hnsw.query(queries, K).ids
    recall = np.mean([len(np.intersect1d(t, f)) / K for t, f in zip(truth, found)])
    exact_ms, hnsw_ms = single_query_ms(exact, queries), single_query_ms(hnsw, queries)
    return Row(n, exact_build, hnsw_build, hnsw_load, exact_ms, hnsw_ms, float(recall),
               exact.nbytes / 2**20, hnsw.nbytes / 2**20)


def main() -> None:
    print(f"\n## Vector index, d = {DIM}, 500 clusters, {N_QUERIES} single queries, k = {K}")
    print(f"(HNSW M = {INDEX.hnsw_m}, ef_construction = {INDEX.hnsw_ef_construction}, ef = {INDEX.hnsw_ef_search}, "
          f"{INDEX.threads} build threads; the app uses exact below {INDEX.exact_threshold} tracks)")
    print("| n | exact build (s) | hnsw build (s) | hnsw cache load (s) | exact p50/p95 (ms) | hnsw p50/p95 (ms) "
          "| hnsw recall@10 | exact MB | hnsw MB |")
    print("|---|---|---|---|---|---|---|---|---|")
    for n in SIZES:
        r = measure(n)
        print(f"| {r.n} | {r.exact_build_s:.2f} | {r.hnsw_build_s:.1f} | {r.hnsw_load_s:.2f} "
              f"| {r.exact_ms[0]:.3f} / {r.exact_ms[1]:.3f} | {r.hnsw_ms[0]:.3f} / {r.hnsw_ms[1]:.3f} "
              f"| {r.recall:.3f} | {r.exact_mb:.0f} | {r.hnsw_mb:.0f} |", flush=True)


if __name__ == "__main__":
    main()
