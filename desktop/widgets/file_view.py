"""A table of audio files, as both the track list and the results use it.

Rows drag out as real file URLs (into a DAW, a file manager), Space previews the current row and
Enter or a double-click acts on it.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QAbstractProxyModel, QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt, Signal
from PySide6.QtGui import QColor, QKeyEvent
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableView

from desktop.file_drag import URI_LIST, DragFile, as_is, drag_mime_data

PATH_ROLE = Qt.ItemDataRole.UserRole + 1  # the row's file path, whatever the column
SORT_ROLE = Qt.ItemDataRole.UserRole + 2  # a value that sorts right (numbers as numbers)
# Looked up once: Qt asks a model for a dozen roles per cell on every paint, each a call into Python,
# and a flag or enum built anew in each call was a third of the window's painting time.
DISPLAY_ROLE = Qt.ItemDataRole.DisplayRole
TOOLTIP_ROLE = Qt.ItemDataRole.ToolTipRole
ALIGNMENT_ROLE = Qt.ItemDataRole.TextAlignmentRole
FOREGROUND_ROLE = Qt.ItemDataRole.ForegroundRole
OFFLINE_COLOUR = QColor(128, 128, 128)  # a file whose folder is offline (its drive unplugged): greyed out
RIGHT_ALIGNED = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
ROW_FLAGS = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemIsDragEnabled
SERVED_ROLES = frozenset((DISPLAY_ROLE, TOOLTIP_ROLE, ALIGNMENT_ROLE, PATH_ROLE, SORT_ROLE, FOREGROUND_ROLE))  # the rest: None

AnyIndex = QModelIndex | QPersistentModelIndex
OFFLINE_TIP = "Its folder is offline (a drive unplugged?): it cannot be played until it is back."


class FileTableModel(QAbstractTableModel):
    """Rows of files: subclasses give the columns and :meth:`path_at`; dragging is shared.

    ``drag_file`` picks the file a row drags out as (the window swaps in stretched copies).
    """

    columns: Sequence[str] = ()
    drag_file: DragFile = staticmethod(as_is)

    def __init__(self) -> None:
        super().__init__()
        self._items: Sequence = ()  # one object per row, each with a ``path``
        self._text: list[tuple[str, ...]] = []  # each row as shown, made when it changes, not per paint

    def path_at(self, row: int) -> str:
        return self._items[row].path

    def rowCount(self, parent: AnyIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._items)

    def data(self, index: AnyIndex, role: int = DISPLAY_ROLE):
        if role not in SERVED_ROLES or not index.isValid():
            return None
        row, col = index.row(), index.column()
        if role == DISPLAY_ROLE:
            return self._text[row][col]
        if role == PATH_ROLE:
            return self._items[row].path
        if role == FOREGROUND_ROLE:
            return OFFLINE_COLOUR if self.offline(row) else None
        if role == TOOLTIP_ROLE and self.offline(row):
            return f"{self._text[row][col]}\n{OFFLINE_TIP}"
        return self._cell(row, col, role)

    def offline(self, row: int) -> bool:
        """The row's file lies in a folder that is offline (its drive unplugged): it cannot be played."""
        return getattr(self._items[row], "offline", False)

    def _cell(self, row: int, col: int, role: int):
        """The tooltip, alignment and sort roles of a cell (subclasses); None: Qt's default."""
        return None

    def columnCount(self, parent: AnyIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.columns)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole):
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return self.columns[section]
        return None

    def flags(self, index: AnyIndex) -> Qt.ItemFlag:
        return ROW_FLAGS if index.isValid() else Qt.ItemFlag.NoItemFlags

    def mimeTypes(self) -> list[str]:
        return [URI_LIST]

    def mimeData(self, indexes: Sequence[QModelIndex]):
        return drag_mime_data((self.path_at(i.row()) for i in indexes if i.isValid()), self.drag_file)

    def supportedDragActions(self) -> Qt.DropAction:
        return Qt.DropAction.CopyAction


class FileView(QTableView):
    """Row-wise, single selection, drag-only view of a :class:`FileTableModel` (or a proxy of one)."""

    # The row's path, as the library has it: Signal(object), since Qt's text would drop a byte of a
    # file name that is not UTF-8 (an old archive's Latin-1 name) and then name no file.
    play_requested = Signal(object)  # Space
    path_activated = Signal(object)  # Enter or double-click

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setDragEnabled(True)
        self.setDragDropMode(QAbstractItemView.DragDropMode.DragOnly)
        self.setDefaultDropAction(Qt.DropAction.CopyAction)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setAlternatingRowColors(True)
        self.setShowGrid(False)
        self.setWordWrap(False)
        self.verticalHeader().hide()
        self.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 8)
        self.horizontalHeader().setHighlightSections(False)
        self.horizontalHeader().setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        self.doubleClicked.connect(lambda index: self._emit_path(self.path_activated, index))

    def current_path(self) -> str | None:
        return self.path_of(self.currentIndex())

    def path_of(self, index: AnyIndex) -> str | None:
        """The path of the row at ``index`` (of this view's model, or a proxy of it), from the model
        itself: through Qt (``PATH_ROLE``) a file name that is not UTF-8 would lose a byte."""
        if not index.isValid():
            return None
        model = index.model()
        while isinstance(model, QAbstractProxyModel):
            index = model.mapToSource(index)
            model = model.sourceModel()
        return model.path_at(index.row())

    def stretch_column(self, column: int) -> None:
        """Give ``column`` the spare width; the others fit their contents, as far as the rows on
        screen show them (Qt's default reads the first 1,000 rows on every change, a thousand calls
        into Python each time the list grows while a folder is indexed)."""
        header = self.horizontalHeader()
        header.setResizeContentsPrecision(0)
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(column, QHeaderView.ResizeMode.Stretch)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Space:
            self._emit_path(self.play_requested, self.currentIndex())
        elif event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self._emit_path(self.path_activated, self.currentIndex())
        else:
            super().keyPressEvent(event)

    def _emit_path(self, signal, index: QModelIndex) -> None:
        if index.isValid():
            signal.emit(self.path_of(index))
