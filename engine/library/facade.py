"""The library: one database of analysed files, and search over their track vectors.

This is the engine's public face for the CLI and the GUI::

    lib = Library()                       # or Library("/path/to/library-dir")
    for event in lib.index("~/Samples"):  # progress, one event per file; stop iterating to cancel
        ...
    lib.search("~/Samples/break_124bpm.wav", k=10)
"""

from __future__ import annotations

import dataclasses
import logging
import os
import shutil
import time
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from platformdirs import user_data_dir

from engine.analysis.contract import AnalyserResult
from engine.analysis.pipeline import analyse_file
from engine.audio.paths import temporary_beside
from engine.config import APP_NAME, SEARCH, SearchConfig
from engine.analysis.embedding import Embedder, MusicnnEmbedder
from engine.models.track_space import TrackSpace
from engine.library.scan import ScanError, ScanEvent, Scanner, folder_offline, index_lock
from engine.search.session import DEFAULT_WINDOW, Found, Query, SearchResult, SearchSession, merged_neighbours
from engine.library.store import (FileRecord, Integrity, RecentQuery, Store, StoredAnalysis, StoreError, TempoRecord,
                                  salvage)
from engine.library.store import Track
from engine.errors import LibraryError
from engine.library.tempo_state import TempoCorrectionError, TempoState, corrected_bpm
from engine.search.tempo_gate import TempoGate
from engine.models.translation import DEFAULT_PATH as SHIPPED_TRANSLATOR
from engine.models.translation import Translator, TranslatorConfig, TranslatorMismatch
from engine.search.vector_index import HnswIndex, IndexCacheError, VectorIndex, make_index

DB_NAME = "library.sqlite3"
log = logging.getLogger(__name__)
TRANSLATOR_NAME = "translator.safetensors"  # this library's fine-tuned tempo translation (sbf train translator)


def default_library_dir() -> Path:
    """``$SBF_LIBRARY_DIR`` if set, else the platform's per-user data folder."""
    env = os.environ.get("SBF_LIBRARY_DIR")
    return Path(env).expanduser() if env else Path(user_data_dir(APP_NAME, appauthor=False))


@dataclass(frozen=True)
class SearchIndex:
    """What search reads, all from one snapshot of the database: the ANN index and the tempo gate
    over the files' track vectors, and each file's path and BPM."""

    key: str  # the track space and the analyses it was built from
    index: VectorIndex
    gate: TempoGate
    paths: dict[int, str]
    bpms: dict[int, float | None]


@dataclass(frozen=True)
class Rebuilt:
    """A rebuilt library: where the damaged database was kept, what could be read from it (rows per
    table), and the sample folders to scan again (empty when even the list of files was lost)."""

    backup: str
    kept: dict[str, int]
    folders: tuple[str, ...]


def rebuild_library(library_dir: str | Path | None = None) -> Rebuilt:
    """Replace a damaged library database with a new one holding everything that can still be read from
    it (the user's corrections, locks and favourites, and the analyses, so only what was lost is analysed
    again), keeping the damaged file beside it as ``library.sqlite3.damaged-<time>``. Scan the returned
    folders afterwards (:meth:`Library.index`) to find the files whose rows were lost.

    No :class:`Library` may have the database open meanwhile (:meth:`Library.rebuild` closes its own).
    Raises :class:`StoreError` when the backup cannot be written (a full disk); nothing is changed then.
    """
    folder = Path(library_dir).expanduser() if library_dir else default_library_dir()
    db_path = folder / DB_NAME
    if not db_path.is_file():
        raise StoreError(f"There is no library database in {folder} to rebuild")
    backup = db_path.with_name(f"{DB_NAME}.damaged-{time.strftime('%Y%m%d-%H%M%S')}")
    fresh = db_path.with_name(DB_NAME + ".rebuilding")
    try:
        for suffix in ("", "-wal"):  # the WAL holds the newest commits: it goes with the copy it belongs to
            if Path(f"{db_path}{suffix}").is_file():
                shutil.copy2(f"{db_path}{suffix}", f"{backup}{suffix}")
        for leftover in (fresh, Path(f"{fresh}-wal"), Path(f"{fresh}-shm")):  # an earlier rebuild cut short
            leftover.unlink(missing_ok=True)
        saved = salvage(backup, fresh)
        # The old WAL must never meet the new file (SQLite would apply its pages to it): it is in the backup.
        for suffix in ("-wal", "-shm"):
            Path(f"{db_path}{suffix}").unlink(missing_ok=True)
        os.replace(fresh, db_path)
    except OSError as e:
        fresh.unlink(missing_ok=True)
        raise StoreError(f"Could not rebuild the library in {folder} ({e.strerror or e}); the damaged database is "
                         "unchanged: free some space and try again") from e
    Path(f"{backup}-shm").unlink(missing_ok=True)  # what reading the backup left beside it
    if Path(f"{backup}-wal").is_file() and not Path(f"{backup}-wal").stat().st_size:
        Path(f"{backup}-wal").unlink()
    log.warning("rebuilt the damaged library %s: kept %s; the damaged file is %s", db_path, saved.kept, backup)
    return Rebuilt(str(backup), saved.kept, saved.folders)


@dataclass(frozen=True)
class LibraryInfo:
    library_dir: str
    folders: list[str]
    files_ok: int
    files_failed: int
    total_seconds: float
    model: str
    track_space: str  # which calibration the library's vectors are derived with (TrackSpace.identity)
    read_only: str | None = None  # why the library can only be read (a full disk); None: it can be written
    offline: dict[str, str] = field(default_factory=dict)  # the folders offline now, each with the reason


@dataclass(frozen=True)
class FolderRemoved:
    """What :meth:`Library.remove_folder` did.

    files : the files that left the library with the folder
    inside : the added folder that holds this one, when there is one: its files stay, as that folder's
    """

    folder: str
    files: int
    inside: str | None = None


class Library:
    """A library stored in ``library_dir`` (created if missing)."""

    def __init__(self, library_dir: str | Path | None = None, embedder: Embedder | None = None,
                 space: TrackSpace | None = None, shipped_translator: Path = SHIPPED_TRANSLATOR):
        self.library_dir = Path(library_dir).expanduser() if library_dir else default_library_dir()
        self.store = Store(self.library_dir / DB_NAME)
        self._embedder = embedder
        self.space = space or TrackSpace.load()
        self.shipped_translator = Path(shipped_translator)
        self._index: SearchIndex | None = None
        self._bpm_key: str | None = None
        self._marker: tuple[int, int] | None = None  # Store.change_marker() when _index was last checked
        self._translator: tuple[tuple[int, int] | None, Translator] | None = None

    @property
    def embedder(self) -> Embedder:
        if self._embedder is None:
            self._embedder = MusicnnEmbedder()
        return self._embedder

    def close(self) -> None:
        self.store.close()

    def index(self, folder: str | Path, workers: int | None = None, *, retry_failed: bool = False
              ) -> Iterator[ScanEvent]:
        """Scan ``folder`` incrementally; yields one :class:`ScanEvent` per file.

        A file that failed is tried again when it changed, or the decoder or the model did since (an
        upgrade), and with ``retry_failed`` whatever the case.

        Refused at once (:class:`StoreError`) on a library open for reading only (a full disk) or found
        damaged (:class:`DamagedLibrary`), before anything is analysed.
        """
        self.store.check_writable()
        self._index = None
        yield from Scanner(self.store, self.embedder, workers).scan(folder, retry_failed=retry_failed)

    def retry_failed(self, workers: int | None = None) -> Iterator[ScanEvent]:
        """Try every failed file again (``sbf index --retry-failed``, Retry under Problems): each folder
        that holds one is indexed with ``retry_failed``. A folder that cannot be scanned now (offline)
        keeps its failures, and is reported as one "failed" event, its reason saying why."""
        for root in sorted({f.root for f in self.failed()}):
            try:
                yield from self.index(root, workers, retry_failed=True)
            except ScanError as e:
                yield ScanEvent(root, "failed", 0, 0, str(e))

    def search(self, path: str | Path, k: int = 10, mode: str = "similar", target_bpm: float | None = None,
               ratio: float | None = None, bpm_window: float | None | str = DEFAULT_WINDOW) -> list[SearchResult]:
        """The ``k`` files that sound most like ``path`` (a library file or any audio file).

        Parameters
        ----------
        mode : "similar", "target" (at a tempo) or "contour" (at any tempo), see engine/search/session.py
        target_bpm : with ``mode="target"``, tau = target_bpm / the query's BPM (its estimate, or the
            user's correction); 20 to 999 BPM
        ratio : with ``mode="target"``, tau directly (T'/T, 2 = twice as fast; 0.25 to 4); wins over target_bpm
        bpm_window : the tempo gate: only files whose tempo lies within this many percent of the target
            (or the query's) BPM. By default 6 % in ``target`` mode and off in the others; None turns it off.
            Fewer than ``k`` results when the window holds fewer files.

        Raises
        ------
        SearchError
            A target, ratio or window out of range, or a target for a query with no tempo (a one-shot).
        """
        session = SearchSession(self, k)
        session.set_query(path)
        session.set_mode(mode)
        if ratio is not None:
            session.set_ratio(ratio)
        elif target_bpm is not None:
            session.set_target_bpm(target_bpm)
        session.set_bpm_window(bpm_window)
        return session.results()

    def query(self, path: str | Path) -> Query:
        """A query from any audio file: the stored analysis when the file is indexed and unchanged,
        else a fresh one (a file dragged in from outside the library)."""
        resolved = str(Path(path).expanduser().resolve())
        stored = self.current_analysis(resolved)
        if stored is not None:
            return Query(resolved, self.space.vector(stored.patches, stored.tempo_block), stored.bpm, stored.file_id)
        fresh = analyse_file(resolved, self.embedder)
        return Query(resolved, self.space.vector(fresh.patches, fresh.tempo_block), fresh.tempo.bpm, None)

    def current_analysis(self, path: str | Path) -> StoredAnalysis | None:
        """The stored analysis of ``path`` when it is indexed with this embedder and unchanged on disk since."""
        resolved = str(Path(path).expanduser().resolve())
        return self.store.analysis_for(resolved, *self._model()) if self._is_current(resolved) else None

    def _is_current(self, resolved: str) -> bool:
        """``resolved`` is an indexed file, unchanged on disk since it was analysed (no embeddings read)."""
        rec = self.store.file_by_path(resolved)
        return rec is not None and rec.status == "ok" and _unchanged(rec)

    def current_analyses(self) -> dict[str, StoredAnalysis]:
        """:meth:`current_analysis` of every library file, by path."""
        records = {r.path: r for r in self.store.files(status="ok")}
        return {a.path: a for a in self.store.analyses(*self._model())
                if a.path in records and _unchanged(records[a.path])}

    def analyser_results(self, path: str | Path) -> dict[str, AnalyserResult]:
        """What every analyser found in ``path``, by analyser name (engine/analysis/registry.py), when it
        is indexed and unchanged on disk since; empty otherwise."""
        resolved = str(Path(path).expanduser().resolve())
        return self.store.results_for(resolved) if self._is_current(resolved) else {}

    # --- the user's word on tempo, and their recent queries --------------------------------------

    def tempo(self, path: str | Path) -> TempoState:
        """The tempo search uses for an indexed file: the user's correction, else the estimate."""
        return _tempo_state(self._tempo_record(path))

    def correct_tempo(self, path: str | Path, *, factor: float | None = None, bpm: float | None = None) -> TempoState:
        """Correct an indexed file's BPM: multiply what it is now (``factor``: 2, 0.5, 1.5, 2/3) or set ``bpm``.

        Stored by content hash: it survives re-analysis and moves, and the next search uses it.
        Raises :class:`TempoCorrectionError` for a locked file, a factor on a file with no tempo, or a
        BPM out of range.
        """
        rec = self._tempo_record(path)
        if rec.locked:
            raise TempoCorrectionError(f"the BPM of {Path(rec.path).name} is locked; unlock it first")
        current = _tempo_state(rec).bpm
        self.store.set_user_tempo(rec.content_hash, corrected_bpm(current, factor=factor, bpm=bpm), False)
        return self.tempo(rec.path)

    def lock_tempo(self, path: str | Path, locked: bool = True) -> TempoState:
        """Lock (or unlock) a file's BPM. Locking pins the current value as the user's, so a later
        re-analysis cannot change it either; unlocking keeps a value the user set, not one the lock pinned."""
        rec = self._tempo_record(path)
        state = _tempo_state(rec)
        if locked and state.bpm is None:
            raise TempoCorrectionError(f"{Path(rec.path).name} has no tempo to lock; type a BPM first")
        # Unlocking a value that only the lock pinned hands the file back to the estimate.
        kept = rec.override_bpm if rec.override_bpm != rec.estimated_bpm else None
        self.store.set_user_tempo(rec.content_hash, state.bpm if locked else kept, locked)
        return self.tempo(rec.path)

    def reset_tempo(self, path: str | Path) -> TempoState:
        """Forget the user's BPM: back to the estimate (refused while locked)."""
        rec = self._tempo_record(path)
        if rec.locked:
            raise TempoCorrectionError(f"the BPM of {Path(rec.path).name} is locked; unlock it first")
        self.store.set_user_tempo(rec.content_hash, None, False)
        return self.tempo(rec.path)

    def _tempo_record(self, path: str | Path) -> TempoRecord:
        """The file's tempo record, refused unless its analysis is current: a correction is stored by
        content hash, and one made against a file edited since it was indexed would be lost at the
        next scan."""
        resolved = str(Path(path).expanduser().resolve())
        rec = self.store.tempo_record(resolved, *self._model()) if self._is_current(resolved) else None
        if rec is None:
            raise TempoCorrectionError(f"{Path(resolved).name} is not in this library, or changed since it was "
                                       "indexed; index its folder first")
        return rec

    def remember_query(self, path: str | Path, mode: str, target_bpm: float | None) -> None:
        """Keep a query in the library's recent queries (the desktop app's history); not kept, and no
        error, while the library can only be read (it is a convenience, search goes on)."""
        if self.store.read_only or self.store.damage:
            return
        self.store.remember_query(str(Path(path).expanduser().resolve()), mode, target_bpm, time.time())

    def recent_queries(self, limit: int = 20) -> list[RecentQuery]:
        """The newest queries first, one per file, leaving out files that are gone."""
        return [q for q in self.store.recent_queries() if os.path.exists(q.path)][:limit]

    def nearest(self, vectors: np.ndarray, taus: np.ndarray, k: int, exclude: Query | None = None,
                window: tuple[float, float] | None = None, cfg: SearchConfig = SEARCH) -> Found:
        """Merge the neighbours of several translated queries (M, D), one per tau (M,): see
        :func:`engine.search.session.merged_neighbours`."""
        current = self._current_index()
        found = merged_neighbours(current.index, current.gate, current.paths, current.bpms, vectors, taus, k,
                                  exclude, window, cfg)
        offline = tuple(root.rstrip(os.sep) + os.sep for root in self.offline_folders())
        if offline and any(r.path.startswith(offline) for r in found.results):  # listed, marked: not playable now
            found = dataclasses.replace(found, results=[dataclasses.replace(r, offline=r.path.startswith(offline))
                                                        for r in found.results])
        return found

    def _current_index(self) -> SearchIndex:
        """The search index for the current analyses: kept in memory, and for large libraries cached
        on disk (hnswlib), rebuilt from the stored embeddings whenever they changed."""
        marker = self.store.change_marker()
        if self._index is not None and marker == self._marker:
            return self._index
        self._marker = marker
        with self.store.snapshot():  # the key, the vectors, the paths and the BPMs of one moment
            return self._index_now()

    def _index_now(self) -> SearchIndex:
        model_id, version = self._model()
        key = f"{self.space.fingerprint}:{self.store.analyses_fingerprint(model_id, version)}"
        if self._index is not None and self._index.key == key:
            bpm_key = self.store.tempo_fingerprint()
            if self._bpm_key != bpm_key:  # a correction or a new estimate moves BPMs and the gate, not the vectors
                self._bpm_key = bpm_key
                beliefs = self.store.tempo_beliefs(model_id, version)
                self._index = dataclasses.replace(self._index, bpms=_shown_bpm(beliefs),
                                                  gate=self._index.gate.with_beliefs(beliefs))
            return self._index
        self._bpm_key = self.store.tempo_fingerprint()
        ids, vectors = self._track_vectors(key)
        cache = self.library_dir / f"index-{model_id}.hnsw"
        try:
            index: VectorIndex = HnswIndex.load(cache, key, self.space.dimension)
        except IndexCacheError:
            index = make_index(len(ids), self.space.dimension)
            index.build(ids, vectors)
            if isinstance(index, HnswIndex):
                try:
                    index.save(cache, key)
                except OSError as e:  # a full disk: this index serves from memory, the next start rebuilds it
                    log.warning("could not save the search index cache %s (%s); using it from memory", cache, e)
        beliefs = self.store.tempo_beliefs(model_id, version)
        gate = TempoGate(ids, vectors, beliefs, SEARCH.gate_min_share, index)
        del vectors  # now the gate's, normalised in place: the one copy
        self._index = SearchIndex(key, index, gate, self.store.paths_by_id(), _shown_bpm(beliefs))
        return self._index

    def _track_vectors(self, key: str) -> tuple[np.ndarray, np.ndarray]:
        """Every current file's id (N,) and track vector (N, D): from the cache file when it was written
        for ``key`` and is whole, else derived from the stored patches and tempo blocks (a new track space
        needs no re-decoding) and cached. The cache is written whole or not at all (a temporary file, then
        a rename); a failed write is logged and costs only the next start's time."""
        cache = self.library_dir / f"vectors-{self._model()[0]}.npz"
        try:
            with np.load(cache, allow_pickle=False) as saved:
                if str(saved["key"]) == key:
                    ids, vectors = saved["ids"], saved["vectors"]
                    if ids.ndim == 1 and vectors.shape == (len(ids), self.space.dimension):
                        return ids, vectors
        except FileNotFoundError:
            pass
        except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as e:  # a 0-byte or torn file
            log.warning("the track-vector cache %s is damaged (%s); rebuilding it", cache, e)
        ids, vectors = [], []
        for a in self.store.each_analysis(*self._model()):
            ids.append(a.file_id)
            vectors.append(self.space.vector(a.patches, a.tempo_block))
        out = (np.array(ids, np.int64),
               np.stack(vectors) if vectors else np.zeros((0, self.space.dimension), np.float32))
        _write_whole(cache, lambda f: np.savez(f, key=np.array(key), ids=out[0], vectors=out[1]))
        return out

    def _model(self) -> tuple[str, str]:
        """The embedder's id and version, without loading the network just to learn them."""
        emb = self._embedder
        return (emb.id, emb.version) if emb else (MusicnnEmbedder.id, MusicnnEmbedder.version)

    def info(self) -> LibraryInfo:
        counts = self.store.counts()
        model_id, version = self._model()
        return LibraryInfo(str(self.library_dir), self.store.roots(), counts.get("ok", 0), counts.get("failed", 0),
                           self.store.total_duration(), f"{model_id}/{version}", self.space.identity,
                           self.store.read_only, offline=self.offline_folders())

    def check_integrity(self) -> Integrity:
        """A quick integrity check of the database: what is damaged, in words (``sbf info``). Reads the
        whole file; found damage refuses every write from then on (:meth:`rebuild` repairs it)."""
        return self.store.check_integrity()

    def rebuild(self) -> Rebuilt:
        """Rebuild this library's damaged database (:func:`rebuild_library`) and open the new one; scan
        the returned folders next to find what was lost."""
        self.store.close()
        try:
            return rebuild_library(self.library_dir)
        finally:
            self.store = Store(self.library_dir / DB_NAME)
            self._index, self._marker, self._bpm_key = None, None, None

    def failed(self) -> list[FileRecord]:
        return self.store.files(status="failed")

    # --- folders: offline, and removed on purpose -------------------------------------------------

    def offline_folders(self) -> dict[str, str]:
        """The added folders that are offline now, each with the reason: not there, empty or unreadable,
        as an unplugged drive leaves its mount point. Their files stay in the library, marked offline
        (:meth:`tracks`, search results), and cannot be played until the folder is back."""
        return {root: why for root in self.store.roots() if (why := folder_offline(root)) is not None}

    def tracks(self) -> list[Track]:
        """Every analysed file as the track list shows it, those of offline folders marked ``offline``."""
        tracks = self.store.tracks(*self._model())
        offline = self.offline_folders()
        return [dataclasses.replace(t, offline=True) if t.root in offline else t for t in tracks] if offline else tracks

    def remove_folder(self, folder: str | Path) -> FolderRemoved:
        """Take an added folder out of the library, on purpose (an offline one too: a drive gone for good).

        Its files go, with their analyses and failures; what the user made of them (BPM corrections,
        locks, favourites) is kept by content hash, so a file added again, here or elsewhere, has it
        back. A folder inside another added folder only stops being listed: its files stay, as the outer
        folder's. Refused while a scan runs on this library.
        """
        roots = self.store.roots()
        given = Path(folder).expanduser()
        root = next((r for r in (str(given.resolve()), str(given.absolute()).rstrip(os.sep) or os.sep) if r in roots),
                    None)
        if root is None:
            listed = "; ".join(roots) if roots else "none yet"
            raise LibraryError(f"{folder} is not a folder of this library (its folders: {listed})")
        lock = index_lock(self.library_dir)
        if not lock.acquire():
            raise LibraryError(f"Indexing is running on this library: remove {folder} once it has finished "
                               "(or cancel it).")
        try:
            files, inside = self.store.remove_root(root)
        finally:
            lock.release()
        self._index = None
        return FolderRemoved(root, files, inside)

    # --- tempo translation ---------------------------------------------------------------------

    @property
    def translator_path(self) -> Path:
        """Where ``sbf train translator`` keeps this library's fine-tuned translation."""
        return self.library_dir / TRANSLATOR_NAME

    @property
    def translator(self) -> Translator:
        """f(z, tau) for this library: its fine-tuned translation if there is one, else the shipped one.

        A fine-tune made for another track space (the app was updated since) is ignored rather than
        refused. Without a shipped file either, the MusiCNN part is left as it is and only the tempo
        block moves. Reloaded whenever the fine-tuned file changes.
        """
        key = _stat_key(self.translator_path)
        if self._translator is None or self._translator[0] != key:
            self._translator = (key, self._load_translator(key is not None))
        return self._translator[1]

    def _load_translator(self, fine_tuned: bool) -> Translator:
        if fine_tuned:
            try:
                return Translator.load(self.space, self.translator_path)
            except TranslatorMismatch:
                pass
        try:
            return Translator.load(self.space, self.shipped_translator)
        except FileNotFoundError:
            return Translator.untrained(self.space, TranslatorConfig("identity"))

    def reset_translator(self) -> bool:
        """Forget this library's fine-tuned translation (back to the shipped one); False if there was none."""
        self._translator = None
        try:
            self.translator_path.unlink()
        except FileNotFoundError:
            return False
        return True


def _write_whole(target: Path, write) -> bool:
    """``write(file)`` into a temporary file beside ``target``, then rename it over ``target``: a reader
    finds the old file or the whole new one, never a torn or empty one. A failure (a full disk) is
    logged and leaves ``target`` as it was; False then."""
    try:
        with temporary_beside(target) as tmp:
            with open(tmp, "wb") as f:
                write(f)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, target)
        return True
    except OSError as e:
        log.warning("could not write the cache %s (%s); going on without it", target, e)
        return False


def _shown_bpm(beliefs: dict[int, tuple[tuple[float, float], ...]]) -> dict[int, float | None]:
    """Each file's tempo as shown and searched: its first reading (None: no tempo)."""
    return {i: b[0][0] if b else None for i, b in beliefs.items()}


def _tempo_state(rec: TempoRecord) -> TempoState:
    if rec.override_bpm is not None:
        return TempoState(rec.path, rec.override_bpm, 1.0, "user", rec.locked, rec.estimated_bpm)
    return TempoState(rec.path, rec.estimated_bpm, rec.confidence, rec.source or "unknown", rec.locked,
                      rec.estimated_bpm)


def _stat_key(path: Path) -> tuple[int, int] | None:
    """(size, mtime in ns) of a file, None when it does not exist: tells a cached copy it is stale."""
    try:
        st = path.stat()
    except FileNotFoundError:
        return None
    return st.st_size, st.st_mtime_ns


def _unchanged(rec: FileRecord) -> bool:
    try:
        st = os.stat(rec.path)
    except OSError:
        return False
    return st.st_size == rec.size and st.st_mtime_ns == rec.mtime_ns
