"""The query's waveform: click to play from there, a play head while it plays.

The audio thread reduces the file to a small min/max envelope (:func:`waveform_envelope`); the
widget only paints that array, so the GUI thread never touches the samples.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QMouseEvent, QPainter, QPaintEvent, QPalette, QPolygonF
from PySide6.QtWidgets import QSizePolicy, QWidget

from desktop.messages import Waveform

HEIGHT = 56  # px: tall enough to see the beats, short enough to leave room for the results
LOADING = "reading…"


def waveform_envelope(samples: np.ndarray, columns: int) -> np.ndarray:
    """Each of ``columns`` equal stretches of ``samples``' (min, max), for drawing.

    Parameters
    ----------
    samples : (n,) float audio
    columns : how many (min, max) pairs; fewer when there are fewer samples

    Returns
    -------
    (min(columns, n), 2) float32
    """
    n = len(samples)
    if n == 0:
        return np.zeros((0, 2), np.float32)
    starts = np.linspace(0, n, min(columns, n), endpoint=False).astype(np.intp)
    return np.stack([np.minimum.reduceat(samples, starts), np.maximum.reduceat(samples, starts)],
                    axis=1).astype(np.float32)


class WaveformView(QWidget):
    """Paints a :class:`Waveform`; a click emits ``seek_requested`` with the seconds clicked on."""

    seek_requested = Signal(float)  # seconds into the file

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setFixedHeight(HEIGHT)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.setToolTip("Click to play from there")
        self._path: str | None = None
        self._wave: Waveform | None = None
        self._note = ""
        self._playhead: float | None = None  # seconds into the file; None: not playing
        self._outline: tuple[tuple[Waveform, int, int], QPolygonF] | None = None  # kept while size and wave stay

    def set_path(self, path: str | None) -> None:
        """A new query: nothing is drawn until its waveform arrives."""
        self._path, self._wave, self._playhead = path, None, None
        self._note = "" if path is None else LOADING
        self.update()

    def set_waveform(self, wave: Waveform) -> None:
        """The envelope of the current query (one for an earlier query is ignored)."""
        if wave.path != self._path:
            return
        self._wave = wave if wave.error is None else None
        self._note = f"no waveform: {wave.error}" if wave.error else ""
        self.update()

    def has_waveform(self) -> bool:
        return self._wave is not None

    def loading(self) -> bool:
        """A query is set and neither its waveform nor the reason there is none has arrived."""
        return self._path is not None and self._wave is None and self._note == LOADING

    def duration(self) -> float:
        return self._wave.duration if self._wave else 0.0

    def set_playhead(self, seconds: float | None) -> None:
        self._playhead = seconds
        self.update()

    def playhead(self) -> float | None:
        return self._playhead

    def seconds_at(self, x: float) -> float:
        """The time under horizontal position ``x`` (px)."""
        return min(max(x / max(self.width(), 1), 0.0), 1.0) * self.duration()

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton and self._wave is not None:
            self.seek_requested.emit(self.seconds_at(event.position().x()))
        super().mousePressEvent(event)

    def paintEvent(self, _event: QPaintEvent) -> None:
        painter = QPainter(self)
        palette = self.palette()
        painter.fillRect(self.rect(), palette.color(QPalette.ColorRole.Base))
        if self._wave is None or len(self._wave.envelope) == 0:
            painter.setPen(palette.color(QPalette.ColorRole.PlaceholderText))
            painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, self._note)
            return
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        shape = self._shape()
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(palette.color(QPalette.ColorRole.Mid))
        painter.drawPolygon(shape)
        if self._playhead is not None and self._wave.duration > 0:
            x = self._playhead / self._wave.duration * self.width()
            painter.setClipRect(QRectF(0, 0, x, self.height()))  # the part already played, highlighted
            painter.setBrush(palette.color(QPalette.ColorRole.Highlight))
            painter.drawPolygon(shape)
            painter.setClipping(False)
            painter.setPen(palette.color(QPalette.ColorRole.Text))
            painter.drawLine(QPointF(x, 0), QPointF(x, self.height()))

    def _shape(self) -> QPolygonF:
        """The envelope as one outline: the maxima left to right, then the minima back (made once per
        size, not on every frame of the play head)."""
        key = (self._wave, self.width(), self.height())  # Waveform compares by identity
        if self._outline is None or self._outline[0] != key:
            self._outline = key, self._outline_now()
        return self._outline[1]

    def _outline_now(self) -> QPolygonF:
        env = self._wave.envelope
        xs = np.linspace(0.0, self.width(), len(env))
        half = self.height() / 2
        top = half - np.clip(env[:, 1], -1, 1) * (half - 1)
        bottom = half - np.clip(env[:, 0], -1, 1) * (half - 1)
        return QPolygonF([QPointF(x, y) for x, y in zip(np.r_[xs, xs[::-1]], np.r_[top, bottom[::-1]])])
