"""The engine, on background threads: library reads and searches, and indexing.

Each worker is a QObject moved to its own QThread and opens its own :class:`Library` there, because
a SQLite connection belongs to the thread that made it. The window calls the public methods from
the GUI thread; they only store a request and post a queued signal, so they return at once.
"""

from __future__ import annotations

import threading
from collections import Counter
from pathlib import Path

from PySide6.QtCore import QObject, QThread, Signal, Slot

from engine.audio.decode import AudioError
from engine.config import DESKTOP, DesktopConfig
from engine.analysis.embedding import MusicnnEmbedder
from engine.library.facade import Library
from engine.library.scan import ScanError, ScanEvent
from engine.search.session import SearchError, SearchSession
from engine.library.store import StoreError
from engine.library.tempo_state import TempoCorrectionError, TempoState
from desktop.folder_watcher import folders_to_watch
from desktop.messages import Catalog, IndexOutcome, SearchAnswer, SearchRequest, TempoChange
from desktop.widgets.track_table import TrackListDiff


class ThreadWorker(QObject):
    """A QObject on a thread of its own that finishes every job posted to it before the thread ends."""

    _end_requested = Signal()

    def __init__(self) -> None:
        super().__init__()
        self._thread: QThread | None = None
        self._end_requested.connect(self._end)

    def start_thread(self, name: str) -> None:
        self._thread = QThread()
        self._thread.setObjectName(name)
        self.moveToThread(self._thread)
        self._thread.finished.connect(self.close)  # emitted on this worker's thread: close where it opened
        self._thread.start()

    def end_thread(self) -> None:
        """Let the jobs posted so far run (a favourite set just before closing is kept), then end the
        thread; blocks until it has ended."""
        if self._thread is not None:
            self._end_requested.emit()  # queued behind those jobs, unlike QThread.quit()
            self._thread.wait()
            self._thread = None

    @Slot()
    def _end(self) -> None:
        QThread.currentThread().quit()

    @Slot()
    def close(self) -> None:
        """Release what the worker opened on its thread (subclasses)."""


class LibraryWorker(ThreadWorker):
    """Reads and writes the library for the window: the track list, the failed files, searches, BPM
    corrections and recent queries.

    The tempo knob sends a request on every move. Only the newest request waiting is answered and
    the rest are dropped, so the results follow the knob however fast it turns; one
    :class:`SearchSession` is kept, so turning the knob over the same query costs one translation and
    one index query per answer. Each catalog carries what changed in the track list since the one
    before (:class:`TrackListDiff`), worked out here rather than on the GUI thread.
    """

    opened = Signal(str)  # the library folder, once this thread has it open
    catalog_ready = Signal(Catalog)
    answered = Signal(SearchAnswer)
    tempo_read = Signal(TempoState)  # a library file's tempo, as asked for by tempo()
    tempo_corrected = Signal(TempoState)  # after a correction, lock or reset (the next search uses it)
    recent_ready = Signal(tuple)  # the library's recent queries (RecentQuery), newest first
    problem = Signal(str)  # a message for the status bar

    _open_requested = Signal(str)
    _search_posted = Signal()
    _catalog_posted = Signal()
    _favourite_requested = Signal(str, bool)
    _tempo_requested = Signal(str)
    _tempo_change_requested = Signal(TempoChange)
    _remember_requested = Signal(str, str, object)

    def __init__(self, cfg: DesktopConfig = DESKTOP) -> None:
        super().__init__()
        self._cfg = cfg
        self._lock = threading.Lock()
        self._next_search: SearchRequest | None = None
        self._catalog_wanted = False
        self._library: Library | None = None
        self._session: SearchSession | None = None
        self._listed = TrackListDiff()
        self._open_requested.connect(self._open)
        self._search_posted.connect(self._search)
        self._catalog_posted.connect(self._catalog)
        self._favourite_requested.connect(self._set_favourite)
        self._tempo_requested.connect(self._tempo)
        self._tempo_change_requested.connect(self._change_tempo)
        self._remember_requested.connect(self._remember)

    # --- called from the GUI thread ------------------------------------------------------------

    def open(self, library_dir: str) -> None:
        self._open_requested.emit(library_dir)

    def search(self, request: SearchRequest) -> None:
        """Ask for results; replaces any request not started yet."""
        with self._lock:
            self._next_search = request
        self._search_posted.emit()

    def refresh(self) -> None:
        """Ask for the track list again (it changes while a folder is indexed)."""
        with self._lock:
            self._catalog_wanted = True
        self._catalog_posted.emit()

    def set_favourite(self, path: str, favourite: bool) -> None:
        self._favourite_requested.emit(path, favourite)

    def tempo(self, path: str) -> None:
        """Ask for a library file's :class:`TempoState` (answered by ``tempo_read``; nothing for a
        file outside the library)."""
        self._tempo_requested.emit(path)

    def change_tempo(self, change: TempoChange) -> None:
        """Correct, lock, unlock or reset a file's BPM: ``tempo_corrected``, or ``problem`` saying why not."""
        self._tempo_change_requested.emit(change)

    def remember(self, path: str, mode: str, target_bpm: float | None) -> None:
        """Keep a query in the library's recent queries; ``recent_ready`` brings the new list."""
        self._remember_requested.emit(path, mode, target_bpm)

    # --- on the worker thread ------------------------------------------------------------------

    @Slot(str)
    def _open(self, library_dir: str) -> None:
        self.close()
        try:
            self._library = Library(library_dir)
        except StoreError as e:
            self.problem.emit(str(e))
            return
        self._session = SearchSession(self._library)
        self._listed.reset()  # the window still lists the library open before
        self.opened.emit(library_dir)
        self._emit_recent()

    @Slot()
    def close(self) -> None:
        if self._library is not None:
            self._library.close()
        self._library = self._session = None

    @Slot()
    def _search(self) -> None:
        with self._lock:
            request, self._next_search = self._next_search, None
        if request is None or self._session is None:
            return  # already answered by an earlier wake-up, or no library open
        self.answered.emit(self._answer(self._session, request))

    def _answer(self, session: SearchSession, request: SearchRequest) -> SearchAnswer:
        resolved = str(Path(request.path).expanduser().resolve())
        try:
            if session.query is None or session.query.path != resolved:
                session.set_query(resolved)  # a file from outside the library is analysed here, once
            session.k = request.k
            session.set_mode(request.mode)
            session.set_bpm_window(request.bpm_window)
            # The gate lists only files with a tempo; with it off ("Any tempo") one-shots, which have
            # no tempo to be at, would still crowd a list "at this tempo".
            session.set_tempo_only(request.mode == "target")
            session.set_ratio(request.ratio)
            results = session.results()
        except (SearchError, AudioError, StoreError) as e:
            same = session.query is not None and session.query.path == resolved
            return SearchAnswer(request, session.query.bpm if same else None, (), str(e))
        return SearchAnswer(request, session.query.bpm, tuple(results), window=session.window)

    @Slot()
    def _catalog(self) -> None:
        with self._lock:
            wanted, self._catalog_wanted = self._catalog_wanted, False
        if not wanted or self._library is None:
            return
        lib = self._library
        try:
            tracks, failed, info = lib.store.tracks(MusicnnEmbedder.id, MusicnnEmbedder.version), lib.failed(), lib.info()
        except StoreError as e:
            self.problem.emit(str(e))
            return
        watch = folders_to_watch(info.folders, ((f.path, f.root) for f in [*tracks, *failed]))
        self.catalog_ready.emit(Catalog(tuple(tracks), tuple(failed), info, self._listed.rows(tracks), watch))

    @Slot(str, bool)
    def _set_favourite(self, path: str, favourite: bool) -> None:
        if self._library is None:
            return
        try:
            self._library.store.set_favourite(path, favourite)
        except StoreError as e:
            self._listed.reset()  # the window shows the star it could not keep: list the library's word again
            self.problem.emit(str(e))

    @Slot(str)
    def _tempo(self, path: str) -> None:
        if self._library is None:
            return
        try:
            self.tempo_read.emit(self._library.tempo(path))
        except TempoCorrectionError:
            pass  # not a library file (dropped in from outside): it has no stored tempo to show
        except StoreError as e:
            self.problem.emit(str(e))

    @Slot(TempoChange)
    def _change_tempo(self, change: TempoChange) -> None:
        if self._library is None or self._session is None:
            return
        lib = self._library
        try:
            if change.kind == "factor":
                state = lib.correct_tempo(change.path, factor=change.value)
            elif change.kind == "bpm":
                state = lib.correct_tempo(change.path, bpm=change.value)
            elif change.kind in ("lock", "unlock"):
                state = lib.lock_tempo(change.path, change.kind == "lock")
            else:
                state = lib.reset_tempo(change.path)
            if self._session.query is not None and self._session.query.path == state.path:
                self._session.set_query(state.path)  # the query's own tempo changed: read it again
        except TempoCorrectionError as e:
            self.problem.emit(f"Tempo not changed: {e}.")
            return
        except (StoreError, SearchError, AudioError) as e:
            self.problem.emit(str(e))
            return
        self.tempo_corrected.emit(state)

    @Slot(str, str, object)
    def _remember(self, path: str, mode: str, target_bpm: float | None) -> None:
        if self._library is None:
            return
        try:
            self._library.remember_query(path, mode, target_bpm)
        except StoreError as e:
            self.problem.emit(str(e))
            return
        self._emit_recent()

    def _emit_recent(self) -> None:
        try:
            self.recent_ready.emit(tuple(self._library.recent_queries(self._cfg.recent_queries)))
        except StoreError as e:
            self.problem.emit(str(e))


class IndexWorker(ThreadWorker):
    """Indexes folders, one :class:`ScanEvent` per file, and stops between files when cancelled.

    What was indexed before a cancel is committed and searchable; the next run carries on from there.
    The MusiCNN weights are loaded once and reused across runs and libraries.
    """

    progress = Signal(ScanEvent)
    finished = Signal(IndexOutcome)

    _index_requested = Signal(str, object)

    def __init__(self, workers: int | None = None) -> None:
        super().__init__()
        self.workers = workers  # analysis processes; None: the engine's default
        self._cancel = threading.Event()
        self._library: Library | None = None
        self._embedder: MusicnnEmbedder | None = None
        self._index_requested.connect(self._index)

    def index(self, library_dir: str, folders: tuple[str, ...]) -> None:
        """Index ``folders`` into the library in ``library_dir``, one after the other."""
        self._cancel.clear()
        self._index_requested.emit(library_dir, tuple(folders))

    def cancel(self) -> None:
        """Thread-safe: the running job stops after the file in hand."""
        self._cancel.set()

    @Slot(str, object)
    def _index(self, library_dir: str, folders: tuple[str, ...]) -> None:
        counts: Counter[str] = Counter()
        try:
            lib = self._library_at(library_dir)
            for folder in folders:
                if self._cancel.is_set():
                    break
                events = lib.index(folder, workers=self.workers)
                try:
                    for event in events:
                        counts[event.outcome] += 1
                        self.progress.emit(event)
                        if self._cancel.is_set():
                            break
                finally:
                    events.close()  # commits what was analysed before a cancel
        except (ScanError, StoreError, OSError) as e:  # OSError: a folder that cannot be read
            self.finished.emit(IndexOutcome(folders, dict(counts), self._cancel.is_set(), str(e)))
            return
        self.finished.emit(IndexOutcome(folders, dict(counts), self._cancel.is_set()))

    def _library_at(self, library_dir: str) -> Library:
        if self._library is None or self._library.library_dir != Path(library_dir).expanduser():
            self.close()
            if self._embedder is None:
                self._embedder = MusicnnEmbedder()
            self._library = Library(library_dir, embedder=self._embedder)
        return self._library

    @Slot()
    def close(self) -> None:
        if self._library is not None:
            self._library.close()
            self._library = None

