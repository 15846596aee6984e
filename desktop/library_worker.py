"""The library for the window: the track list, the failed files, searches, BPM corrections and
recent queries, each a job on the library's own lane (desktop/jobs.py).

The lane opens its own :class:`Library`, because a SQLite connection belongs to the thread that made
it, and keeps one :class:`SearchSession`, so that turning the knob over the same query costs one
translation and one index query per answer. The window calls the public methods from the GUI
thread; they submit a job and return at once, and the answer comes back as a signal.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from pathlib import Path

from PySide6.QtCore import Signal, SignalInstance

from engine.config import DESKTOP, DesktopConfig
from engine.errors import SbfError
from engine.library.facade import Library, rebuild_library
from engine.library.store import DamagedLibrary, RecentQuery, StoreError
from engine.library.tempo_state import TempoCorrectionError, TempoState
from engine.search.session import SearchSession
from desktop.folder_watcher import folders_to_watch
from desktop.jobs import Job, Worker
from desktop.messages import Catalog, SearchAnswer, SearchRequest, TempoChange
from desktop.widgets.track_table import TrackListDiff


class LibraryWorker(Worker):
    """Reads and writes the library for the window.

    The tempo knob sends a search on every move; searches go through a latest-wins mailbox, so only
    the newest one waiting is answered and the results follow the knob however fast it turns.
    Requests for the track list coalesce the same way. Each catalog carries what changed in the
    track list since the one before (:class:`TrackListDiff`), worked out on the lane rather than on
    the GUI thread. What cannot be done is said in ``problem`` (for the status bar); a search that
    cannot be done is answered with its reason.
    """

    catalog_ready = Signal(Catalog)
    answered = Signal(SearchAnswer)
    tempo_read = Signal(TempoState)  # a library file's tempo, as asked for by tempo()
    tempo_corrected = Signal(TempoState)  # after a correction, lock or reset (the next search uses it)
    recent_ready = Signal(tuple)  # the library's recent queries (RecentQuery), newest first
    problem = Signal(str)  # a message for the status bar
    folder_removed = Signal(object)  # after remove_folder(): the engine's FolderRemoved
    damaged = Signal(str)  # the library's database is damaged (the message says so): offer to rebuild it
    rebuilt = Signal(object)  # after rebuild(): the engine's Rebuilt, or why it could not be done (str)

    def __init__(self, cfg: DesktopConfig = DESKTOP, synchronous: bool | None = None) -> None:
        super().__init__(synchronous)
        self._cfg = cfg
        self._library: Library | None = None  # these three belong to the lane's thread
        self._session: SearchSession | None = None
        self._listed = TrackListDiff()

    # --- called from the GUI thread ------------------------------------------------------------

    def open(self, library_dir: str) -> None:
        """Open the library in ``library_dir`` instead of the one open; ``recent_ready`` follows."""
        self._submit(partial(self._open, library_dir), _unless_none(self.recent_ready))

    def search(self, request: SearchRequest) -> None:
        """Ask for results; replaces any search not started yet."""
        def unanswerable(message: str) -> None:  # a bug, not the engine's word: answered all the same
            self.answered.emit(SearchAnswer(request, None, (), message))

        self._submit(partial(self._answer, request), _unless_none(self.answered), unanswerable, mailbox="search")

    def refresh(self) -> None:
        """Ask for the track list again (it changes while a folder is indexed)."""
        self._submit(self._catalog, _unless_none(self.catalog_ready), mailbox="catalog")

    def set_favourite(self, path: str, favourite: bool) -> None:
        self._submit(partial(self._set_favourite, path, favourite))

    def tempo(self, path: str) -> None:
        """Ask for a library file's :class:`TempoState` (answered by ``tempo_read``; nothing for a
        file outside the library)."""
        self._submit(partial(self._tempo, path), _unless_none(self.tempo_read))

    def change_tempo(self, change: TempoChange) -> None:
        """Correct, lock, unlock or reset a file's BPM: ``tempo_corrected``, or ``problem`` saying why not."""
        self._submit(partial(self._change_tempo, change), _unless_none(self.tempo_corrected))

    def remember(self, path: str, mode: str, target_bpm: float | None) -> None:
        """Keep a query in the library's recent queries; ``recent_ready`` brings the new list."""
        self._submit(partial(self._remember, path, mode, target_bpm), _unless_none(self.recent_ready))

    def rebuild(self, library_dir: str) -> None:
        """Rebuild the damaged library in ``library_dir`` (engine.library.facade.rebuild_library) and open
        the new one; ``rebuilt`` follows. No other lane may hold the library open meanwhile."""
        self._submit(partial(self._rebuild, library_dir), self.rebuilt.emit, self.rebuilt.emit)

    def remove_folder(self, folder: str) -> None:
        """Take an added folder out of the library (Library.remove_folder): ``folder_removed``, or
        ``problem`` saying why not."""
        self._submit(partial(self._remove_folder, folder), _unless_none(self.folder_removed))

    def _submit(self, work: Callable[[], object], answer: Callable[[object], None] | None = None,
                failed: Callable[[str], None] | None = None, mailbox: str | None = None) -> None:
        job = Job(partial(self._noticing_damage, work), mailbox)
        if answer is not None:
            job.returned.connect(answer)
        job.failed.connect(failed or self.problem)
        self.lane.submit(job)

    # --- on the lane: None where no library is open ---------------------------------------------

    def _noticing_damage(self, work: Callable[[], object]) -> object:
        try:
            return work()
        except DamagedLibrary as e:
            self.damaged.emit(str(e))
            raise

    def _rebuild(self, library_dir: str) -> object:
        self.close()
        try:
            return rebuild_library(library_dir)
        finally:
            try:
                self._open(library_dir)
            except SbfError:  # the rebuild failed, and the damaged library cannot be opened either
                pass

    def _open(self, library_dir: str) -> tuple[RecentQuery, ...]:
        self.close()
        self._library = Library(library_dir)
        self._session = SearchSession(self._library)
        self._listed.reset()  # the window still lists the library open before
        return self._recent()

    def close(self) -> None:
        if self._library is not None:
            self._library.close()
        self._library = self._session = None

    def _answer(self, request: SearchRequest) -> SearchAnswer | None:
        session = self._session
        if session is None:
            return None
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
        except SbfError as e:  # a file that cannot be read, a runtime that cannot load: said in the list
            if isinstance(e, DamagedLibrary):
                self.damaged.emit(str(e))
            same = session.query is not None and session.query.path == resolved
            return SearchAnswer(request, session.query.bpm if same else None, (), str(e))
        return SearchAnswer(request, session.query.bpm, tuple(results), window=session.window)

    def _catalog(self) -> Catalog | None:
        lib = self._library
        if lib is None:
            return None
        tracks, failed, info = lib.tracks(), lib.failed(), lib.info()  # tracks of offline folders marked offline
        watch = folders_to_watch(info.folders, ((f.path, f.root) for f in [*tracks, *failed]))
        return Catalog(tuple(tracks), tuple(failed), info, self._listed.rows(tracks), watch)

    def _remove_folder(self, folder: str) -> object:
        if self._library is None:
            return None
        return self._library.remove_folder(folder)

    def _set_favourite(self, path: str, favourite: bool) -> None:
        if self._library is None:
            return
        try:
            self._library.store.set_favourite(path, favourite)
        except StoreError:
            self._listed.reset()  # the window shows the star it could not keep: list the library's word again
            raise

    def _tempo(self, path: str) -> TempoState | None:
        if self._library is None:
            return None
        try:
            return self._library.tempo(path)
        except TempoCorrectionError:
            return None  # not a library file (dropped in from outside): it has no stored tempo to show

    def _change_tempo(self, change: TempoChange) -> TempoState | None:
        lib, session = self._library, self._session
        if lib is None or session is None:
            return None
        try:
            if change.kind == "factor":
                state = lib.correct_tempo(change.path, factor=change.value)
            elif change.kind == "bpm":
                state = lib.correct_tempo(change.path, bpm=change.value)
            elif change.kind in ("lock", "unlock"):
                state = lib.lock_tempo(change.path, change.kind == "lock")
            else:
                state = lib.reset_tempo(change.path)
        except TempoCorrectionError as e:
            raise TempoCorrectionError(f"Tempo not changed: {e}.") from e
        if session.query is not None and session.query.path == state.path:
            session.set_query(state.path)  # the query's own tempo changed: read it again
        return state

    def _remember(self, path: str, mode: str, target_bpm: float | None) -> tuple[RecentQuery, ...] | None:
        if self._library is None:
            return None
        self._library.remember_query(path, mode, target_bpm)
        return self._recent()

    def _recent(self) -> tuple[RecentQuery, ...]:
        return tuple(self._library.recent_queries(self._cfg.recent_queries))


def _unless_none(signal: SignalInstance) -> Callable[[object], None]:
    """A slot that passes a job's result on to ``signal``, unless there was none (no library open)."""
    def forward(value: object) -> None:
        if value is not None:
            signal.emit(value)
    return forward
