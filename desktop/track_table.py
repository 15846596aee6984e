"""The library's track list: filter, sort, keyboard navigation, favourites, drag out."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from PySide6.QtCore import QModelIndex, QSortFilterProxyModel, Qt, Signal
from PySide6.QtWidgets import QAbstractItemView, QLineEdit, QVBoxLayout, QWidget

from engine.audio import format_duration
from engine.store import Track
from desktop.file_view import PATH_ROLE, SORT_ROLE, FileTableModel, FileView, AnyIndex
from desktop.formatting import bpm_text, folder_text

FAVOURITE, NAME, FOLDER, BPM, SOURCE, LENGTH, KIND = range(7)
_NUMERIC = (BPM, LENGTH)


class TrackTableModel(FileTableModel):
    """The tracks, each row's text formatted once: while a folder is indexed the list is refreshed
    every second, and only new or changed rows are touched, so sorting, the selection and the scroll
    position survive."""

    columns = ("★", "Name", "Folder", "BPM", "BPM from", "Length", "Type")

    def __init__(self) -> None:
        super().__init__()
        self._tracks: list[Track] = []
        self._text: list[tuple[str, ...]] = []
        self._rows: dict[str, int] = {}

    def set_tracks(self, tracks: Sequence[Track]) -> bool:
        """Show ``tracks``; False when the whole list had to be replaced (files went away)."""
        new = {t.path: t for t in tracks}
        if any(path not in new for path in self._rows):
            self.beginResetModel()
            self._tracks, self._text, self._rows = [], [], {}
            self._append(tracks)
            self.endResetModel()
            return False
        for row, old in enumerate(self._tracks):
            if new[old.path] != old:
                self._tracks[row], self._text[row] = new[old.path], _texts(new[old.path])
                self.dataChanged.emit(self.index(row, 0), self.index(row, len(self.columns) - 1))
        added = [t for t in tracks if t.path not in self._rows]
        if added:
            self.beginInsertRows(QModelIndex(), len(self._tracks), len(self._tracks) + len(added) - 1)
            self._append(added)
            self.endInsertRows()
        return True

    def _append(self, tracks: Sequence[Track]) -> None:
        for t in tracks:
            self._rows[t.path] = len(self._tracks)
            self._tracks.append(t)
            self._text.append(_texts(t))

    def track(self, row: int) -> Track:
        return self._tracks[row]

    def row_of(self, path: str) -> int | None:
        return self._rows.get(path)

    def set_favourite(self, row: int, favourite: bool) -> None:
        self._tracks[row] = replace(self._tracks[row], favourite=favourite)
        self._text[row] = _texts(self._tracks[row])
        self.dataChanged.emit(self.index(row, FAVOURITE), self.index(row, FAVOURITE))

    def path_at(self, row: int) -> str:
        return self._tracks[row].path

    def rowCount(self, parent: AnyIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._tracks)

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        row, col = index.row(), index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return self._text[row][col]
        if role == SORT_ROLE:
            return _sort_key(self._tracks[row], self._text[row], col)
        if role == PATH_ROLE:
            return self._tracks[row].path
        if role == Qt.ItemDataRole.ToolTipRole:
            return "Click to mark as a favourite" if col == FAVOURITE else self._tracks[row].path
        if role == Qt.ItemDataRole.TextAlignmentRole and col in _NUMERIC:
            return Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
        return None


def _texts(t: Track) -> tuple[str, ...]:
    """The row as shown, column by column."""
    return (
        "★" if t.favourite else "☆",
        Path(t.path).name,
        folder_text(t.path, t.root),
        bpm_text(t.bpm),
        (t.bpm_source or "") if t.bpm is not None else "",  # a one-shot's "none (one-shot)" is the Type column's
        format_duration(t.duration) if t.duration is not None else "",
        "loop" if t.bpm is not None else "one-shot",
    )


def _sort_key(t: Track, text: tuple[str, ...], col: int):
    if col == FAVOURITE:
        return int(t.favourite)
    if col == BPM:
        return t.bpm if t.bpm is not None else -1.0  # one-shots first, then by tempo
    if col == LENGTH:
        return t.duration or 0.0
    return text[col].lower()


class TrackTable(QWidget):
    """The filter box over the sortable track list.

    Arrows move the selection (and with it the query), Space previews, the star column toggles a
    favourite.
    """

    current_changed = Signal(str)
    play_requested = Signal(str)
    favourite_toggled = Signal(str, bool)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.model = TrackTableModel()
        self._restoring = False
        self.proxy = QSortFilterProxyModel(self)
        self.proxy.setSourceModel(self.model)
        self.proxy.setSortRole(SORT_ROLE)
        self.proxy.setFilterKeyColumn(-1)  # a filter matches name, folder, BPM or type
        self.proxy.setFilterCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.filter = QLineEdit(placeholderText="Filter by name, folder, BPM or type…", clearButtonEnabled=True)
        self.filter.textChanged.connect(self.proxy.setFilterFixedString)
        self.view = FileView()
        self.view.setModel(self.proxy)
        self.view.setSortingEnabled(True)
        self.view.sortByColumn(NAME, Qt.SortOrder.AscendingOrder)
        self.view.stretch_column(NAME)
        self.view.selectionModel().currentRowChanged.connect(self._current_row_changed)
        self.view.clicked.connect(self._clicked)
        self.view.play_requested.connect(self.play_requested)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.filter)
        layout.addWidget(self.view)

    def set_tracks(self, tracks: Sequence[Track]) -> None:
        """Show a new track list, keeping the selected file selected."""
        current = self.view.current_path()
        self._restoring = True  # the same file selected again is no change of query
        try:
            if not self.model.set_tracks(tracks) and current is not None:
                self.select_path(current)
        finally:
            self._restoring = False

    def clear_selection(self) -> None:
        self.view.setCurrentIndex(QModelIndex())
        self.view.clearSelection()

    def select_path(self, path: str) -> bool:
        """Select ``path`` (the query changes with it); False when it is not listed or filtered out."""
        row = self.model.row_of(path)
        if row is None:
            return False
        index = self.proxy.mapFromSource(self.model.index(row, NAME))
        if not index.isValid():
            return False
        self.view.setCurrentIndex(index)
        self.view.scrollTo(index, QAbstractItemView.ScrollHint.PositionAtCenter)
        return True

    def track_at_path(self, path: str) -> Track | None:
        row = self.model.row_of(path)
        return None if row is None else self.model.track(row)

    def _current_row_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        if current.isValid() and not self._restoring:
            self.current_changed.emit(current.data(PATH_ROLE))

    def _clicked(self, index: QModelIndex) -> None:
        if index.column() != FAVOURITE:
            return
        row = self.proxy.mapToSource(index).row()
        favourite = not self.model.track(row).favourite
        self.model.set_favourite(row, favourite)
        self.favourite_toggled.emit(self.model.path_at(row), favourite)
