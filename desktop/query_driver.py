"""Driving the window from a script, as ``--screenshot`` and ``--selftest`` do: wait for the library,
pose a query with the tempo knob set, wait for the answer. Only what each does with it differs.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QObject, QTimer
from PySide6.QtWidgets import QApplication

from engine.search.session import SearchError
from engine.library.store import Track
from desktop.main_window import MainWindow
from desktop.messages import Catalog, SearchAnswer


@dataclass(frozen=True)
class Ask:
    """What to ask the window: ``path`` as the query, the knob at ``bpm`` ("at this tempo"), or else
    in ``mode``; neither leaves the knob as it is."""

    path: str
    bpm: float | None = None
    mode: str | None = None


def first_loop(catalog: Catalog) -> Track | None:
    """The first file listed that has a tempo (a loop), the natural query for the tempo knob."""
    return next((t for t in catalog.tracks if t.bpm is not None), None)


class QueryDriver(QObject):
    """Waits for a catalog shown outside indexing, asks :meth:`ask` what to query, sets the query and
    the knob, and hands the answer to the newest request to :meth:`answered`; fails with
    ``timeout_message`` after ``timeout_seconds``.

    A subclass ends the application with :meth:`finish` or :meth:`fail`; ``exit_failed`` is the exit
    status of a failure and ``error`` says why.
    """

    exit_failed = 1

    def __init__(self, window: MainWindow, timeout_seconds: float, timeout_message: str) -> None:
        super().__init__(window)
        self.window = window
        self.error: str | None = None
        self._asked = False
        window.catalog_shown.connect(self._on_catalog)
        window.results_shown.connect(self._on_results)
        self._timeout = QTimer(self, singleShot=True, interval=int(timeout_seconds * 1000))
        self._timeout.timeout.connect(lambda: self.fail(timeout_message))
        self._timeout.start()

    def ready(self) -> bool:
        """Whether the library is ready to be asked once no indexing runs (subclasses may wait longer)."""
        return True

    def ask(self, catalog: Catalog) -> Ask | None:
        """What to query in ``catalog``; None after :meth:`fail` (nothing to ask)."""
        raise NotImplementedError

    def answered(self, answer: SearchAnswer) -> None:
        """The answer to the newest request, once the query has been asked (perhaps more than once)."""
        raise NotImplementedError

    def report_failure(self, message: str) -> None:
        """Say why it failed, as it fails (subclasses; the default leaves it to the caller, in ``error``)."""

    def finish(self) -> None:
        self._timeout.stop()
        QApplication.instance().exit(0)

    def fail(self, message: str) -> None:
        self._timeout.stop()
        self.error = message
        self.report_failure(message)
        QApplication.instance().exit(self.exit_failed)

    def _on_catalog(self, catalog: Catalog) -> None:
        if self._asked or self.window.is_indexing() or not self.ready():
            return
        self._asked = True  # once, even when it fails
        asked = self.ask(catalog)
        if asked is None:
            return
        self.window.set_query(asked.path)
        try:
            if asked.bpm is not None:
                self.window.knob.set_target_bpm(asked.bpm)
            elif asked.mode is not None:
                self.window.knob.set_mode(asked.mode)
        except SearchError as e:
            self.fail(str(e))

    def _on_results(self, answer: SearchAnswer) -> None:
        if self._asked and self.error is None and answer.request.seq == self.window.latest_request():
            self.answered(answer)
