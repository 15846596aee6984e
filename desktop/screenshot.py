"""``--screenshot``: drive the window to a query with its neighbours showing, save a PNG, quit.

Renders on the offscreen platform, so it runs on machines without a display (CI, the docs).
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QTimer

from engine.config import DESKTOP
from desktop.main_window import MainWindow
from desktop.messages import Catalog, SearchAnswer, Waveform
from desktop.query_driver import Ask, QueryDriver, first_loop

SETTLE_MS = 200  # let the last layout pass run before grabbing
EXIT_FAILED = 2  # as every other user-fixable problem of `sbf`; app.py prints ``error``


class ScreenshotDriver(QueryDriver):
    """Waits for the library (and any indexing), sets the query and the knob, waits for the answer
    and the query's waveform, then saves ``target``.

    Parameters
    ----------
    query : the query file; None picks the first loop (a file with a tempo) in the list
    bpm : turn the knob to this tempo ("at this tempo"); mode : else this search mode
    """

    exit_failed = EXIT_FAILED

    def __init__(self, window: MainWindow, target: Path, query: Path | None, bpm: float | None,
                 mode: str | None) -> None:
        super().__init__(window, DESKTOP.screenshot_timeout_seconds, "Timed out waiting for the library to answer")
        self.target, self.query, self.bpm, self.mode = target, query, bpm, mode
        self._answered = False
        window.player.waveform_ready.connect(self._on_waveform)  # a method: queued to this thread, after the window's

    def ask(self, catalog: Catalog) -> Ask | None:
        if self.query is not None:
            return Ask(str(self.query), self.bpm, self.mode)
        loop = first_loop(catalog)
        if loop is None:
            self.fail("The library has no loops to show: index a folder first (sbf index DIR), or use --demo")
            return None
        return Ask(loop.path, self.bpm, self.mode)

    def answered(self, _answer: SearchAnswer) -> None:
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
            self.fail(f"Could not write {self.target}")
            return
        self.finish()
