"""Files that could not be indexed, and why, in words a musician understands."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableWidget, QTableWidgetItem

from engine.library.store import FileRecord


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
        for col, text in enumerate((Path(path).name, reason, str(Path(path).parent))):
            item = QTableWidgetItem(text)
            item.setToolTip(path)
            self.setItem(row, col, item)
