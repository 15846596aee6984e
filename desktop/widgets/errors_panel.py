"""Files that could not be indexed, and why, in words a musician understands; Retry tries them again."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (QAbstractItemView, QHBoxLayout, QHeaderView, QPushButton, QTableWidget,
                               QTableWidgetItem, QVBoxLayout, QWidget)

from engine.audio.paths import shown
from engine.library.store import FileRecord
from desktop.formatting import file_name


class ErrorsPanel(QTableWidget):
    """One row per failed file: its name, the reason, its folder."""

    count_changed = Signal(int)

    def __init__(self, parent=None) -> None:
        super().__init__(0, 3, parent)
        self.setHorizontalHeaderLabels(("File", "Problem", "Folder"))
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.verticalHeader().hide()
        self.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self._rows: dict[str, int] = {}

    def set_failed(self, records: tuple[FileRecord, ...]) -> None:
        """The library's failed files (replaces what is shown)."""
        self.setRowCount(0)
        self._rows.clear()
        for rec in records:
            self._put(rec.path, rec.error or "unknown problem")
        self.count_changed.emit(self.rowCount())

    def add(self, path: str, reason: str) -> None:
        """A failure reported while indexing, before the library lists it."""
        self._put(path, reason)
        self.count_changed.emit(self.rowCount())

    def reason_for(self, path: str) -> str | None:
        row = self._rows.get(path)
        return None if row is None else self.item(row, 1).text()

    def _put(self, path: str, reason: str) -> None:
        row = self._rows.get(path)
        if row is None:
            row = self._rows[path] = self.rowCount()
            self.insertRow(row)
        for col, text in enumerate((file_name(path), reason, shown(Path(path).parent))):
            item = QTableWidgetItem(text)
            item.setToolTip(shown(path))
            self.setItem(row, col, item)


class ProblemsTab(QWidget):
    """The Problems tab: the failed files (``panel``) and Retry, which asks for every one of them to be
    tried again, changed or not (a file fixed in place, a drive that was busy, a crash that was bad luck)."""

    retry_requested = Signal()

    def __init__(self, panel: ErrorsPanel, parent=None) -> None:
        super().__init__(parent)
        self.panel = panel
        self.retry = QPushButton("Retry")
        self.retry.setToolTip("Try every file listed here again, even those that did not change")
        self.retry.setEnabled(False)
        self.retry.clicked.connect(self.retry_requested)
        panel.count_changed.connect(lambda n: self.retry.setEnabled(n > 0))
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.retry)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(panel)
        layout.addLayout(buttons)
