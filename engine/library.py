"""The library: one database of analysed files, and search over their track vectors.

This is the engine's public face for the CLI and the GUI::

    lib = Library()                       # or Library("/path/to/library-dir")
    for event in lib.index("~/Samples"):  # progress, one event per file; stop iterating to cancel
        ...
    lib.search("~/Samples/break_124bpm.wav", k=10)
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from platformdirs import user_data_dir

from engine.analysis import analyse_file
from engine.embed.embedder import Embedder, MusicnnEmbedder
from engine.embed.track_vector import TrackSpace
from engine.scan import ScanEvent, Scanner
from engine.store import FileRecord, Store
from engine.vector_index import HnswIndex, IndexCacheError, VectorIndex, make_index

APP_NAME = "similar-but-faster"
DB_NAME = "library.sqlite3"


def default_library_dir() -> Path:
    """``$SBF_LIBRARY_DIR`` if set, else the platform's per-user data folder."""
    env = os.environ.get("SBF_LIBRARY_DIR")
    return Path(env).expanduser() if env else Path(user_data_dir(APP_NAME, appauthor=False))


@dataclass(frozen=True)
class SearchResult:
    """One neighbour.

    score : cosine similarity of track vectors, 1 = identical
    bpm : the file's tempo in BPM, None when unknown or the file has no tempo
    tau : tempo ratio T'/T the query was translated by to match (1.0 for plain similarity)
    """

    path: str
    score: float
    bpm: float | None
    tau: float


@dataclass(frozen=True)
class LibraryInfo:
    library_dir: str
    folders: list[str]
    files_ok: int
    files_failed: int
    total_seconds: float
    model: str


class Library:
    """A library stored in ``library_dir`` (created if missing)."""

    def __init__(self, library_dir: str | Path | None = None, embedder: Embedder | None = None,
                 space: TrackSpace | None = None):
        self.library_dir = Path(library_dir).expanduser() if library_dir else default_library_dir()
        self.store = Store(self.library_dir / DB_NAME)
        self._embedder = embedder
        self.space = space or TrackSpace.load()
        self._index: tuple[str, VectorIndex, dict[int, str]] | None = None

    @property
    def embedder(self) -> Embedder:
        if self._embedder is None:
            self._embedder = MusicnnEmbedder()
        return self._embedder

    def close(self) -> None:
        self.store.close()

    def index(self, folder: str | Path, workers: int | None = None) -> Iterator[ScanEvent]:
        """Scan ``folder`` incrementally; yields one :class:`ScanEvent` per file."""
        self._index = None
        yield from Scanner(self.store, self.embedder, workers).scan(folder)

    def search(self, path: str | Path, k: int = 10) -> list[SearchResult]:
        """The ``k`` files that sound most like ``path`` (a library file or any audio file)."""
        query_path = str(Path(path).expanduser().resolve())
        query = self.track_vector(query_path)
        _, index, paths = self._current_index()
        found = index.query(query[None, :], k + 1)
        results = []
        for file_id, distance in zip(found.ids[0], found.distances[0]):
            if paths[int(file_id)] == query_path:
                continue  # the query itself is no news to the user
            results.append(SearchResult(paths[int(file_id)], float(1.0 - distance), None, 1.0))
        return results[:k]

    def track_vector(self, path: str) -> np.ndarray:
        """The stored analysis when the file is in the library and current, else a fresh one."""
        model_id, version = self._model()
        stored = self.store.analysis_for(path, model_id, version)
        rec = self.store.file_by_path(path)
        if stored is not None and rec is not None and _unchanged(rec):
            return self.space.vector(stored.patches, stored.tempo_block)
        fresh = analyse_file(path, self.embedder)
        return self.space.vector(fresh.patches, fresh.tempo_block)

    def _current_index(self) -> tuple[str, VectorIndex, dict[int, str]]:
        """The search index for the current analyses: kept in memory, and for large libraries cached
        on disk (hnswlib), rebuilt from the stored embeddings whenever they changed."""
        model_id, version = self._model()
        key = f"{self.space.fingerprint}:{self.store.analyses_fingerprint(model_id, version)}"
        if self._index is not None and self._index[0] == key:
            return self._index
        cache = self.library_dir / f"index-{model_id}.hnsw"
        try:
            index: VectorIndex = HnswIndex.load(cache, key, self.space.dimension)
        except IndexCacheError:
            analyses = self.store.analyses(model_id, version)
            ids = np.array([a.file_id for a in analyses], dtype=np.int64)
            vectors = np.zeros((0, self.space.dimension), np.float32)
            if analyses:
                vectors = np.stack([self.space.vector(a.patches, a.tempo_block) for a in analyses])
            index = make_index(len(ids), self.space.dimension)
            index.build(ids, vectors)
            if isinstance(index, HnswIndex):
                index.save(cache, key)
        self._index = (key, index, self.store.paths_by_id())
        return self._index

    def _model(self) -> tuple[str, str]:
        """The embedder's id and version, without loading the network just to learn them."""
        emb = self._embedder
        return (emb.id, emb.version) if emb else (MusicnnEmbedder.id, MusicnnEmbedder.version)

    def info(self) -> LibraryInfo:
        counts = self.store.counts()
        model_id, version = self._model()
        return LibraryInfo(str(self.library_dir), self.store.roots(), counts.get("ok", 0), counts.get("failed", 0),
                           self.store.total_duration(), f"{model_id}/{version}")

    def failed(self) -> list[FileRecord]:
        return self.store.files(status="failed")


def _unchanged(rec: FileRecord) -> bool:
    try:
        st = os.stat(rec.path)
    except OSError:
        return False
    return st.st_size == rec.size and st.st_mtime_ns == rec.mtime_ns
