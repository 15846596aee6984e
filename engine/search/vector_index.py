"""Nearest-neighbour search over track vectors by cosine distance.

The index is a cache. The durable copy of every vector lives in the SQLite store; an index is built
from it, may be saved to a cache file to skip the rebuild at the next start, and may always be
thrown away. Two implementations sit behind one interface:

* :class:`ExactIndex` keeps the unit vectors in one numpy matrix and answers by matrix product:
  exact, nothing to build, and under a few thousand tracks as fast as the graph.
* :class:`HnswIndex` wraps hnswlib's HNSW graph for big libraries, where a full scan per query
  would be felt; recall is tuned in ``engine.config.IndexConfig``.

:func:`make_index` picks one from the library size. Both take raw vectors (they normalise
internally), arbitrary int64 ids (database row ids, negative ones included), and answer with a
:class:`Neighbours`, nearest first. Neither is safe to modify from one thread while another queries.
"""

from __future__ import annotations

import hashlib
import json
import os
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import hnswlib
import numpy as np
from threadpoolctl import ThreadpoolController

from engine.audio.paths import temporary_beside
from engine.config import INDEX, IndexConfig
from engine.errors import SearchError

CACHE_FORMAT = 1  # bump when the cache layout changes, so old caches read as stale


class VectorIndexError(SearchError):
    """Ids or vectors the index cannot take: wrong shape, NaN or infinite values, an id given twice."""


class IndexCacheError(SearchError, RuntimeError):
    """A saved index cannot be used; the caller rebuilds it from the database."""


class CacheMissing(IndexCacheError):
    """No complete cache at that path (first start, or a save that was interrupted)."""


class CacheStale(IndexCacheError):
    """The cache was saved for other vectors (a different fingerprint, dimension or format)."""


class CacheCorrupt(IndexCacheError):
    """The cache file is damaged: its size or checksum differs from what was recorded, or it does not parse."""


@dataclass(frozen=True, eq=False)
class Neighbours:
    """Answer to a batch of queries, nearest first along each row.

    Attributes
    ----------
    ids : (m, k) int64
        Ids of the neighbours of each of the m queries; k is ``min(k asked, len(index))``.
    distances : (m, k) float32
        Cosine distances ``1 - cos`` in [0, 2] (up to rounding), ascending along each row.
    """

    ids: np.ndarray
    distances: np.ndarray


class VectorIndex(ABC):
    """Cosine nearest-neighbour index from int64 ids to vectors of a fixed dimension.

    The public methods check their arguments once here, so every implementation receives ids as
    (n,) int64 and vectors as C-contiguous (n, dim) float32 with finite values.
    """

    def __init__(self, dim: int):
        if dim < 1:
            raise VectorIndexError(f"vector dimension must be positive, got {dim}")
        self._dim = dim

    @property
    def dim(self) -> int:
        """Dimension d of the vectors this index holds."""
        return self._dim

    @abstractmethod
    def __len__(self) -> int:
        """Number of ids that queries can return (removed ones excluded)."""

    @property
    @abstractmethod
    def nbytes(self) -> int:
        """Bytes the vectors, ids and graph occupy in memory (Python-side id sets excluded)."""

    def build(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        """Replace the whole content with these vectors.

        Parameters
        ----------
        ids : (n,) int64, all distinct
        vectors : (n, d) float, raw (not normalised)
        """
        self._build(*self._checked(ids, vectors))

    def add(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        """Insert vectors; an id already present (or removed earlier) takes the new vector.

        Parameters
        ----------
        ids : (n,) int64, distinct within the call
        vectors : (n, d) float, raw
        """
        ids, vectors = self._checked(ids, vectors)
        if len(ids):
            self._add(ids, vectors)

    def remove(self, ids: np.ndarray) -> None:
        """Drop ids so that no query returns them; ids not in the index are ignored.

        Ignoring unknown ids keeps removal idempotent, so the caller can replay deletions from the
        database without first asking which ones the cache already saw.
        """
        self._remove(_as_ids(ids))

    def query(self, vectors: np.ndarray, k: int) -> Neighbours:
        """The k nearest ids of each query vector.

        Parameters
        ----------
        vectors : (m, d) or (d,) float, raw
            A single (d,) vector is answered as a batch of one.
        k : int
            Neighbours wanted per query; fewer come back when the index holds fewer.

        Returns
        -------
        Neighbours
            ids and distances of shape (m, min(k, len(self))).
        """
        if k < 0:
            raise VectorIndexError(f"number of neighbours must not be negative, got {k}")
        queries = self._checked_vectors(np.atleast_2d(vectors))
        k = min(k, len(self))
        if k == 0 or len(queries) == 0:
            return Neighbours(np.empty((len(queries), 0), np.int64), np.empty((len(queries), 0), np.float32))
        return self._search(queries, k)

    @abstractmethod
    def _build(self, ids: np.ndarray, vectors: np.ndarray) -> None: ...

    @abstractmethod
    def _add(self, ids: np.ndarray, vectors: np.ndarray) -> None: ...

    @abstractmethod
    def _remove(self, ids: np.ndarray) -> None: ...

    @abstractmethod
    def _search(self, queries: np.ndarray, k: int) -> Neighbours:
        """Answer (m, d) queries with 1 <= k <= len(self)."""

    def _checked(self, ids: np.ndarray, vectors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        ids = _as_ids(ids)
        vectors = self._checked_vectors(vectors)
        if len(ids) != len(vectors):
            raise VectorIndexError(f"{len(ids)} ids for {len(vectors)} vectors")
        if len(np.unique(ids)) != len(ids):
            raise VectorIndexError("the same id appears twice in one call")
        return ids, vectors

    def _checked_vectors(self, vectors: np.ndarray) -> np.ndarray:
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        if vectors.ndim != 2 or vectors.shape[1] != self._dim:
            raise VectorIndexError(f"expected vectors of shape (n, {self._dim}), got {vectors.shape}")
        if not np.isfinite(vectors).all():
            raise VectorIndexError("vectors contain NaN or infinite values")
        return vectors


class ExactIndex(VectorIndex):
    """Exact cosine search: one matrix of unit vectors, scanned in full by each query.

    Rows are kept in a buffer that doubles when full, so adding tracks one at a time during a scan
    costs amortised O(d) per track rather than a copy of the whole matrix.
    """

    def __init__(self, dim: int, config: IndexConfig = INDEX):
        super().__init__(dim)
        self._config = config
        self._unit = np.empty((0, dim), np.float32)  # (capacity, d); rows [0, n) are live
        self._ids = np.empty(0, np.int64)  # (capacity,)
        self._n = 0
        self._row: dict[int, int] = {}  # id -> row

    def __len__(self) -> int:
        return self._n

    @property
    def nbytes(self) -> int:
        return self._unit.nbytes + self._ids.nbytes

    def _build(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        self._unit = _unit_rows(vectors)
        self._ids = ids.copy()
        self._n = len(ids)
        self._row = dict(zip(ids.tolist(), range(self._n)))

    def _add(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        unit = _unit_rows(vectors)
        rows = np.array([self._row.get(i, -1) for i in ids.tolist()], np.int64)
        known = rows >= 0
        self._unit[rows[known]] = unit[known]
        fresh_ids, fresh = ids[~known], unit[~known]
        stop = self._n + len(fresh_ids)
        if stop > len(self._ids):
            capacity = max(stop, 2 * len(self._ids))
            self._unit, self._ids = _grown(self._unit, self._n, capacity), _grown(self._ids, self._n, capacity)
        self._unit[self._n : stop] = fresh
        self._ids[self._n : stop] = fresh_ids
        self._row.update(zip(fresh_ids.tolist(), range(self._n, stop)))
        self._n = stop

    def _remove(self, ids: np.ndarray) -> None:
        # Fill each hole with the last row: O(d) per removal, and the live rows stay contiguous.
        for i in ids.tolist():
            row = self._row.pop(i, None)
            if row is None:
                continue
            last = self._n - 1
            if row != last:
                self._unit[row] = self._unit[last]
                self._ids[row] = self._ids[last]
                self._row[int(self._ids[row])] = row
            self._n = last

    def _search(self, queries: np.ndarray, k: int) -> Neighbours:
        m, n = len(queries), self._n
        unit, live_ids = self._unit[:n], self._ids[:n]
        queries = _unit_rows(queries)
        ids = np.empty((m, k), np.int64)
        distances = np.empty((m, k), np.float32)
        # Blocks of queries bound the (block, n) similarity matrix whatever the batch size.
        block = max(1, self._config.exact_block_floats // n)
        for start in range(0, m, block):
            with one_blas_thread():
                sim = queries[start : start + block] @ unit.T  # (b, n)
            top = np.argpartition(sim, n - k, axis=1)[:, n - k :]  # the k largest, unordered
            top_sim = np.take_along_axis(sim, top, axis=1)
            order = np.argsort(-top_sim, axis=1, kind="stable")
            top = np.take_along_axis(top, order, axis=1)
            ids[start : start + block] = live_ids[top]
            distances[start : start + block] = 1.0 - np.take_along_axis(top_sim, order, axis=1)
        return Neighbours(ids, distances)


class HnswIndex(VectorIndex):
    """Approximate cosine search on an hnswlib HNSW graph, for libraries too big to scan per query.

    Removal marks graph nodes deleted (hnswlib cannot unlink them); they keep their memory until
    the next rebuild, and re-adding a removed id revives its node with the new vector. The graph
    grows by doubling its capacity when an add would overflow it.

    Parameters
    ----------
    dim : int
        Vector dimension d.
    capacity : int
        Elements to reserve room for; a build reserves exactly what it is given.
    """

    def __init__(self, dim: int, capacity: int = 0, config: IndexConfig = INDEX):
        super().__init__(dim)
        self._config = config
        self._live: set[int] = set()
        self._deleted: set[int] = set()  # marked deleted in the graph, so their labels still exist there
        self._index = self._new_graph(capacity)

    def __len__(self) -> int:
        return len(self._live)

    @property
    def nbytes(self) -> int:
        # hnswlib allocates exactly what it would serialise: vectors, labels and links of all layers.
        return self._index.index_file_size()

    def _new_graph(self, capacity: int) -> hnswlib.Index:
        graph = hnswlib.Index(space="cosine", dim=self._dim)
        graph.init_index(
            max_elements=max(capacity, 1),
            M=self._config.hnsw_m,
            ef_construction=self._config.hnsw_ef_construction,
            random_seed=self._config.hnsw_seed,
        )
        graph.set_num_threads(self._config.threads)
        return graph

    def _build(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        self._index = self._new_graph(len(ids))
        self._live, self._deleted = set(), set()
        if len(ids):
            self._add(ids, vectors)

    def _add(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        id_list = ids.tolist()
        new = sum(1 for i in id_list if i not in self._live and i not in self._deleted)
        needed = self._index.element_count + new
        if needed > self._index.max_elements:
            self._index.resize_index(max(needed, 2 * self._index.max_elements))
        self._index.add_items(vectors, ids.view(np.uint64), num_threads=self._config.threads)
        self._live.update(id_list)
        self._deleted.difference_update(id_list)

    def _remove(self, ids: np.ndarray) -> None:
        for i in ids.tolist():
            if i in self._live:
                self._index.mark_deleted(_label(i))
                self._live.remove(i)
                self._deleted.add(i)

    def _search(self, queries: np.ndarray, k: int) -> Neighbours:
        # hnswlib cannot return more than ef results, so a large k widens the beam with it.
        self._index.set_ef(max(self._config.hnsw_ef_search, k))
        labels, distances = self._index.knn_query(queries, k=k, num_threads=self._config.threads)
        return Neighbours(labels.view(np.int64), distances.astype(np.float32, copy=False))

    def query_where(self, queries: np.ndarray, k: int, keep: Callable[[int], bool]) -> Neighbours:
        """The k nearest ids of each (m, d) query among those ``keep(id)`` accepts (hnswlib's filter:
        the graph is walked as usual and only accepted nodes are returned).

        Raises RuntimeError (hnswlib's) when fewer than k accepted nodes are found.
        """
        queries = self._checked_vectors(np.atleast_2d(queries))
        self._index.set_ef(max(self._config.hnsw_ef_search, k))
        labels, distances = self._index.knn_query(queries, k=k, num_threads=1, filter=lambda label: keep(_id(label)))
        return Neighbours(labels.view(np.int64), distances.astype(np.float32, copy=False))

    def save(self, path: Path, fingerprint: str) -> None:
        """Write the graph to ``path`` and a JSON sidecar ``<path>.json`` beside it.

        The sidecar records dimension, counts, the caller's ``fingerprint`` (say a hash of the ids
        and the model version) and the graph file's size and BLAKE2b digest. It is removed first and
        written last, each file through a temporary and ``os.replace``, so an interrupted save leaves
        no sidecar and :meth:`load` reports :class:`CacheMissing`; the digest catches a torn graph
        file left by a power cut, which is why nothing here needs fsync.
        """
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        sidecar = _sidecar(path)
        sidecar.unlink(missing_ok=True)
        with temporary_beside(path) as tmp:
            self._index.save_index(str(tmp))
            size, digest = tmp.stat().st_size, _digest(tmp)
            os.replace(tmp, path)
        header = {
            "format": CACHE_FORMAT,
            "fingerprint": fingerprint,
            "dim": self._dim,
            "count": len(self),
            "elements": self._index.element_count,
            "bytes": size,
            "blake2b": digest,
            "deleted": sorted(self._deleted),
        }
        with temporary_beside(sidecar) as tmp:
            tmp.write_text(json.dumps(header), encoding="utf-8")
            os.replace(tmp, sidecar)

    @classmethod
    def load(cls, path: Path, fingerprint: str, dim: int | None = None, config: IndexConfig = INDEX) -> HnswIndex:
        """Read an index written by :meth:`save`, refusing one that does not match.

        Parameters
        ----------
        path : Path
            The graph file given to :meth:`save`.
        fingerprint : str
            What the caller's current vectors fingerprint to; any difference means stale.
        dim : int, optional
            Expected vector dimension; checked when given.

        Raises
        ------
        CacheMissing, CacheStale, CacheCorrupt
            All subclasses of :class:`IndexCacheError`: the caller rebuilds from the database.
        """
        path = Path(path)
        sidecar = _sidecar(path)
        if not (path.is_file() and sidecar.is_file()):
            raise CacheMissing(f"no saved index at {path}")
        header = _read_header(sidecar)
        if header["format"] != CACHE_FORMAT:
            raise CacheStale(f"index cache {path} has format {header['format']}, expected {CACHE_FORMAT}")
        if header["fingerprint"] != fingerprint:
            raise CacheStale(f"index cache {path} was saved for other tracks or another model")
        if dim is not None and header["dim"] != dim:
            raise CacheStale(f"index cache {path} holds {header['dim']}-d vectors, expected {dim}")
        # Checked before hnswlib reads the file: garbage in its header can make it allocate wildly.
        if path.stat().st_size != header["bytes"] or _digest(path) != header["blake2b"]:
            raise CacheCorrupt(f"index cache {path} is damaged (size or checksum differs)")
        graph = hnswlib.Index(space="cosine", dim=header["dim"])
        try:
            graph.load_index(str(path))
        except RuntimeError as e:
            raise CacheCorrupt(f"index cache {path} could not be read: {e}") from e
        graph.set_num_threads(config.threads)
        index = cls(header["dim"], config=config)
        index._index = graph
        labels = np.asarray(graph.get_ids_list(), np.uint64).view(np.int64)
        index._deleted = set(header["deleted"])
        index._live = set(labels.tolist()) - index._deleted
        if index._index.element_count != header["elements"] or len(index._live) != header["count"]:
            raise CacheCorrupt(f"index cache {path} does not hold the {header['count']} tracks it records")
        return index


def make_index(n: int, dim: int, threshold: int = INDEX.exact_threshold) -> VectorIndex:
    """An empty index suited to a library of about ``n`` tracks: exact below ``threshold``, HNSW from it on.

    The default threshold is where HNSW starts answering a single query faster than a full scan
    (see ``benchmarks/bench_index.py``); below it exact search costs nothing noticeable and never
    misses a neighbour.
    """
    if n < threshold:
        return ExactIndex(dim)
    return HnswIndex(dim, capacity=n)


def _as_ids(ids: np.ndarray) -> np.ndarray:
    ids = np.asarray(ids)
    if ids.ndim != 1:
        raise VectorIndexError(f"expected a 1-d array of ids, got shape {ids.shape}")
    if ids.size and not np.issubdtype(ids.dtype, np.integer):
        raise VectorIndexError(f"ids must be integers, got {ids.dtype}")
    return ids.astype(np.int64, copy=False)


def _unit_rows(vectors: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length, (n, d) float32; all-zero rows stay zero, as in hnswlib's cosine space."""
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.maximum(norms, np.finfo(np.float32).tiny)


def _grown(array: np.ndarray, used: int, capacity: int) -> np.ndarray:
    """A copy of ``array`` with ``capacity`` rows, the first ``used`` carried over and the rest unset."""
    out = np.empty((capacity, *array.shape[1:]), array.dtype)
    out[:used] = array[:used]
    return out


@cache
def _blas() -> ThreadpoolController:
    return ThreadpoolController()


def one_blas_thread():
    """A context in which numpy's products run on one BLAS thread.

    Exact search (here and in :mod:`engine.search.tempo_gate`) runs its product so. Threaded BLAS gains
    little on a product this small, and when the cores are busy (a library scan runs beside the
    search) its threads wait on each other: at 10k tracks a single query went from 0.2 ms to 16 ms
    median on 2 loaded cores. Limiting costs about 6 us per call and is undone on exit.
    """
    return _blas().limit(limits=1, user_api="blas")


def _label(i: int) -> int:
    """The hnswlib label (uint64) for an int64 id: the same 64 bits, read unsigned."""
    return i % (1 << 64)


def _id(label: int) -> int:
    """The int64 id of an hnswlib label (inverse of :func:`_label`)."""
    return label - (1 << 64) if label >= 1 << 63 else label


def _sidecar(path: Path) -> Path:
    return path.with_name(path.name + ".json")


def _digest(path: Path) -> str:
    with path.open("rb") as f:
        return hashlib.file_digest(f, "blake2b").hexdigest()


def _read_header(sidecar: Path) -> dict:
    fields = {"format": int, "fingerprint": str, "dim": int, "count": int, "elements": int, "bytes": int,
              "blake2b": str, "deleted": list}
    try:
        header = json.loads(sidecar.read_text(encoding="utf-8"))
        ok = isinstance(header, dict) and all(isinstance(header.get(k), t) for k, t in fields.items())
    except (OSError, UnicodeDecodeError, ValueError) as e:
        raise CacheCorrupt(f"index cache header {sidecar} does not parse: {e}") from e
    if not ok or not all(isinstance(i, int) for i in header["deleted"]):
        raise CacheCorrupt(f"index cache header {sidecar} lacks fields or has wrong types")
    return header
