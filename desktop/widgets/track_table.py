"""The library's track list: filter (text, BPM range, length range), sort, keyboard navigation,
favourites, drag out."""

from __future__ import annotations

import operator
from collections.abc import Sequence
from dataclasses import replace

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QSortFilterProxyModel, Qt, Signal
from PySide6.QtWidgets import QAbstractItemView, QDoubleSpinBox, QHBoxLayout, QLabel, QLineEdit, QVBoxLayout, QWidget

from engine.audio.decode import format_duration
from engine.config import TEMPO
from engine.library.store import Track
from desktop.formatting import bpm_text, file_name, folder_text
from desktop.messages import ListedRow, TrackRows
from desktop.widgets.file_view import ALIGNMENT_ROLE, RIGHT_ALIGNED, TOOLTIP_ROLE, FileTableModel, FileView

FAVOURITE, NAME, FOLDER, BPM, SOURCE, LENGTH, KIND = range(7)
_NUMERIC = (BPM, LENGTH)


class TrackTableModel(FileTableModel):
    """The tracks, each row's text, sort keys and filter text made on the library thread: while a
    folder is indexed the list is refreshed every second, and only new or changed rows are touched,
    so sorting, the selection and the scroll position survive.

    The model keeps its rows in the order the musician sorted them (:meth:`sort`): one
    ``list.sort`` over precomputed keys, where a sorting proxy called into Python for each of the
    n log n comparisons (100k tracks froze the window for five seconds).
    """

    columns = ("★", "Name", "Folder", "BPM", "BPM from", "Length", "Type")

    def __init__(self) -> None:
        super().__init__()
        self._items: list[Track] = []
        self._listed: list[ListedRow] = []
        self._rows: dict[str, int] = {}
        self._order: tuple[int, Qt.SortOrder] | None = None  # (column, order); None: as the library lists them

    def apply(self, rows: TrackRows) -> bool:
        """Make the changes a :class:`TrackListDiff` worked out against what it sent here before;
        False when the whole list was replaced. Costs O(rows changed or added) on the GUI thread,
        plus a sort of the whole list when it is replaced or many rows are added."""
        if rows.replace:
            self.beginResetModel()
            self._items, self._listed = list(rows.added), list(rows.added_rows)
            self._reorder(self._sorted_rows())
            self.endResetModel()
            return False
        if any([self._put(self._rows[track.path], track, listed) for _row, track, listed in rows.changed]):
            self.sort(*self._order)  # before inserting, which needs the list in order
        if len(rows.added) > _INSERT_ONE_BY_ONE:
            first = len(self._items)
            self.beginInsertRows(QModelIndex(), first, first + len(rows.added) - 1)
            self._items.extend(rows.added)
            self._listed.extend(rows.added_rows)
            self._text.extend(listed.texts for listed in rows.added_rows)
            self.endInsertRows()
            if self._order is not None:
                self.sort(*self._order)
        else:
            for track, listed in zip(rows.added, rows.added_rows):
                row = self._insertion_row(listed.keys)
                self.beginInsertRows(QModelIndex(), row, row)
                self._items.insert(row, track)
                self._listed.insert(row, listed)
                self._text.insert(row, listed.texts)
                self.endInsertRows()
        if rows.added:
            self._rows = {t.path: row for row, t in enumerate(self._items)}
        return True

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        """Sort by ``column`` (its :class:`ListedRow` keys), keeping the selection on its tracks;
        later rows are inserted where this order puts them."""
        self._order = (column, order)
        self.layoutAboutToBeChanged.emit()
        old_rows = self._sorted_rows()
        new_row = [0] * len(old_rows)
        for new, old in enumerate(old_rows):
            new_row[old] = new
        self._reorder(old_rows)
        before = self.persistentIndexList()  # the view's selection and current row, and the proxy's
        self.changePersistentIndexList(before, [self.index(new_row[i.row()], i.column()) for i in before])
        self.layoutChanged.emit()

    def _sorted_rows(self) -> list[int]:
        """The current rows in sorted order (a stable sort, as Qt's: ties keep their order)."""
        rows = range(len(self._items))
        if self._order is None:
            return list(rows)
        column, order = self._order
        keys = [listed.keys[column] for listed in self._listed]
        return sorted(rows, key=keys.__getitem__, reverse=order == Qt.SortOrder.DescendingOrder)

    def _reorder(self, old_rows: Sequence[int]) -> None:
        """Put row ``old_rows[i]`` at row i."""
        self._items = [self._items[r] for r in old_rows]
        self._listed = [self._listed[r] for r in old_rows]
        self._text = [listed.texts for listed in self._listed]
        self._rows = {t.path: row for row, t in enumerate(self._items)}

    def _insertion_row(self, keys: tuple) -> int:
        """Where a row with ``keys`` goes in the current order: after the rows that sort equal, as
        if appended and sorted again (binary search)."""
        if self._order is None:
            return len(self._items)
        column, order = self._order
        goes_before = operator.gt if order == Qt.SortOrder.DescendingOrder else operator.lt
        key, low, high = keys[column], 0, len(self._items)
        while low < high:
            middle = (low + high) // 2
            if goes_before(key, self._listed[middle].keys[column]):
                high = middle
            else:
                low = middle + 1
        return low

    def _put(self, row: int, track: Track, listed: ListedRow) -> bool:
        """Show ``row`` changed; True when it no longer sorts where it is (the list must be sorted
        again, as a sorting proxy would have done: the selection follows the row)."""
        moved = self._order is not None and listed.keys[self._order[0]] != self._listed[row].keys[self._order[0]]
        self._items[row], self._listed[row], self._text[row] = track, listed, listed.texts
        self.dataChanged.emit(self.index(row, 0), self.index(row, len(self.columns) - 1))
        return moved

    def track(self, row: int) -> Track:
        return self._items[row]

    def haystack(self, row: int) -> str:
        """The row's text, every column casefolded (:class:`ListedRow`)."""
        return self._listed[row].haystack

    def row_of(self, path: str) -> int | None:
        return self._rows.get(path)

    def set_favourite(self, row: int, favourite: bool) -> None:
        track = replace(self._items[row], favourite=favourite)
        if self._put(row, track, listed_row(track)):
            self.sort(*self._order)

    def set_tempo(self, path: str, bpm: float | None, source: str) -> None:
        """A corrected BPM, shown at once (the next catalog from the library agrees)."""
        row = self._rows.get(path)
        if row is not None:
            track = replace(self._items[row], bpm=bpm, bpm_source=source)
            if self._put(row, track, listed_row(track)):
                self.sort(*self._order)

    def _cell(self, row: int, col: int, role: int):
        if role == TOOLTIP_ROLE:
            return "Click to mark as a favourite" if col == FAVOURITE else self._items[row].path
        if role == ALIGNMENT_ROLE:
            return RIGHT_ALIGNED if col in _NUMERIC else None
        return self._listed[row].keys[col]  # SORT_ROLE


# More added rows than this (a first index of a big folder) are appended and the list sorted again;
# fewer go one by one to where they sort, each insertion moving the rows below.
_INSERT_ONE_BY_ONE = 200


def row_texts(t: Track) -> tuple[str, ...]:
    """The row as shown, column by column."""
    return (
        "★" if t.favourite else "☆",
        file_name(t.path),
        folder_text(t.path, t.root),
        bpm_text(t.bpm),
        (t.bpm_source or "") if t.bpm is not None else "",  # a one-shot's "none (one-shot)" is the Type column's
        format_duration(t.duration) if t.duration is not None else "",
        "loop" if t.bpm is not None else "one-shot",
    )


def listed_row(t: Track) -> ListedRow:
    """The row as shown, sorted and searched (:class:`ListedRow`)."""
    texts = row_texts(t)
    return ListedRow(texts, tuple(_sort_key(t, texts, col) for col in range(len(texts))),
                     "\n".join(texts).casefold())


class TrackListDiff:
    """The track list as the window was last told it, kept on the library thread, and what changed
    since: comparing 100k tracks and making their rows takes a few tenths of a second, which the GUI
    thread no longer spends once a second while a folder is indexed.

    The window must apply every :class:`TrackRows` made here, in order, to one
    :class:`TrackTableModel` (:meth:`reset` when it starts over with another library).
    """

    def __init__(self) -> None:
        self._tracks: list[Track] = []
        self._rows: dict[str, int] = {}
        self._told = False  # nothing sent yet (or since reset): the window may list another library

    def reset(self) -> None:
        """The next :meth:`rows` replaces the whole list (another library, or the window's list may
        differ from the library's, as after a favourite that could not be saved)."""
        self._told = False

    def rows(self, tracks: Sequence[Track]) -> TrackRows:
        """What the window's list must change to show ``tracks``, the library's tracks now."""
        changed, added = [], []
        if self._told:
            for t in tracks:
                row = self._rows.get(t.path)
                if row is None:
                    added.append(t)
                elif self._tracks[row] != t:
                    changed.append((row, t, listed_row(t)))
        if not self._told or len(tracks) - len(added) < len(self._tracks):  # files went away
            self._tracks, self._told = list(tracks), True
            self._rows = {t.path: row for row, t in enumerate(self._tracks)}
            return TrackRows(True, (), tuple(tracks), tuple(map(listed_row, tracks)))
        for row, t, _ in changed:
            self._tracks[row] = t
        self._rows.update((t.path, row) for row, t in enumerate(added, len(self._tracks)))
        self._tracks.extend(added)
        return TrackRows(False, tuple(changed), tuple(added), tuple(map(listed_row, added)))


def _sort_key(t: Track, text: tuple[str, ...], col: int):
    if col == FAVOURITE:
        return int(t.favourite)
    if col == BPM:
        return t.bpm if t.bpm is not None else -1.0  # one-shots first, then by tempo
    if col == LENGTH:
        return t.duration or 0.0
    return text[col].lower()


Bounds = tuple[float | None, float | None]  # (lowest, highest); None: open on that side


class TrackFilter(QSortFilterProxyModel):
    """The text filter over every column, plus a BPM range and a length range; sorting is the
    model's (:meth:`TrackTableModel.sort`), so Qt never calls Python per comparison.

    A one-shot has no BPM, so it passes the BPM filter only while that is open: asking for 120-130
    BPM asks for loops.
    """

    def __init__(self, model: TrackTableModel, parent=None) -> None:
        super().__init__(parent)
        self._model = model  # kept, not asked of Qt on each of 100k rows filtered
        self._needle = ""  # casefolded; "" matches every row
        self._bpm: Bounds = (None, None)
        self._length: Bounds = (None, None)  # seconds
        self.setSourceModel(model)

    def set_text(self, text: str) -> None:
        """Rows whose text, in any column, holds ``text`` (ignoring case)."""
        self._change("_needle", text.casefold())

    def set_bpm_range(self, low: float | None, high: float | None) -> None:
        self._change("_bpm", (low, high))

    def set_length_range(self, low: float | None, high: float | None) -> None:
        """Seconds."""
        self._change("_length", (low, high))

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        """A header click: the model sorts itself and this proxy keeps its order."""
        self._model.sort(column, order)

    def _change(self, attribute: str, value) -> None:
        self.beginFilterChange()
        setattr(self, attribute, value)
        self.endFilterChange(QSortFilterProxyModel.Direction.Rows)

    def filterAcceptsRow(self, source_row: int, source_parent: QModelIndex | QPersistentModelIndex) -> bool:
        track = self._model.track(source_row)
        return (_within(track.bpm, self._bpm) and _within(track.duration, self._length)
                and self._needle in self._model.haystack(source_row))


def _within(value: float | None, bounds: Bounds) -> bool:
    low, high = bounds
    if low is None and high is None:
        return True
    return value is not None and (low is None or value >= low) and (high is None or value <= high)


class RangeBox(QWidget):
    """"BPM [any] – [any]": two spin boxes whose lowest value means "no bound"."""

    def __init__(self, label: str, maximum: float, decimals: int, suffix: str = "") -> None:
        super().__init__()
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(QLabel(label))
        self.low, self.high = (self._box(maximum, decimals, suffix) for _ in range(2))
        layout.addWidget(self.low)
        layout.addWidget(QLabel("–"))
        layout.addWidget(self.high)

    @staticmethod
    def _box(maximum: float, decimals: int, suffix: str) -> QDoubleSpinBox:
        box = QDoubleSpinBox(decimals=decimals, maximum=maximum, suffix=suffix, specialValueText="any")
        box.setKeyboardTracking(False)  # filter once the number is typed, not on each digit
        box.setMaximumWidth(72)
        return box

    def bounds(self) -> Bounds:
        return tuple(None if box.value() == box.minimum() else box.value() for box in (self.low, self.high))

    def set_bounds(self, low: float | None, high: float | None) -> None:
        """Set both (as the musician would; the table filters at once)."""
        self.low.setValue(low or 0.0)
        self.high.setValue(high or 0.0)


class TrackTable(QWidget):
    """The filter box and range filters over the sortable track list.

    Arrows move the selection (and with it the query), Space previews, the star column toggles a
    favourite.
    """

    current_changed = Signal(object)  # paths as objects: see FileView
    play_requested = Signal(object)
    favourite_toggled = Signal(object, bool)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.model = TrackTableModel()
        self._restoring = False
        self.proxy = TrackFilter(self.model, self)
        self.filter = QLineEdit(placeholderText="Filter by name, folder, BPM or type…", clearButtonEnabled=True)
        self.filter.textChanged.connect(self.proxy.set_text)
        self.bpm_range = RangeBox("BPM", TEMPO.bpm_max, 0)
        self.bpm_range.setToolTip("Only loops in this tempo range (one-shots have no tempo)")
        self.length_range = RangeBox("Length", 3600.0, 1, " s")
        for box in (self.bpm_range.low, self.bpm_range.high):
            box.valueChanged.connect(lambda _v: self.proxy.set_bpm_range(*self.bpm_range.bounds()))
        for box in (self.length_range.low, self.length_range.high):
            box.valueChanged.connect(lambda _v: self.proxy.set_length_range(*self.length_range.bounds()))
        self.view = FileView()
        self.view.setModel(self.proxy)
        self.view.setSortingEnabled(True)
        self.view.sortByColumn(NAME, Qt.SortOrder.AscendingOrder)
        self.view.stretch_column(NAME)
        self.view.selectionModel().currentRowChanged.connect(self._current_row_changed)
        self.view.clicked.connect(self._clicked)
        self.view.play_requested.connect(self.play_requested)
        filters = QHBoxLayout()
        filters.addWidget(self.filter, 1)
        filters.addWidget(self.bpm_range)
        filters.addWidget(self.length_range)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(filters)
        layout.addWidget(self.view)

    def apply(self, rows: TrackRows) -> None:
        """Show the library's tracks as they are now, keeping the selected file selected."""
        current = self.view.current_path()
        self._restoring = True  # the same file selected again is no change of query
        try:
            if not self.model.apply(rows) and current is not None:
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

    def set_tempo(self, path: str, bpm: float | None, source: str) -> None:
        self.model.set_tempo(path, bpm, source)

    def track_at_path(self, path: str) -> Track | None:
        row = self.model.row_of(path)
        return None if row is None else self.model.track(row)

    def _current_row_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        if current.isValid() and not self._restoring:
            self.current_changed.emit(self.view.path_of(current))

    def _clicked(self, index: QModelIndex) -> None:
        if index.column() != FAVOURITE:
            return
        row = self.proxy.mapToSource(index).row()
        path, favourite = self.model.path_at(row), not self.model.track(row).favourite
        self.model.set_favourite(row, favourite)  # sorted by ★, the row moves
        self.favourite_toggled.emit(path, favourite)
