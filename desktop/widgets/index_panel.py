"""Indexing progress: a bar, the file in hand, and Cancel."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QPushButton, QWidget

from engine.library.scan import ScanEvent
from desktop.formatting import file_name
from desktop.messages import IndexOutcome


class IndexPanel(QWidget):
    """Hidden while idle; the window puts it in the status bar."""

    cancel_requested = Signal()

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.label = QLabel()
        self.label.setMinimumWidth(260)
        self.bar = QProgressBar()
        self.bar.setMaximumWidth(240)
        self.cancel = QPushButton("Cancel")
        self.cancel.clicked.connect(self._cancel_clicked)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.label)
        layout.addWidget(self.bar)
        layout.addWidget(self.cancel)
        self.hide()

    def start(self, folders: tuple[str, ...]) -> None:
        self.label.setText(f"Looking through {', '.join(Path(f).name for f in folders)}…")
        self.bar.setRange(0, 0)  # busy until the first file tells the total
        self.cancel.setEnabled(True)
        self.show()

    def show_progress(self, event: ScanEvent) -> None:
        if event.outcome == "waiting":  # another indexing run holds the library
            self.bar.setRange(0, 0)
            self.label.setText(event.reason or "Waiting…")
            return
        self.bar.setRange(0, max(event.total, 1))
        self.bar.setValue(event.done)
        self.label.setText(f"Indexing {event.done}/{event.total}: {file_name(event.path)}")

    def finish(self, _outcome: IndexOutcome) -> None:
        self.hide()

    def _cancel_clicked(self) -> None:
        self.cancel.setEnabled(False)
        self.label.setText("Cancelling after this file…")
        self.cancel_requested.emit()
