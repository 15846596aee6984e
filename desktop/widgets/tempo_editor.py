"""The query's BPM correction: the octave fixes (x2, /2, x3/2, x2/3), a typed BPM, lock and reset.

The buttons only ask; the library decides (on its own thread) and says why when it refuses: a
locked file, a one-shot asked to double, a tempo out of range. So the buttons stay enabled for any
library file and the refusal reaches the status bar in the engine's words.
"""

from __future__ import annotations

from PySide6.QtCore import QLocale, Signal
from PySide6.QtGui import QDoubleValidator
from PySide6.QtWidgets import QHBoxLayout, QLineEdit, QPushButton, QWidget

from engine.library.tempo_state import CORRECTIONS, TempoState
from desktop.formatting import bpm_text

LABELS = {"x2": "×2", "/2": "÷2", "x3/2": "×3/2", "x2/3": "×2/3"}  # CORRECTIONS' keys as a musician reads them
TIPS = {"x2": "Twice the tempo (it was read at half time)", "/2": "Half the tempo (it was read at double time)",
        "x3/2": "One and a half times the tempo (read as a triplet feel)", "x2/3": "Two thirds of the tempo"}


class TempoEditor(QWidget):
    """Emits ``change_requested(kind, value)`` with a :class:`desktop.messages.TempoChange` kind;
    shows the query's :class:`TempoState` (disabled while there is none: no query, or a file from
    outside the library)."""

    change_requested = Signal(str, object)  # kind ("factor", "bpm", "lock", "unlock", "reset"), value

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self._state: TempoState | None = None
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        self.factor_buttons: dict[str, QPushButton] = {}
        for key, factor in CORRECTIONS.items():
            button = QPushButton(LABELS[key], toolTip=TIPS[key])
            button.clicked.connect(lambda _checked=False, f=factor: self.change_requested.emit("factor", f))
            self.factor_buttons[key] = button
            layout.addWidget(button)
        self.typed = QLineEdit(placeholderText="BPM", toolTip="Type the right BPM and press Enter")
        validator = QDoubleValidator(0.0, 9999.0, 2, self.typed)  # numbers only: the library checks the range
        validator.setLocale(QLocale.c())  # "124.5" whatever the system's decimal separator
        self.typed.setValidator(validator)
        self.typed.setMaximumWidth(64)
        self.typed.returnPressed.connect(self._typed)
        layout.addWidget(self.typed)
        self.lock = QPushButton("Lock", toolTip="Lock this BPM: corrections are refused until it is unlocked")
        self.lock.clicked.connect(
            lambda: self.change_requested.emit("unlock" if self._state and self._state.locked else "lock", None))
        layout.addWidget(self.lock)
        self.reset = QPushButton("Reset", toolTip="Back to the estimated BPM")
        self.reset.clicked.connect(lambda: self.change_requested.emit("reset", None))
        layout.addWidget(self.reset)
        layout.addStretch()
        self.show_state(None)

    def show_state(self, state: TempoState | None) -> None:
        self._state = state
        self.setEnabled(state is not None)
        locked = state is not None and state.locked
        self.lock.setText("Unlock" if locked else "Lock")
        estimate = state.estimated_bpm if state is not None else None
        self.reset.setToolTip("Back to the estimated BPM"
                              + (f": {bpm_text(estimate)}" if estimate is not None else " (none: a one-shot)"))
        self.typed.clear()

    def _typed(self) -> None:
        try:
            bpm = float(self.typed.text())
        except ValueError:
            return  # the validator lets only numbers through; an empty field asks nothing
        self.change_requested.emit("bpm", bpm)
