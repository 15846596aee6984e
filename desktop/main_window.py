"""The window: the track list on the left, the query with its tempo knob and the results on the right.

It owns the three workers (library reads and searches, indexing, audio), each on its own thread,
and only ever talks to them through their thread-safe methods and signals.
"""

from __future__ import annotations

import time
from pathlib import Path

from PySide6.QtCore import QTimer, Signal
from PySide6.QtGui import QAction, QCloseEvent
from PySide6.QtWidgets import (QFileDialog, QLabel, QMainWindow, QSplitter, QTabWidget, QToolBar, QVBoxLayout,
                               QWidget)

from engine.cli import DEMO_DIR
from engine.config import DESKTOP, DesktopConfig
from engine.library import default_library_dir
from engine.scan import ScanEvent
from desktop.audio_player import AudioPlayer
from desktop.errors_panel import ErrorsPanel
from desktop.index_panel import IndexPanel
from desktop.messages import Catalog, IndexOutcome, SearchAnswer, SearchRequest
from desktop.query_panel import QueryPanel
from desktop.results_view import ResultsView
from desktop.track_table import TrackTable
from desktop.welcome_banner import WelcomeBanner
from desktop.workers import IndexWorker, LibraryWorker

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
    """

    catalog_shown = Signal(Catalog)
    index_progress_shown = Signal(ScanEvent)
    results_shown = Signal(SearchAnswer)
    indexing_finished = Signal(IndexOutcome)

    def __init__(self, library_dir: Path, index_workers: int | None = None, cfg: DesktopConfig = DESKTOP) -> None:
        super().__init__()
        self._cfg = cfg
        self._home_dir = Path(library_dir).expanduser()
        self._library_dir = self._home_dir
        self._folders: tuple[str, ...] = ()
        self._query: str | None = None
        self._awaiting_bpm = False  # the query came from outside: its tempo is known after the first answer
        self._seq = self._shown_seq = 0
        self._indexing = False
        self._live_failures: dict[str, str] = {}  # failures of the running scan, before the library lists them
        self._last_refresh = 0.0
        self._playing: str | None = None
        self._closed = False

        self.track_table = TrackTable()
        self.banner = WelcomeBanner()
        self.banner.hide()
        self.summary = QLabel()
        self.query_panel = QueryPanel()
        self.knob = self.query_panel.knob
        self.results_view = ResultsView()
        self.errors_panel = ErrorsPanel()
        self.tabs = QTabWidget()
        self.tabs.addTab(self.results_view, "Results")
        self.tabs.addTab(self.errors_panel, "Problems (0)")
        self.index_panel = IndexPanel()
        self._build_layout()

        self.library_worker = LibraryWorker()
        self.index_worker = IndexWorker(index_workers)
        self.player = AudioPlayer()
        self._workers = ((self.library_worker, "library"), (self.index_worker, "index"), (self.player, "audio"))
        for worker, name in self._workers:
            worker.start_thread(name)
        self._play_timer = QTimer(self, singleShot=True)
        self._play_timer.timeout.connect(self._playback_ended)
        self._connect()
        self.open_library(self._home_dir)
        self.track_table.view.setFocus()

    def _build_layout(self) -> None:
        toolbar = QToolBar("Library", movable=False)
        self.add_folder_action = QAction("Add folder…", self, triggered=self.choose_folder)
        self.rescan_action = QAction("Rescan", self, triggered=lambda: self.index(self._folders))
        self.demo_action = QAction("Demo library", self, triggered=self.open_demo)
        self.home_action = QAction("My library", self, triggered=lambda: self.open_library(self._home_dir))
        for action in (self.add_folder_action, self.rescan_action, self.demo_action, self.home_action):
            toolbar.addAction(action)
        self.addToolBar(toolbar)
        left, right = QWidget(), QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.addWidget(self.banner)
        left_layout.addWidget(self.track_table, 1)
        left_layout.addWidget(self.summary)
        right_layout = QVBoxLayout(right)
        right_layout.addWidget(self.query_panel)
        right_layout.addWidget(self.tabs, 1)
        splitter = QSplitter()
        splitter.addWidget(left)
        splitter.addWidget(right)
        splitter.setSizes([700, 580])
        self.setCentralWidget(splitter)
        self.statusBar().addPermanentWidget(self.index_panel)
        self.resize(1280, 800)

    def _connect(self) -> None:
        self.track_table.current_changed.connect(self._use_query)
        self.track_table.play_requested.connect(self.toggle_play)
        self.track_table.favourite_toggled.connect(lambda path, on: self.library_worker.set_favourite(path, on))
        self.results_view.play_requested.connect(self.toggle_play)
        self.results_view.query_requested.connect(self.set_query)
        self.query_panel.file_dropped.connect(self.set_query)
        self.knob.changed.connect(lambda _setting: self.search())
        self.banner.demo_requested.connect(self.open_demo)
        self.banner.folder_requested.connect(self.choose_folder)
        self.errors_panel.count_changed.connect(lambda n: self.tabs.setTabText(1, f"Problems ({n})"))
        # Called here, not connected to the worker: a slot of the worker would queue behind the running scan.
        self.index_panel.cancel_requested.connect(lambda: self.index_worker.cancel())
        self.library_worker.catalog_ready.connect(self._show_catalog)
        self.library_worker.answered.connect(self._show_answer)
        self.library_worker.problem.connect(self.statusBar().showMessage)
        self.index_worker.progress.connect(self._show_progress)
        self.index_worker.finished.connect(self._index_finished)
        self.player.playing.connect(self._playback_started)
        self.player.problem.connect(self.statusBar().showMessage)

    # --- library --------------------------------------------------------------------------------

    def open_library(self, library_dir: Path) -> None:
        if self._indexing:
            self.statusBar().showMessage("Wait for indexing to finish (or cancel it) before switching libraries.")
            return
        self._library_dir = Path(library_dir).expanduser()
        self._query = None
        self.results_view.clear()
        demo = self._library_dir != self._home_dir
        self.setWindowTitle(f"{TITLE} — {'demo library' if demo else self._library_dir}")
        self.library_worker.open(str(self._library_dir))
        self.library_worker.refresh()

    def open_demo(self) -> None:
        """The bundled demo library, in its own library folder; indexed on first use."""
        self.open_library(demo_library_dir())
        self.index((str(DEMO_DIR),))

    def choose_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Add a folder of samples")
        if folder:
            self.add_folder(folder)

    def add_folder(self, folder: str) -> None:
        """Index ``folder`` into the musician's own library (never into the demo library)."""
        if self._library_dir != self._home_dir:
            self.open_library(self._home_dir)
        self.index((folder,))

    def index(self, folders: tuple[str, ...]) -> None:
        if self._indexing or not folders:
            return
        self._indexing = True
        self._live_failures.clear()
        for action in (self.add_folder_action, self.rescan_action, self.demo_action, self.home_action):
            action.setEnabled(False)
        self.banner.hide()
        self.index_panel.start(folders)
        self.index_worker.index(str(self._library_dir), folders)

    def is_indexing(self) -> bool:
        return self._indexing

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

    def _show_catalog(self, catalog: Catalog) -> None:
        if Path(catalog.info.library_dir) != self._library_dir:
            return  # the library that was open before a switch
        self._folders = tuple(catalog.info.folders)
        self.track_table.set_tracks(catalog.tracks)
        self.errors_panel.set_failed(catalog.failed)
        for path, reason in self._live_failures.items():
            self.errors_panel.add(path, reason)
        info = catalog.info
        self.banner.setVisible(not (catalog.tracks or catalog.failed or self._indexing))
        sounds = f"{info.files_ok} sounds, {info.total_seconds / 60:.1f} min of audio, in {len(info.folders)} folder(s)"
        failed = f"; {info.files_failed} could not be read" if info.files_failed else ""
        self.summary.setText(sounds + failed if info.files_ok or info.files_failed else "No sounds yet")
        self.catalog_shown.emit(catalog)

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

    def _use_query(self, path: str) -> None:
        if path == self._query:
            return
        self._query = path
        track = self.track_table.track_at_path(path)
        self._awaiting_bpm = track is None
        if track is None:
            self.track_table.clear_selection()  # the query is no longer the listed file
        self.query_panel.set_query(path, track)
        self.search()

    def search(self) -> None:
        """Ask for the current query's neighbours at the knob's setting (a newer ask replaces it)."""
        if self._query is None:
            return
        self._seq += 1
        setting = self.knob.setting()
        self.library_worker.search(SearchRequest(self._seq, self._query, setting.mode, setting.ratio,
                                                 self._cfg.results))

    def _show_answer(self, answer: SearchAnswer) -> None:
        if answer.request.seq <= self._shown_seq or answer.request.path != self._query:
            return  # older than what is shown, or for another query
        self._shown_seq = answer.request.seq
        if self._awaiting_bpm and answer.error is None:
            self._awaiting_bpm = False
            self.query_panel.set_analysed_bpm(answer.query_bpm)
        self.results_view.show_answer(answer)
        self.results_shown.emit(answer)

    # --- previews -------------------------------------------------------------------------------

    def toggle_play(self, path: str) -> None:
        """Space: play ``path``, or stop it when it is the one playing."""
        if path == self._playing:
            self.player.stop()
            self._playback_ended()
        else:
            self.player.play(path)

    def _playback_started(self, path: str, seconds: float) -> None:
        self._playing = path
        self._play_timer.start(int(seconds * 1000) + 50)
        self.statusBar().showMessage(f"Playing {Path(path).name}", int(seconds * 1000))

    def _playback_ended(self) -> None:
        self._playing = None
        self._play_timer.stop()

    # --- closing --------------------------------------------------------------------------------

    def shutdown(self) -> None:
        """Stop indexing after the file in hand, stop playback and end the worker threads."""
        if self._closed:
            return
        self._closed = True
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
