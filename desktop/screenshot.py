"""``--screenshot`` and ``--results-json``: drive the window to a query with its neighbours showing,
save a PNG of it and/or the list it shows as JSON, quit.

Renders on the offscreen platform, so it runs on machines without a display (CI, the docs). The JSON
lets a script check what a musician would see at a tempo without reading pixels.
"""

from __future__ import annotations

import json
from pathlib import Path

from PySide6.QtCore import QTimer

from engine.config import DESKTOP
from engine.library.facade import SearchResult
from desktop.main_window import MainWindow
from desktop.messages import Catalog, SearchAnswer, Waveform
from desktop.query_driver import Ask, QueryDriver, first_loop

SETTLE_MS = 200  # let the last layout pass run before grabbing
EXIT_FAILED = 2  # as every other user-fixable problem of `sbf`; app.py prints ``error``


def results_json(results: list[SearchResult]) -> str:
    """The results as a JSON array of ``{"path", "bpm", "score", "tau"}`` (``bpm`` null for no tempo)."""
    rows = [{"path": r.path, "bpm": None if r.bpm is None else float(r.bpm), "score": float(r.score),
             "tau": float(r.tau)} for r in results]
    return json.dumps(rows, indent=2) + "\n"


class ScreenshotDriver(QueryDriver):
    """Waits for the library (and any indexing), sets the query and the knob, waits for the answer
    (and, for a picture, the query's waveform), then saves ``target`` and ``results_target``.

    A search the engine refused is saved as shown (the picture says why, the list is empty) and then
    fails with the engine's message, so a script sees it in the exit status.

    Parameters
    ----------
    target : the PNG to save; None: no picture
    query : the query file; None picks the first loop (a file with a tempo) in the list
    bpm : turn the knob to this tempo ("at this tempo"); mode : else this search mode
    results_target : where to write the results listed, as :func:`results_json`; None: nowhere
    """

    exit_failed = EXIT_FAILED

    def __init__(self, window: MainWindow, target: Path | None, query: Path | None, bpm: float | None,
                 mode: str | None, results_target: Path | None = None) -> None:
        super().__init__(window, DESKTOP.screenshot_timeout_seconds, "Timed out waiting for the library to answer")
        self.target, self.query, self.bpm, self.mode = target, query, bpm, mode
        self.results_target = results_target
        self._answer: SearchAnswer | None = None
        window.player.waveform_ready.connect(self._on_waveform)  # after the window's: it has drawn it by then

    def ask(self, catalog: Catalog) -> Ask | None:
        if self.query is not None:
            return Ask(str(self.query), self.bpm, self.mode)
        loop = first_loop(catalog)
        if loop is None:
            self.fail("The library has no loops to show: index a folder first (sbf index DIR), or use --demo")
            return None
        return Ask(loop.path, self.bpm, self.mode)

    def answered(self, answer: SearchAnswer) -> None:
        self._answer = answer
        self._save_when_ready()

    def _on_waveform(self, _wave: Waveform) -> None:
        self._save_when_ready()

    def _save_when_ready(self) -> None:
        if self._answer is not None and (self.target is None or not self.window.waveform.loading()):
            QTimer.singleShot(SETTLE_MS, lambda answer=self._answer: self._save(answer))
            self._answer = None  # saved once

    def _save(self, answer: SearchAnswer) -> None:
        for path in (self.target, self.results_target):
            if path is not None:
                path.parent.mkdir(parents=True, exist_ok=True)
        if self.target is not None and not self.window.grab().save(str(self.target)):
            self.fail(f"Could not write {self.target}")
            return
        if self.results_target is not None:
            try:
                self.results_target.write_text(results_json(self.window.results_view.results()))
            except OSError as e:
                self.fail(f"Could not write {self.results_target}: {e.strerror}")
                return
        if answer.error is not None:
            self.fail(answer.error)
            return
        self.finish()
