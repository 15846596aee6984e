"""The window: the track list on the left, the query with its tempo knob and the results on the right.

It owns the four workers (library reads and writes with searches, indexing, audio, stretched
copies), each running its jobs on a lane of its own (desktop/jobs.py), and only ever talks to them
through their methods, which return at once, and their signals, which arrive on the GUI thread: the
GUI thread never decodes audio or touches the database. Every job ends with an answer or a reason,
so a failure (a runtime that cannot load, a library that cannot open) shows as a message and the
window stays usable.
"""

from __future__ import annotations

import os
import time
from functools import partial
from pathlib import Path

from PySide6.QtCore import QSettings, QTimer, Signal
from PySide6.QtGui import QAction, QCloseEvent
from PySide6.QtWidgets import (QFileDialog, QLabel, QMainWindow, QMenu, QMessageBox, QSplitter, QTabWidget, QToolBar, QToolButton,
                               QVBoxLayout, QWidget)

from engine.config import DEMO_DIR
from engine.config import DESKTOP, DesktopConfig
from engine.library.facade import default_library_dir
from engine.audio.stretched import default_cache_dir
from engine.audio.paths import shown
from engine.library.scan import ScanEvent
from engine.search.session import DEFAULT_WINDOW, MODES
from engine.library.store import RecentQuery
from engine.library.tempo_state import TempoState
from desktop import window_state
from desktop.audio.player import AudioPlayer
from desktop.audio.stretch_renderer import StretchRenderer
from desktop.audio.tempo_lock import TempoLock
from desktop.folder_watcher import FolderWatcher
from desktop.formatting import bpm_text, file_name
from desktop.index_worker import IndexWorker
from desktop.latency import prepare_process
from desktop.library_worker import LibraryWorker
from desktop.messages import Catalog, IndexOutcome, Playback, SearchAnswer, SearchRequest
from desktop.widgets.errors_panel import ErrorsPanel, ProblemsTab
from desktop.widgets.index_panel import IndexPanel
from desktop.widgets.query_panel import QueryPanel
from desktop.widgets.recent_menu import RecentMenu
from desktop.widgets.results_view import ResultsView
from desktop.widgets.track_table import TrackTable
from desktop.widgets.welcome_banner import WelcomeBanner

TITLE = "Similar But Faster"


def demo_library_dir() -> Path:
    """Where the demo library is kept: beside the user's own library, never mixed into it (as ``sbf demo``)."""
    return default_library_dir() / "demo"


class MainWindow(QMainWindow):
    """The sample browser.

    Parameters
    ----------
    library_dir : the musician's library (the demo library opens beside it, never mixed in)
    index_workers : analysis processes while indexing (None: the engine's default)
    settings : where the window keeps its state between sessions (geometry, splitter, last library,
        mode, tempo lock); None keeps nothing (``--screenshot``, tests)
    cache_dir : where stretched copies are rendered (None: the user's cache folder)
    """

    catalog_shown = Signal(Catalog)
    index_progress_shown = Signal(ScanEvent)
    results_shown = Signal(SearchAnswer)
    indexing_finished = Signal(IndexOutcome)
    tempo_shown = Signal(TempoState)  # the query's tempo after a correction, once the window shows it
    recent_shown = Signal(tuple)

    def __init__(self, library_dir: Path, index_workers: int | None = None, cfg: DesktopConfig = DESKTOP,
                 settings: QSettings | None = None, cache_dir: Path | None = None) -> None:
        super().__init__()
        prepare_process(cfg)
        self._cfg = cfg
        self._settings = settings
        self._home_dir = Path(library_dir).expanduser()
        self._library_dir = self._home_dir
        self._folders: tuple[str, ...] = ()
        self._offline: dict[str, str] = {}  # the library's folders that are offline now, each with the reason
        self._query: str | None = None
        self._bpm_window: float | None | str = DEFAULT_WINDOW  # "at this tempo"'s gate, as widened for this query
        self._awaiting_bpm = False  # the query came from outside: its tempo is known after the first answer
        self._pending_target: float | None = None  # a recent query's target BPM, set once its tempo is known
        self._seq = self._shown_seq = 0
        self._indexing = False
        self._pending_rescan: set[str] = set()  # folders that changed while indexing ran
        self._live_failures: dict[str, str] = {}  # failures of the running scan, before the library lists them
        self._last_refresh = 0.0
        self._answer: SearchAnswer | None = None
        self._remembered: tuple[str, str, float | None] | None = None  # the last query written to Recent
        self._playback: Playback | None = None
        self._playback_began = 0.0  # time.monotonic() when it began
        self._closed = False

        self.track_table = TrackTable()
        self.banner = WelcomeBanner()
        self.banner.hide()
        self.summary = QLabel()
        self.query_panel = QueryPanel()
        self.knob = self.query_panel.knob
        self.waveform = self.query_panel.waveform
        self.results_view = ResultsView()
        self.errors_panel = ErrorsPanel()
        self.tabs = QTabWidget()
        self.tabs.addTab(self.results_view, "Results")
        self.problems = ProblemsTab(self.errors_panel)
        self.tabs.addTab(self.problems, "Problems (0)")
        self.index_panel = IndexPanel()
        self.recent_menu = RecentMenu(self)
        self.watcher = FolderWatcher(self, cfg)
        self._build_layout()

        self.library_worker = LibraryWorker(cfg)
        self.index_worker = IndexWorker(index_workers)
        self.player = AudioPlayer(cfg)
        self.renderer = StretchRenderer(cache_dir or default_cache_dir())
        self._workers = ((self.library_worker, "library"), (self.index_worker, "index"), (self.player, "audio"),
                         (self.renderer, "render"))
        for worker, name in self._workers:
            worker.start_thread(name)
        QTimer.singleShot(0, self.player.warm_up)  # once the window shows, and whoever waits for warmed_up listens
        self.tempo_lock = TempoLock(self.renderer, self._bpm_of, self)
        self._play_timer = QTimer(self, singleShot=True)
        self._play_timer.timeout.connect(self._playback_ended)
        self._playhead_timer = QTimer(self, interval=cfg.playhead_ms)
        self._playhead_timer.timeout.connect(self._move_playhead)
        self._settle_timer = QTimer(self, singleShot=True, interval=int(cfg.settle_seconds * 1000))
        self._settle_timer.timeout.connect(self._settled)
        self._connect()
        self._restore_state()
        self.track_table.view.setFocus()

    def _build_layout(self) -> None:
        toolbar = QToolBar("Library", movable=False)
        self.add_folder_action = QAction("Add folder…", self, triggered=self.choose_folder)
        self.rescan_action = QAction("Rescan", self, triggered=lambda: self.index(self._folders))
        self.demo_action = QAction("Demo library", self, triggered=self.open_demo)
        self.home_action = QAction("My library", self, triggered=lambda: self.open_library(self._home_dir))
        for action in (self.add_folder_action, self.rescan_action, self.demo_action, self.home_action):
            toolbar.addAction(action)
        self.remove_menu = QMenu(self)  # the library's folders, each to remove on purpose
        self.remove_button = QToolButton(text="Remove folder", toolTip="Take a folder out of the library (your BPM "
                                         "corrections and favourites are kept, should it come back)")
        self.remove_button.setMenu(self.remove_menu)
        self.remove_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.remove_button.setEnabled(False)
        toolbar.addWidget(self.remove_button)
        # Shown only once the library's database is found damaged (nothing more is written into it then).
        self.rebuild_action = QAction("Rebuild library", self, triggered=self.rebuild_library,
                                      toolTip="Rebuild the damaged library from your sample folders, keeping your "
                                              "corrections and favourites; the damaged file is kept as a backup")
        self.rebuild_action.setVisible(False)
        toolbar.addAction(self.rebuild_action)
        recent = QToolButton(text="Recent", toolTip="Open a recent query again, with the knob where it was")
        recent.setMenu(self.recent_menu)
        recent.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        toolbar.addWidget(recent)
        self.addToolBar(toolbar)
        left, right = QWidget(), QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.addWidget(self.banner)
        left_layout.addWidget(self.track_table, 1)
        left_layout.addWidget(self.summary)
        right_layout = QVBoxLayout(right)
        right_layout.addWidget(self.query_panel)
        right_layout.addWidget(self.tabs, 1)
        self.splitter = QSplitter()
        self.splitter.addWidget(left)
        self.splitter.addWidget(right)
        self.splitter.setSizes([700, 580])
        self.setCentralWidget(self.splitter)
        self.statusBar().addPermanentWidget(self.index_panel)
        self.resize(1280, 800)

    def _connect(self) -> None:
        status = self.statusBar().showMessage
        self.track_table.current_changed.connect(self._use_query)
        self.track_table.play_requested.connect(self.toggle_play)
        self.track_table.favourite_toggled.connect(lambda path, on: self.library_worker.set_favourite(path, on))
        self.results_view.play_requested.connect(self.toggle_play)
        self.results_view.query_requested.connect(self.set_query)
        self.results_view.widen_requested.connect(self.set_bpm_window)
        self.query_panel.file_dropped.connect(self.set_query)
        self.query_panel.tempo_change_requested.connect(lambda change: self.library_worker.change_tempo(change))
        self.query_panel.seek_requested.connect(self.play_query_from)
        self.query_panel.play_clicked.connect(self._play_query)
        self.query_panel.tempo_lock_toggled.connect(self.set_tempo_locked)
        self.knob.changed.connect(lambda _setting: self._knob_moved())
        self.banner.demo_requested.connect(self.open_demo)
        self.banner.folder_requested.connect(self.choose_folder)
        self.errors_panel.count_changed.connect(lambda n: self.tabs.setTabText(1, f"Problems ({n})"))
        self.problems.retry_requested.connect(self.retry_failed)
        self.recent_menu.chosen.connect(self.open_recent)
        self.watcher.changed.connect(self._folders_changed)
        self.index_panel.cancel_requested.connect(self.index_worker.cancel)
        self.library_worker.catalog_ready.connect(self._show_catalog)
        self.library_worker.answered.connect(self._show_answer)
        self.library_worker.tempo_read.connect(self.query_panel.show_tempo)
        self.library_worker.tempo_corrected.connect(self._tempo_corrected)
        self.library_worker.recent_ready.connect(self._show_recent)
        self.library_worker.problem.connect(status)
        self.library_worker.folder_removed.connect(self._folder_removed)
        self.library_worker.damaged.connect(self._library_damaged)
        self.library_worker.rebuilt.connect(self._rebuilt)
        self.index_worker.damaged.connect(self._library_damaged)
        self.index_worker.progress.connect(self._show_progress)
        self.index_worker.finished.connect(self._index_finished)
        self.player.playing.connect(self._playback_started)
        self.player.waveform_ready.connect(self.waveform.set_waveform)
        self.player.problem.connect(status)
        self.tempo_lock.not_ready.connect(status)
        self.catalog_shown.connect(lambda _catalog: self.tempo_lock.retry_failed())  # a file may have been fixed
        for model in (self.track_table.model, self.results_view.model):
            model.drag_file = self.tempo_lock.drag_file
        self.query_panel.name.drag_file = self.tempo_lock.drag_file

    # --- library --------------------------------------------------------------------------------

    def open_library(self, library_dir: Path) -> None:
        if self._indexing:
            self.statusBar().showMessage("Wait for indexing to finish (or cancel it) before switching libraries.")
            return
        self._library_dir = Path(library_dir).expanduser()
        self._query = self._answer = self._remembered = None
        self.results_view.clear()
        self.watcher.clear()
        self.recent_menu.set_queries(())
        demo = self._library_dir != self._home_dir
        self.setWindowTitle(f"{TITLE} — {'demo library' if demo else self._library_dir}")
        self.library_worker.open(str(self._library_dir))
        self.library_worker.refresh()

    def _library_damaged(self, message: str) -> None:
        """The library's database is damaged: say so, and offer Rebuild library."""
        self.rebuild_action.setVisible(True)
        self.statusBar().showMessage(message)

    def rebuild_library(self) -> None:
        """Rebuild the damaged library from what can be read of it (a backup of the damaged file is kept),
        then scan its folders again for what was lost."""
        if self._indexing:
            self.statusBar().showMessage("Wait for indexing to finish (or cancel it) before rebuilding the library.")
            return
        self._indexing = True  # nothing else may open or index the library meanwhile
        self.rebuild_action.setEnabled(False)
        self.statusBar().showMessage("Rebuilding the library from what can be read of it…")
        library_dir = str(self._library_dir)
        # The indexing lane lets go of the database first: the rebuild replaces its file.
        self.index_worker.release(lambda: self.library_worker.rebuild(library_dir))

    def _rebuilt(self, result: object) -> None:
        self._indexing = False
        self.rebuild_action.setEnabled(True)
        if isinstance(result, str):  # it could not be done: why, and the offer stands
            self.statusBar().showMessage(result)
            return
        self.rebuild_action.setVisible(False)
        self.statusBar().showMessage(f"Rebuilt the library; the damaged file is kept as {result.backup}.")
        self.library_worker.refresh()
        self.index(tuple(folder for folder in result.folders if Path(folder).is_dir()))

    def open_demo(self) -> None:
        """The bundled demo library, in its own library folder; indexed on first use."""
        if self._library_dir != demo_library_dir():
            self.open_library(demo_library_dir())
        self.index((str(DEMO_DIR),))

    def library_dir(self) -> Path:
        return self._library_dir

    def choose_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Add a folder of samples")
        if folder:
            self.add_folder(folder)

    def add_folder(self, folder: str) -> None:
        """Index ``folder`` into the musician's own library (never into the demo library)."""
        if self._library_dir != self._home_dir:
            self.open_library(self._home_dir)
        self.index((folder,))

    def retry_failed(self) -> None:
        """Try every file listed under Problems again, changed or not."""
        if self._indexing:
            self.statusBar().showMessage("Wait for indexing to finish (or cancel it) before retrying.")
            return
        self.index(self._folders, retry_failed=True)

    def index(self, folders: tuple[str, ...], retry_failed: bool = False) -> None:
        if self._indexing or not folders:
            return
        self._indexing = True
        self._live_failures.clear()
        for action in (self.add_folder_action, self.rescan_action, self.demo_action, self.home_action):
            action.setEnabled(False)
        self.banner.hide()
        self.index_panel.start(folders)
        self.index_worker.index(str(self._library_dir), folders, retry_failed)

    def is_indexing(self) -> bool:
        return self._indexing

    def _folders_changed(self, roots: tuple[str, ...]) -> None:
        """Files came, went or were renamed in indexed folders: rescan those (only changes are analysed)."""
        if self._indexing:
            self._pending_rescan.update(roots)
        else:
            self.index(roots)

    def _show_progress(self, event: ScanEvent) -> None:
        self.index_panel.show_progress(event)
        if event.outcome == "failed":
            self._live_failures[event.path] = event.reason or "unknown problem"
            self.errors_panel.add(event.path, event.reason or "unknown problem")
        now = time.monotonic()
        if now - self._last_refresh >= self._cfg.refresh_seconds:
            self._last_refresh = now  # what is indexed so far is listed and searched while the rest goes on
            self.library_worker.refresh()
            self.search()
        self.index_progress_shown.emit(event)

    def _index_finished(self, outcome: IndexOutcome) -> None:
        self._indexing = False
        for action in (self.add_folder_action, self.rescan_action, self.demo_action, self.home_action):
            action.setEnabled(True)
        self.index_panel.finish(outcome)
        self.statusBar().showMessage(_outcome_text(outcome))
        self.library_worker.refresh()
        self.search()
        self.indexing_finished.emit(outcome)
        if self._pending_rescan:
            roots, self._pending_rescan = tuple(sorted(self._pending_rescan)), set()
            self.index(roots)

    def _show_catalog(self, catalog: Catalog) -> None:
        if Path(catalog.info.library_dir) != self._library_dir:
            return  # the library that was open before a switch
        self._folders = tuple(catalog.info.folders)
        self._offline = dict(catalog.info.offline)
        self._list_removable(self._folders)
        self.watcher.watch(self._folders, catalog.watch_dirs)
        self.track_table.apply(catalog.rows)
        self.errors_panel.set_failed(catalog.failed)
        for path, reason in self._live_failures.items():
            self.errors_panel.add(path, reason)
        info = catalog.info
        self.banner.setVisible(not (catalog.tracks or catalog.failed or self._indexing))
        sounds = f"{info.files_ok} sounds, {info.total_seconds / 60:.1f} min of audio, in {len(info.folders)} folder(s)"
        failed = f"; {info.files_failed} could not be read" if info.files_failed else ""
        offline = f"; {len(info.offline)} folder(s) offline, greyed out" if info.offline else ""
        self.summary.setText(sounds + failed + offline if info.files_ok or info.files_failed else "No sounds yet")
        self.catalog_shown.emit(catalog)

    def _list_removable(self, folders: tuple[str, ...]) -> None:
        self.remove_menu.clear()
        for folder in folders:
            label = shown(folder) + ("  (offline)" if folder in self._offline else "")
            self.remove_menu.addAction(label).triggered.connect(partial(self._confirm_remove, folder))
        self.remove_button.setEnabled(bool(folders))

    def _confirm_remove(self, folder: str) -> None:
        answer = QMessageBox.question(
            self, "Remove folder",
            f"Take {shown(folder)} out of the library?\n\nIts files leave the library (nothing is deleted from "
            "the disk). Your BPM corrections, locks and favourites are kept, should they be added again.")
        if answer == QMessageBox.StandardButton.Yes:
            self.remove_folder(folder)

    def remove_folder(self, folder: str) -> None:
        """Take ``folder`` out of the library, on purpose (an offline one too); the list follows."""
        if self._indexing:
            self.statusBar().showMessage("Wait for indexing to finish (or cancel it) before removing a folder.")
            return
        self.library_worker.remove_folder(folder)

    def _folder_removed(self, done) -> None:
        if done.inside is not None:
            self.statusBar().showMessage(f"{shown(done.folder)} lies inside {shown(done.inside)}, which stays in "
                                         "the library with its files.")
        else:
            self.statusBar().showMessage(f"Removed {shown(done.folder)} from the library ({done.files} files); "
                                         "their corrections and favourites are kept.")
        self.library_worker.refresh()

    def offline_reason(self, path: str) -> str | None:
        """Why ``path`` cannot be played now (its folder is offline), None when it can be."""
        for root, why in self._offline.items():
            if path.startswith(root.rstrip(os.sep) + os.sep):
                return f"{file_name(path)} cannot be played: its folder {shown(root)} is offline, {why}."
        return None

    # --- query and results ----------------------------------------------------------------------

    def set_query(self, path: str) -> None:
        """Make ``path`` the query: a library file is selected in the list, any other audio file is
        analysed on the library thread."""
        resolved = str(Path(path).expanduser().resolve())
        if not self.track_table.select_path(resolved):  # selecting it calls _use_query
            self._use_query(resolved)

    def query(self) -> str | None:
        return self._query

    def latest_request(self) -> int:
        return self._seq

    def open_recent(self, recent: RecentQuery) -> None:
        """Make a recent query the query again, with the mode and target tempo it had."""
        self._pending_target = None
        self.set_query(recent.path)
        if recent.mode != "target" or recent.target_bpm is None:
            self.knob.set_mode(recent.mode)
        elif self.knob.query_bpm() is not None:
            self.knob.set_target_bpm(recent.target_bpm)
        else:
            self._pending_target = recent.target_bpm  # a file from outside: once its tempo is known

    def _use_query(self, path: str) -> None:
        if path == self._query:
            return
        self._query = path
        self._bpm_window = DEFAULT_WINDOW  # widened for the sound before, not for this one
        track = self.track_table.track_at_path(path)
        self._awaiting_bpm = track is None
        self._pending_target = None
        if track is None:
            self.track_table.clear_selection()  # the query is no longer the listed file
        else:
            self.library_worker.tempo(path)  # its lock and estimate, for the BPM correction
        self.query_panel.set_query(path, track)
        self.player.load_waveform(path)
        self._move_playhead()  # what plays is no longer the query
        self._knob_moved()

    def _knob_moved(self) -> None:
        self.tempo_lock.target_bpm = self.knob.dial_bpm()
        self.search()

    def set_bpm_window(self, percent: float | None) -> None:
        """"At this tempo" lists files within ``percent`` of the knob's tempo (None: at any tempo) until
        the query changes, and searches again."""
        self._bpm_window = percent
        self.search()

    def search(self) -> None:
        """Ask for the current query's neighbours at the knob's setting (a newer ask replaces it)."""
        if self._query is None:
            return
        self._seq += 1
        setting = self.knob.setting()
        window = self._bpm_window if setting.mode == "target" else DEFAULT_WINDOW  # only a tempo has a window
        self.library_worker.search(SearchRequest(self._seq, self._query, setting.mode, setting.ratio,
                                                 self._cfg.results, window))

    def _show_answer(self, answer: SearchAnswer) -> None:
        if answer.request.seq <= self._shown_seq or answer.request.path != self._query:
            return  # older than what is shown, or for another query
        self._shown_seq = answer.request.seq
        self._answer = answer
        if self._awaiting_bpm and answer.error is None:
            self._awaiting_bpm = False
            self.query_panel.set_analysed_bpm(answer.query_bpm)
            if self._pending_target is not None and answer.query_bpm is not None:
                self.knob.set_target_bpm(self._pending_target)  # searches again
            self._pending_target = None
            self.tempo_lock.target_bpm = self.knob.dial_bpm()
        self.results_view.show_answer(answer)
        self._settle_timer.start()  # restarts: acts once the knob has rested
        self.results_shown.emit(answer)

    def _settled(self) -> None:
        """The knob has rested: remember the query, and make the stretched copies drags will want."""
        answer = self._answer
        if answer is None or answer.error is not None or answer.request.path != self._query:
            return
        req = answer.request
        target = answer.query_bpm * req.ratio if req.mode == "target" and answer.query_bpm else None
        if (req.path, req.mode, target) != self._remembered:
            self._remembered = (req.path, req.mode, target)
            self.library_worker.remember(req.path, req.mode, target)
        self.tempo_lock.prepare([req.path, *(r.path for r in answer.results)])

    def _show_recent(self, queries: tuple[RecentQuery, ...]) -> None:
        self.recent_menu.set_queries(queries)
        self.recent_shown.emit(queries)

    def _tempo_corrected(self, state: TempoState) -> None:
        """A BPM correction, lock or reset was stored: the list, the query and the results follow."""
        self.track_table.set_tempo(state.path, state.bpm, state.source)
        tempo = f"{bpm_text(state.bpm)} BPM" if state.bpm is not None else "no tempo"
        self.statusBar().showMessage(f"{Path(state.path).name}: {tempo}{', locked' if state.locked else ''}.")
        if state.path == self._query:
            self.query_panel.show_tempo(state, retune=True)
            self._knob_moved()
        self.tempo_shown.emit(state)

    def _bpm_of(self, path: str) -> float | None:
        """A file's tempo as played and dragged at the knob's tempo: the reading a result was listed at
        (a loop whose estimate split between 90 and 180 BPM, listed near 180, is stretched from 180, not
        doubled), else the list's, else (a query from outside) its analysis'."""
        results = self._answer.results if self._answer is not None and path != self._query else ()
        listed = next((r for r in results if r.path == path), None)
        if listed is not None and listed.bpm is not None:
            return listed.bpm
        track = self.track_table.track_at_path(path)
        if track is not None:
            return track.bpm
        return self.knob.query_bpm() if path == self._query else None

    # --- previews -------------------------------------------------------------------------------

    def set_tempo_locked(self, on: bool) -> None:
        """Play and drag loops at the knob's tempo (one-shots as they are)."""
        if self.query_panel.tempo_lock.isChecked() != on:
            self.query_panel.tempo_lock.setChecked(on)  # comes back here through the toggle
            return
        self.tempo_lock.set_enabled(on)
        if on:
            self._settled()

    def toggle_play(self, path: str) -> None:
        """Space: play ``path`` (at the knob's tempo when tempo-locked), or stop it when it is playing."""
        if self._playback is not None and path == self._playback.path:
            self.player.stop()
            self._playback_ended()
        else:
            self._preview(path)

    def _play_query(self) -> None:
        if self._query is not None:
            self.toggle_play(self._query)

    def play_query_from(self, seconds: float) -> None:
        """The waveform was clicked: play the query from there."""
        if self._query is not None:
            self._preview(self._query, seconds)

    def _preview(self, path: str, start: float = 0.0) -> None:
        """Play at the tempo lock's ratio: from the stretched copy made for dragging when there is one,
        so that the audio thread does not stretch the same sound a second time."""
        offline = self.offline_reason(path)
        if offline is not None:  # greyed out in the lists: said, not tried
            self.statusBar().showMessage(offline)
            return
        self.player.play(path, self.tempo_lock.tau_for(path), start, self.tempo_lock.copy_of(path))

    def _playback_started(self, playback: Playback) -> None:
        self._playback = playback
        self._playback_began = time.monotonic()
        self._play_timer.start(int(playback.seconds * 1000) + 50)
        at = f" at {bpm_text(self.tempo_lock.target_bpm)} BPM" if playback.tau != 1.0 else ""
        self.statusBar().showMessage(f"Playing {Path(playback.path).name}{at}", int(playback.seconds * 1000))
        self._move_playhead()
        self._playhead_timer.start()

    def _move_playhead(self) -> None:
        pb = self._playback
        query_playing = pb is not None and pb.path == self._query
        self.query_panel.play.setText("Stop" if query_playing else "Play")
        if not query_playing:
            self.waveform.set_playhead(None)
            self._playhead_timer.stop()
            return
        self.waveform.set_playhead(pb.start + (time.monotonic() - self._playback_began) * pb.tau)

    def _playback_ended(self) -> None:
        self._playback = None
        self._play_timer.stop()
        self._move_playhead()

    def playing(self) -> Playback | None:
        return self._playback

    # --- window state ---------------------------------------------------------------------------

    def _restore_state(self) -> None:
        """Open the last library (the demo library or the musician's own) as the window was left."""
        s = self._settings
        if s is None:
            self.open_library(self._home_dir)
            return
        if s.contains(window_state.GEOMETRY):
            self.restoreGeometry(s.value(window_state.GEOMETRY))
        if s.contains(window_state.SPLITTER):
            self.splitter.restoreState(s.value(window_state.SPLITTER))
        mode = s.value(window_state.MODE)
        if mode in MODES:
            self.knob.set_mode(mode)
        self.set_tempo_locked(window_state.read_bool(s, window_state.TEMPO_LOCK))
        if s.value(window_state.LIBRARY) == str(demo_library_dir()):
            self.open_demo()
        else:
            self.open_library(self._home_dir)

    def _save_state(self) -> None:
        s = self._settings
        if s is None:
            return
        s.setValue(window_state.GEOMETRY, self.saveGeometry())
        s.setValue(window_state.SPLITTER, self.splitter.saveState())
        s.setValue(window_state.LIBRARY, str(self._library_dir))
        s.setValue(window_state.MODE, self.knob.mode())
        s.setValue(window_state.TEMPO_LOCK, self.tempo_lock.enabled)
        s.sync()

    # --- closing --------------------------------------------------------------------------------

    def shutdown(self) -> None:
        """Keep the window's state, stop indexing after the file in hand, stop playback and end the
        worker threads."""
        if self._closed:
            return
        self._closed = True
        self._save_state()
        self.index_worker.cancel()
        self.player.stop()
        for worker, _name in self._workers:
            worker.end_thread()

    def closeEvent(self, event: QCloseEvent) -> None:
        self.shutdown()
        super().closeEvent(event)


def _outcome_text(outcome: IndexOutcome) -> str:
    c = outcome.counts
    if outcome.error:
        return outcome.error
    if outcome.cancelled:
        return f"Cancelled: the {c.get('indexed', 0)} files indexed so far are kept; Rescan carries on."
    counted = ", ".join(f"{c[k]} {word}" for k, word in _OUTCOME_WORDS.items() if c.get(k))
    return f"Library updated: {counted or 'no audio files found'}."


_OUTCOME_WORDS = {"indexed": "new", "unchanged": "unchanged", "renamed": "moved", "removed": "removed",
                  "failed": "could not be read (see Problems)"}
