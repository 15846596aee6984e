"""The query: which file, its tempo, and the tempo knob. Files dropped here become the query, and
the query's name drags out as the file itself."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QPoint, Qt, Signal
from PySide6.QtGui import QDrag, QDragEnterEvent, QDropEvent, QFont, QMouseEvent
from PySide6.QtWidgets import QApplication, QFrame, QLabel, QVBoxLayout

from engine.audio import format_duration
from engine.store import Track
from desktop.file_drag import dropped_audio_file, file_mime_data
from desktop.formatting import bpm_text
from desktop.tempo_knob import TempoKnob

EMPTY = "Select a file in the list, or drop an audio file here"


class DraggableFileLabel(QLabel):
    """A label naming a file that drags out as that file."""

    def __init__(self, text: str = "") -> None:
        super().__init__(text)
        self.path: str | None = None
        self._pressed_at: QPoint | None = None

    def mime_data(self):
        return file_mime_data([self.path] if self.path else [])

    def mousePressEvent(self, event: QMouseEvent) -> None:
        self._pressed_at = event.position().toPoint()
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        moved = self._pressed_at is not None and (
            (event.position().toPoint() - self._pressed_at).manhattanLength() >= QApplication.startDragDistance())
        if self.path and moved and event.buttons() & Qt.MouseButton.LeftButton:
            self._pressed_at = None
            drag = QDrag(self)
            drag.setMimeData(self.mime_data())
            drag.exec(Qt.DropAction.CopyAction)
        super().mouseMoveEvent(event)


class QueryPanel(QFrame):
    """Name (drag it out), tempo and length of the query, over the :class:`TempoKnob`."""

    file_dropped = Signal(str)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setAcceptDrops(True)
        self.name = DraggableFileLabel(EMPTY)
        font = QFont(self.name.font())
        font.setPointSizeF(font.pointSizeF() * 1.3)
        font.setBold(True)
        self.name.setFont(font)
        self.name.setToolTip("Drag this into your DAW or a folder")
        self.details = QLabel("")
        self.knob = TempoKnob()
        self.knob.setEnabled(False)  # until there is a query
        layout = QVBoxLayout(self)
        layout.addWidget(self.name)
        layout.addWidget(self.details)
        layout.addWidget(self.knob)

    def set_query(self, path: str, track: Track | None) -> None:
        """Show ``path`` as the query; ``track`` is its library entry (None: a file from outside,
        whose tempo is known only once it has been analysed). At a tempo, the knob keeps that tempo."""
        self.name.path = path
        self.name.setText(Path(path).name)
        self.name.setToolTip(f"{path}\nDrag this into your DAW or a folder")
        self.knob.setEnabled(True)
        if track is None:
            self.details.setText("from outside the library: analysing…")
            self.knob.set_query_bpm(None)
            return
        self._show_details(track.bpm, track.bpm_source, track.duration)
        # Browsing at a project's tempo: the next file is searched at that same tempo.
        target = self.knob.target_bpm()
        self.knob.set_query_bpm(track.bpm, target / track.bpm if target and track.bpm else 1.0)

    def set_analysed_bpm(self, bpm: float | None) -> None:
        """The tempo of a file from outside the library, once analysed; the knob keeps its ratio."""
        self._show_details(bpm, None, None)
        self.knob.set_query_bpm(bpm, self.knob.ratio())

    def _show_details(self, bpm: float | None, source: str | None, duration: float | None) -> None:
        tempo = "no tempo: a one-shot" if bpm is None else f"{bpm_text(bpm)} BPM" + (f" (from {source})" if source else "")
        where = f"  ·  {format_duration(duration)}" if duration is not None else "  ·  not in the library"
        self.details.setText(tempo + where)

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if dropped_audio_file(event.mimeData()) and event.source() is not self.name:
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        path = dropped_audio_file(event.mimeData())
        if path:
            event.acceptProposedAction()
            self.file_dropped.emit(path)
