"""The query: which file, its tempo (with the BPM correction), its waveform, and the tempo knob.

Files dropped here become the query, and the query's name drags out as the file itself (or, with
"play and drag at the knob's tempo" on, as its copy stretched to that tempo).
"""

from __future__ import annotations

from PySide6.QtCore import QPoint, Qt, Signal
from PySide6.QtGui import QDrag, QDragEnterEvent, QDropEvent, QFont, QMouseEvent
from PySide6.QtWidgets import QApplication, QCheckBox, QFrame, QHBoxLayout, QLabel, QPushButton, QVBoxLayout

from engine.audio.decode import format_duration
from engine.audio.paths import shown
from engine.library.store import Track
from engine.library.tempo_state import TempoState
from desktop.file_drag import DragFile, as_is, drag_mime_data, dropped_audio_file
from desktop.formatting import bpm_text, file_name
from desktop.messages import TempoChange
from desktop.widgets.tempo_editor import TempoEditor
from desktop.widgets.tempo_knob import TempoKnob
from desktop.widgets.waveform import WaveformView

EMPTY = "Select a file in the list, or drop an audio file here"


class DraggableFileLabel(QLabel):
    """A label naming a file that drags out as that file."""

    def __init__(self, text: str = "") -> None:
        super().__init__(text)
        self.path: str | None = None
        self.drag_file: DragFile = as_is
        self._pressed_at: QPoint | None = None

    def mime_data(self):
        """The file's URL; None while its stretched copy is not ready."""
        return drag_mime_data([self.path] if self.path else [], self.drag_file)

    def mousePressEvent(self, event: QMouseEvent) -> None:
        self._pressed_at = event.position().toPoint()
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        moved = self._pressed_at is not None and (
            (event.position().toPoint() - self._pressed_at).manhattanLength() >= QApplication.startDragDistance())
        if self.path and moved and event.buttons() & Qt.MouseButton.LeftButton:
            self._pressed_at = None
            mime = self.mime_data()
            if mime is not None:
                drag = QDrag(self)
                drag.setMimeData(mime)
                drag.exec(Qt.DropAction.CopyAction)
        super().mouseMoveEvent(event)


class QueryPanel(QFrame):
    """Name (drag it out), tempo and length of the query, its BPM correction, its waveform (click to
    play from there), Play and the tempo-locked switch, over the :class:`TempoKnob`."""

    file_dropped = Signal(object)  # the path, whole (see FileView)
    tempo_change_requested = Signal(TempoChange)
    seek_requested = Signal(float)  # seconds into the query
    play_clicked = Signal()
    tempo_lock_toggled = Signal(bool)

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
        self.tempo_editor = TempoEditor()
        self.tempo_editor.change_requested.connect(self._change_requested)
        self.waveform = WaveformView()
        self.waveform.seek_requested.connect(self.seek_requested)
        self.play = QPushButton("Play", toolTip="Play or stop the query (Space in the lists)")
        self.play.setEnabled(False)
        self.play.clicked.connect(self.play_clicked)
        self.tempo_lock = QCheckBox("Play and drag at the knob's tempo")
        self.tempo_lock.setToolTip("Loops play, and drag out as copies, stretched to the tempo on the knob; "
                                   "one-shots as they are")
        self.tempo_lock.toggled.connect(self.tempo_lock_toggled)
        self.knob = TempoKnob()
        self.knob.setEnabled(False)  # until there is a query
        self._track: Track | None = None
        self._tempo: TempoState | None = None
        playing = QHBoxLayout()
        playing.addWidget(self.play)
        playing.addWidget(self.tempo_lock, 1)
        layout = QVBoxLayout(self)
        layout.setSpacing(4)
        layout.addWidget(self.name)
        layout.addWidget(self.details)
        layout.addWidget(self.tempo_editor)
        layout.addWidget(self.waveform)
        layout.addLayout(playing)
        layout.addWidget(self.knob)

    def path(self) -> str | None:
        return self.name.path

    def set_query(self, path: str, track: Track | None) -> None:
        """Show ``path`` as the query; ``track`` is its library entry (None: a file from outside,
        whose tempo is known only once it has been analysed). At a tempo, the knob keeps that tempo."""
        self.name.path = path
        self.name.setText(file_name(path))
        self.name.setToolTip(f"{shown(path)}\nDrag this into your DAW or a folder")
        self._track, self._tempo = track, None
        self.tempo_editor.show_state(None)  # until the library tells the file's tempo state
        self.waveform.set_path(path)
        self.play.setEnabled(True)
        self.knob.setEnabled(True)
        if track is None:
            self.details.setText("from outside the library: analysing…")
            self.knob.set_query_bpm(None)
            return
        self._show_details(track.bpm)
        self._retune(track.bpm)

    def set_analysed_bpm(self, bpm: float | None) -> None:
        """The tempo of a file from outside the library, once analysed; the knob keeps its ratio."""
        self._show_details(bpm)
        self.knob.set_query_bpm(bpm, self.knob.ratio())

    def show_tempo(self, state: TempoState, retune: bool = False) -> None:
        """The query's tempo as the library holds it (``retune``: it was just corrected, so the knob
        moves to the new tempo, keeping the target BPM when it searches at one)."""
        if state.path != self.name.path:
            return  # the answer for an earlier query
        self._tempo = state
        self.tempo_editor.show_state(state)
        self._show_details(state.bpm)
        if retune:
            self._retune(state.bpm)

    def _retune(self, bpm: float | None) -> None:
        """The knob follows a new query tempo; browsing at a project's tempo keeps that tempo."""
        target = self.knob.target_bpm()
        self.knob.set_query_bpm(bpm, target / bpm if target and bpm else 1.0)

    def _show_details(self, bpm: float | None) -> None:
        if bpm is None:
            tempo = "no tempo: a one-shot"
        else:
            tempo = f"{bpm_text(bpm)} BPM" + _tempo_origin(self._tempo, self._track)
        if self._tempo is not None and self._tempo.locked:
            tempo += ", locked"
        duration = self._track.duration if self._track is not None else None
        where = f"  ·  {format_duration(duration)}" if duration is not None else "  ·  not in the library"
        self.details.setText(tempo + where)

    def _change_requested(self, kind: str, value: float | None) -> None:
        if self.name.path is not None:
            self.tempo_change_requested.emit(TempoChange(self.name.path, kind, value))

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if dropped_audio_file(event.mimeData()) and event.source() is not self.name:
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        path = dropped_audio_file(event.mimeData())
        if path:
            event.acceptProposedAction()
            self.file_dropped.emit(path)


def _tempo_origin(state: TempoState | None, track: Track | None) -> str:
    """`` (from filename)``, or for a correction `` (yours; estimated 62)``."""
    if state is not None and state.source == "user":
        estimate = f"; estimated {bpm_text(state.estimated_bpm)}" if state.estimated_bpm is not None else ""
        return f" (yours{estimate})"
    source = state.source if state is not None else track.bpm_source if track is not None else None
    return f" (from {source})" if source else ""
