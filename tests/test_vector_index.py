"""Vector index: exact answers, HNSW recall, removal, growth, and the cache file's safety checks."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from benchmarks.bench_index import clustered_vectors
from engine.config import INDEX
from engine.search.vector_index import (
    CacheCorrupt,
    CacheMissing,
    CacheStale,
    ExactIndex,
    HnswIndex,
    VectorIndexError,
    make_index,
)

DIM = 24
KINDS = [ExactIndex, HnswIndex]


def random_ids(n: int, seed: int = 0) -> np.ndarray:
    """Distinct int64 ids spread over the whole range, negatives included, like nothing sequential."""
    rng = np.random.default_rng(seed)
    return rng.choice(np.iinfo(np.int64).max, size=n, replace=False) * rng.choice([-1, 1], size=n)


def brute_force(ids: np.ndarray, vectors: np.ndarray, queries: np.ndarray, k: int) -> tuple[np.ndarray, ...]:
    """(m, k) ids and cosine distances by sorting every distance in float64."""
    unit = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    q = queries / np.linalg.norm(queries, axis=1, keepdims=True)
    dist = 1.0 - q.astype(np.float64) @ unit.T.astype(np.float64)
    order = np.argsort(dist, axis=1)[:, :k]
    return ids[order], np.take_along_axis(dist, order, axis=1)


@pytest.fixture
def data() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(3)
    return random_ids(300), rng.standard_normal((300, DIM)).astype(np.float32) * rng.uniform(0.1, 10, (300, 1))


def built(kind, ids: np.ndarray, vectors: np.ndarray):
    index = kind(vectors.shape[1])
    index.build(ids, vectors)
    return index


def test_exact_index_returns_true_neighbours_in_order(data):
    ids, vectors = data
    queries = np.random.default_rng(4).standard_normal((20, DIM)).astype(np.float32)
    found = built(ExactIndex, ids, vectors).query(queries * 7.0, 9)  # raw scale must not matter
    want_ids, want_dist = brute_force(ids, vectors, queries, 9)
    assert found.ids.dtype == np.int64 and found.distances.dtype == np.float32
    np.testing.assert_array_equal(found.ids, want_ids)
    np.testing.assert_allclose(found.distances, want_dist, atol=1e-5)


def test_exact_batches_agree_with_single_queries(data):
    ids, vectors = data
    index = ExactIndex(DIM, config=dataclasses.replace(INDEX, exact_block_floats=700))
    index.build(ids, vectors)  # blocks of 2 queries: the batch loop runs many times
    batch = index.query(vectors[:7], 5)
    for row, v in enumerate(vectors[:7]):
        single = index.query(v, 5)
        assert single.ids.shape == (1, 5)
        np.testing.assert_array_equal(single.ids[0], batch.ids[row])
    assert (batch.ids[:, 0] == ids[:7]).all()  # each stored vector is its own nearest


def test_hnsw_recall_at_10_on_clustered_vectors():
    data = clustered_vectors(2_100, dim=64, n_clusters=20, seed=1)
    vectors, queries = data[:2_000], data[2_000:]
    ids = np.arange(2_000, dtype=np.int64) * 3 + 10
    found = built(HnswIndex, ids, vectors).query(queries, 10).ids
    truth, _ = brute_force(ids, vectors, queries, 10)
    recall = np.mean([len(np.intersect1d(f, t)) / 10 for f, t in zip(found, truth)])
    assert recall >= 0.9


@pytest.mark.parametrize("kind", KINDS)
def test_removed_ids_never_come_back(kind, data):
    ids, vectors = data
    index = built(kind, ids, vectors)
    gone = ids[::3]
    index.remove(np.concatenate([gone, [12345]]))  # an unknown id is ignored
    index.remove(gone[:5])  # and removing twice is harmless
    assert len(index) == len(ids) - len(gone)
    found = index.query(vectors[::3], len(ids))
    assert found.ids.shape == (len(gone), len(index))
    assert not np.isin(found.ids, gone).any()
    assert set(found.ids[0]) == set(ids) - set(gone)


@pytest.mark.parametrize("kind", KINDS)
def test_nearly_everything_removed_still_answers(kind, data):
    ids, vectors = data
    index = built(kind, ids, vectors)
    index.remove(ids[5:])
    found = index.query(vectors[:3], 10)
    assert found.ids.shape == (3, 5)
    assert (found.ids[:, 0] == ids[:3]).all()
    assert set(found.ids[0]) == set(ids[:5])


@pytest.mark.parametrize("kind", KINDS)
def test_adding_an_id_again_replaces_its_vector_even_after_removal(kind, data):
    ids, vectors = data
    index = built(kind, ids, vectors)
    index.remove(ids[:1])
    index.add(ids[:2], vectors[[10, 11]])  # ids[0] revived, ids[1] overwritten
    assert len(index) == len(ids)
    found = index.query(vectors[[10, 11]], 3)
    assert set(found.ids[0][:2]) == {ids[0], ids[10]}
    assert set(found.ids[1][:2]) == {ids[1], ids[11]}
    np.testing.assert_allclose(found.distances[:, :2], 0.0, atol=1e-5)


@pytest.mark.parametrize("kind", KINDS)
def test_k_beyond_the_library_returns_what_there_is(kind, data):
    ids, vectors = data
    index = built(kind, ids[:4], vectors[:4])
    found = index.query(vectors[:2], 10)
    assert found.ids.shape == found.distances.shape == (2, 4)
    assert set(found.ids[1]) == set(ids[:4])
    assert (np.diff(found.distances, axis=1) >= -1e-6).all()


@pytest.mark.parametrize("kind", KINDS)
def test_empty_index_answers_empty(kind):
    index = kind(DIM)
    index.build(np.empty(0, np.int64), np.empty((0, DIM), np.float32))
    found = index.query(np.ones((3, DIM), np.float32), 5)
    assert len(index) == 0 and found.ids.shape == (3, 0) and found.distances.shape == (3, 0)


@pytest.mark.parametrize("kind", KINDS)
def test_incremental_adds_grow_past_the_initial_capacity(kind, data):
    ids, vectors = data
    index = HnswIndex(DIM, capacity=8) if kind is HnswIndex else kind(DIM)
    for start in range(0, len(ids), 37):
        index.add(ids[start : start + 37], vectors[start : start + 37])
    assert len(index) == len(ids)
    assert (index.query(vectors, 1).ids[:, 0] == ids).all()


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(
    "bad",
    [
        lambda ids, v: (ids, v[:, :-1]),  # wrong dimension
        lambda ids, v: (ids[:-1], v),  # one id short
        lambda ids, v: (np.r_[ids[:-1], ids[0]], v),  # an id twice
        lambda ids, v: (ids, np.where(np.arange(len(v))[:, None] == 2, np.nan, v)),  # a NaN row
        lambda ids, v: (ids.astype(np.float64), v),  # ids that are not integers
    ],
)
def test_malformed_input_is_refused(kind, bad, data):
    index = kind(DIM)
    with pytest.raises(VectorIndexError):
        index.add(*bad(*data))
    assert len(index) == 0


def test_make_index_picks_exact_below_the_threshold():
    assert isinstance(make_index(999, DIM, threshold=1000), ExactIndex)
    assert isinstance(make_index(1000, DIM, threshold=1000), HnswIndex)
    assert make_index(10, DIM).dim == DIM


@pytest.fixture
def saved(tmp_path, data):
    ids, vectors = data
    index = built(HnswIndex, ids, vectors)
    index.remove(ids[:10])
    path = tmp_path / "cache" / "tracks.hnsw"
    index.save(path, fingerprint="model-v1:abc")
    return index, path


def test_save_load_round_trip(saved, data):
    ids, vectors = data
    index, path = saved
    loaded = HnswIndex.load(path, "model-v1:abc", dim=DIM)
    assert len(loaded) == len(index) == len(ids) - 10 and loaded.dim == DIM
    found = loaded.query(vectors[:20], len(ids))
    assert not np.isin(found.ids, ids[:10]).any()
    np.testing.assert_array_equal(found.ids, index.query(vectors[:20], len(ids)).ids)
    assert sorted(p.name for p in path.parent.iterdir()) == ["tracks.hnsw", "tracks.hnsw.json"]  # no temporaries
    loaded.add(ids[:1], vectors[:1])  # a loaded index keeps working
    assert loaded.query(vectors[0], 1).ids[0, 0] == ids[0]


def test_saving_over_an_old_cache_replaces_it(saved, data):
    ids, vectors = data
    _, path = saved
    built(HnswIndex, ids[:50], vectors[:50]).save(path, fingerprint="model-v1:def")
    assert len(HnswIndex.load(path, "model-v1:def")) == 50
    with pytest.raises(CacheStale):
        HnswIndex.load(path, "model-v1:abc")


def test_stale_cache_is_reported(saved):
    _, path = saved
    with pytest.raises(CacheStale, match="other tracks"):
        HnswIndex.load(path, "model-v2:abc")
    with pytest.raises(CacheStale, match="expected 32"):
        HnswIndex.load(path, "model-v1:abc", dim=32)


def test_missing_cache_or_sidecar_is_reported(saved, tmp_path):
    _, path = saved
    with pytest.raises(CacheMissing):
        HnswIndex.load(tmp_path / "nowhere.hnsw", "model-v1:abc")
    path.with_name(path.name + ".json").unlink()  # what an interrupted save leaves
    with pytest.raises(CacheMissing):
        HnswIndex.load(path, "model-v1:abc")


@pytest.mark.parametrize(
    "damage",
    [
        lambda p: p.write_bytes(p.read_bytes()[: p.stat().st_size // 2]),  # truncated
        lambda p: p.write_bytes(p.read_bytes()[:100] + b"\xff" * 8 + p.read_bytes()[108:]),  # same size, flipped
        lambda p: p.with_name(p.name + ".json").write_text("{not json"),
        lambda p: p.with_name(p.name + ".json").write_text('{"format": 1}'),
    ],
)
def test_corrupt_cache_is_reported(saved, damage):
    _, path = saved
    damage(path)
    with pytest.raises(CacheCorrupt):
        HnswIndex.load(path, "model-v1:abc")
