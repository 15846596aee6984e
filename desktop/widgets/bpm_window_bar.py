"""The notice over the results when the BPM window of "at this tempo" holds fewer files than the list
has room for, with the way out: widen the window, and once it is as wide as a tempo can be, drop it.

A narrow window keeps the list to files that really are at the knob's tempo, but in a small library
it may hold two files or none; the musician then decides how far to let the tempo go, rather than the
app quietly filling the list with files at other tempi.
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QWidget

from engine.config import SEARCH, SearchConfig
from engine.search.session import WindowReport

ANY_TEMPO = "Any tempo"


def wider(percent: float, cfg: SearchConfig = SEARCH) -> float | None:
    """The window after ``percent``: twice as wide, up to ``cfg.bpm_window_max``; from there None, no
    gate at all."""
    return None if percent >= cfg.bpm_window_max else min(2 * percent, cfg.bpm_window_max)


class BpmWindowBar(QWidget):
    """"Only 4 files near 140 BPM (within 6 %)" and a button that widens the window; hidden while the
    window holds enough files (or there is no window)."""

    widen_requested = Signal(object)  # the next window, percent (float); None: any tempo

    def __init__(self, parent=None, cfg: SearchConfig = SEARCH) -> None:
        super().__init__(parent)
        self._cfg = cfg
        self._next: float | None = None
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.widen = QPushButton()
        self.widen.clicked.connect(lambda: self.widen_requested.emit(self._next))
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.message, 1)
        layout.addWidget(self.widen)
        self.hide()

    def show_report(self, report: WindowReport | None, k: int) -> None:
        """Show the notice when the window of the answer shown holds fewer than ``k`` files."""
        if report is None or not report.short_of(k):
            self.hide()
            return
        self._next = wider(report.percent, self._cfg)
        self.message.setText(report.message())
        if self._next is None:
            self.widen.setText(ANY_TEMPO)
            self.widen.setToolTip("List the closest files whatever their tempo (one-shots stay out)")
        else:
            self.widen.setText(f"Widen to {self._next:g} %")
            self.widen.setToolTip(f"Also list files up to {self._next:g} % slower or faster than the knob's tempo")
        self.show()
