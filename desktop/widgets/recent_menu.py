"""Recent queries, newest first, to open one again with the knob where it was."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QMenu

from engine.library.store import RecentQuery
from desktop.formatting import bpm_text
from desktop.widgets.tempo_knob import MODE_LABELS


class RecentMenu(QMenu):
    """One entry per recent query ("funk_break_95bpm.flac — at 105 BPM"); ``chosen`` when one is picked."""

    chosen = Signal(RecentQuery)

    def __init__(self, parent=None) -> None:
        super().__init__("Recent", parent)
        self.set_queries(())

    def set_queries(self, queries: Sequence[RecentQuery]) -> None:
        self.clear()
        for query in queries:
            action = self.addAction(f"{Path(query.path).name}  —  {describe(query)}")
            action.setToolTip(query.path)
            action.triggered.connect(lambda _checked=False, q=query: self.chosen.emit(q))
        if not queries:
            self.addAction("No recent queries yet").setEnabled(False)

    def queries_shown(self) -> int:
        return sum(1 for a in self.actions() if a.isEnabled())


def describe(query: RecentQuery) -> str:
    """How the query was searched: "at 105 BPM", "similar", "at any tempo"."""
    if query.mode == "target" and query.target_bpm is not None:
        return f"at {bpm_text(query.target_bpm)} BPM"
    return MODE_LABELS.get(query.mode, query.mode).lower()
