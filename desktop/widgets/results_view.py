"""The neighbours of the query: score, tempo and the tempo ratio each one matched at."""

from __future__ import annotations


from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from engine.library.facade import SearchResult
from desktop.formatting import bpm_text, file_name, ratio_text
from desktop.messages import SearchAnswer
from desktop.widgets.bpm_window_bar import BpmWindowBar
from desktop.widgets.file_view import ALIGNMENT_ROLE, RIGHT_ALIGNED, TOOLTIP_ROLE, FileTableModel, FileView

RANK, NAME, SCORE, BPM, MATCHED = range(5)
NO_QUERY = "Select a file, or drop one on the query, to see what sounds like it."


class ResultsModel(FileTableModel):
    columns = ("#", "Name", "Score", "BPM", "Tempo")

    def __init__(self) -> None:
        super().__init__()
        self._items: tuple[SearchResult, ...] = ()
        self._query_bpm: float | None = None
        self._mode = "similar"

    def set_answer(self, answer: SearchAnswer | None) -> None:
        self.beginResetModel()
        self._items = answer.results if answer else ()
        self._query_bpm = answer.query_bpm if answer else None
        self._mode = answer.request.mode if answer else "similar"
        self._text = [self._texts(row, r) for row, r in enumerate(self._items)]
        self.endResetModel()

    def result(self, row: int) -> SearchResult:
        return self._items[row]

    def _cell(self, row: int, col: int, role: int):
        if role == TOOLTIP_ROLE:
            return self._items[row].path if col == NAME else _TEMPO_FIT_TIPS[self._mode] if col == MATCHED else None
        if role == ALIGNMENT_ROLE:
            return RIGHT_ALIGNED if col != NAME else None
        return None

    def _texts(self, row: int, r: SearchResult) -> tuple[str, ...]:
        """The row as shown, column by column."""
        return str(row + 1), file_name(r.path), f"{r.score:.3f}", bpm_text(r.bpm), self._tempo_fit(r)

    def _tempo_fit(self, r: SearchResult) -> str:
        """How the result's tempo relates to the search: its distance from the knob's tempo ("at this
        tempo"), or the ratio it matched at ("at any tempo")."""
        if self._mode == "contour":
            at = f" ({bpm_text(self._query_bpm * r.tau)} BPM)" if self._query_bpm is not None else ""
            return ratio_text(r.tau) + at
        if self._query_bpm is None or r.bpm is None:
            return "—"
        percent = round((r.bpm / (self._query_bpm * r.tau) - 1) * 100)
        return f"{percent:+d} %" if percent else "0 %"

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole):
        if section == MATCHED and orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return _TEMPO_FIT_HEADERS[self._mode]
        return super().headerData(section, orientation, role)


_TEMPO_FIT_HEADERS = {"similar": "Tempo", "target": "Tempo", "contour": "Matched at"}
_TEMPO_FIT_TIPS = {
    "similar": "This file's tempo against the query's",
    "target": "This file's tempo against the tempo on the knob",
    "contour": "The tempo ratio the query was translated by to match this file (×2 = twice as fast)",
}


class ResultsView(QWidget):
    """A one-line summary over the ranked list, and a notice when the BPM window holds too few files;
    rows drag out as files, Space previews, Enter makes a result the query."""

    play_requested = Signal(object)  # paths as objects: see FileView
    query_requested = Signal(object)
    widen_requested = Signal(object)  # BpmWindowBar.widen_requested: the next window, percent; None: any tempo

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.summary = QLabel(NO_QUERY)
        self.summary.setWordWrap(True)
        self.window_bar = BpmWindowBar()
        self.window_bar.widen_requested.connect(self.widen_requested)
        self.model = ResultsModel()
        self.view = FileView()
        self.view.setModel(self.model)
        self.view.stretch_column(NAME)
        self.view.play_requested.connect(self.play_requested)
        self.view.path_activated.connect(self.query_requested)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 4, 0, 0)
        layout.addWidget(self.summary)
        layout.addWidget(self.window_bar)
        layout.addWidget(self.view)

    def show_answer(self, answer: SearchAnswer) -> None:
        self.model.set_answer(answer)
        self.summary.setText(answer.error or _summary(answer))
        self.window_bar.show_report(answer.window, answer.request.k)

    def clear(self) -> None:
        self.model.set_answer(None)
        self.summary.setText(NO_QUERY)
        self.window_bar.show_report(None, 0)

    def results(self) -> list[SearchResult]:
        """The results listed, top first."""
        return [self.model.result(row) for row in range(self.model.rowCount())]


def _summary(answer: SearchAnswer) -> str:
    req, name, window = answer.request, file_name(answer.request.path), answer.window
    if not answer.results and window is None:
        return f"Nothing else in the library yet to compare {name} with."
    if req.mode == "target":
        at = f"{bpm_text(answer.query_bpm * req.ratio)} BPM" if answer.query_bpm else ratio_text(req.ratio)
        if window is not None:
            return (f"Sounds like {name} at {at}, among files within {window.percent:g} % of that tempo "
                    f"({window.lo:.0f}–{window.hi:.0f} BPM):")
        return f"Sounds like {name} at {at}, among files at any tempo (one-shots left out: no tempo to be at):"
    if req.mode == "contour":
        return f"Sounds like {name} at any tempo (the ratio each one matched at):"
    return f"Sounds like {name}:"
