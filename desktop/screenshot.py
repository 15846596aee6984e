"""``--screenshot``: drive the window to a query with its neighbours showing, save a PNG, quit.

Renders on the offscreen platform, so it runs on machines without a display (CI, the docs).
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, QTimer
from PySide6.QtWidgets import QApplication

from engine.config import DESKTOP
from engine.search import SearchError
from desktop.main_window import MainWindow
from desktop.messages import Catalog, SearchAnswer, Waveform

SETTLE_MS = 200  # let the last layout pass run before grabbing


class ScreenshotDriver(QObject):
    """Waits for the library (and any indexing), sets the query and the knob, waits for the answer
    and the query's waveform, then saves ``target``.

    Parameters
    ----------
    query : the query file; None picks the first loop (a file with a tempo) in the list
    bpm : turn the knob to this tempo ("at this tempo"); mode : else this search mode
    """

    def __init__(self, window: MainWindow, target: Path, query: Path | None, bpm: float | None,
                 mode: str | None) -> None:
        super().__init__(window)
        self.window, self.target, self.query, self.bpm, self.mode = window, target, query, bpm, mode
        self.error: str | None = None
        self._posed = self._answered = False
        window.catalog_shown.connect(self._on_catalog)
        window.results_shown.connect(self._on_results)
        window.player.waveform_ready.connect(self._on_waveform)  # a method: queued to this thread, after the window's
        QTimer.singleShot(int(DESKTOP.screenshot_timeout_seconds * 1000),
                          lambda: self._fail("Timed out waiting for the library to answer"))

    def _on_catalog(self, catalog: Catalog) -> None:
        if self._posed or self.window.is_indexing():
            return
        query = str(self.query) if self.query else next((t.path for t in catalog.tracks if t.bpm is not None), None)
        if query is None:
            self._fail("The library has no loops to show: index a folder first (sbf index DIR), or use --demo")
            return
        self._posed = True
        self.window.set_query(query)
        try:
            if self.bpm is not None:
                self.window.knob.set_target_bpm(self.bpm)
            elif self.mode is not None:
                self.window.knob.set_mode(self.mode)
        except SearchError as e:
            self._fail(str(e))

    def _on_results(self, answer: SearchAnswer) -> None:
        if self._posed and answer.request.seq == self.window.latest_request():
            self._answered = True
            self._save_when_ready()

    def _on_waveform(self, _wave: Waveform) -> None:
        self._save_when_ready()

    def _save_when_ready(self) -> None:
        if self._answered and not self.window.waveform.loading():
            self._answered = False  # saved once
            QTimer.singleShot(SETTLE_MS, self._save)

    def _save(self) -> None:
        self.target.parent.mkdir(parents=True, exist_ok=True)
        if not self.window.grab().save(str(self.target)):
            self._fail(f"Could not write {self.target}")
            return
        QApplication.instance().exit(0)

    def _fail(self, message: str) -> None:
        self.error = message
        QApplication.instance().exit(2)
