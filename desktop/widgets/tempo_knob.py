"""The tempo knob: "this sound, at that tempo", with the search mode beside it.

With a query BPM the dial moves in whole BPM between half and double the query's tempo (the range
``SEARCH.contour_min`` .. ``contour_max`` the translation is trained for); a query without a tempo
(a one-shot) moves in ratio steps instead. Turning the dial switches to "at this tempo".
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QButtonGroup, QDial, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from engine.config import DESKTOP, SEARCH, DesktopConfig, SearchConfig
from engine.search.session import SearchError
from desktop.formatting import bpm_text, ratio_text

MODE_LABELS = {"similar": "Similar", "target": "At this tempo", "contour": "At any tempo"}


@dataclass(frozen=True)
class KnobSetting:
    """mode : "similar", "target" or "contour"; ratio : tau = T'/T the knob points at (1: as is)."""

    mode: str
    ratio: float


class TempoKnob(QWidget):
    """QDial, a large "120 → 140 BPM  (×1.17)" readout, and the mode switch.

    ``changed`` fires on every move, so the results can follow the knob live.
    """

    changed = Signal(KnobSetting)

    def __init__(self, parent=None, cfg: DesktopConfig = DESKTOP, search: SearchConfig = SEARCH) -> None:
        super().__init__(parent)
        self._cfg, self._search = cfg, search
        self._bpm: float | None = None
        self.dial = QDial(notchesVisible=True, wrapping=False)
        self.dial.setMinimumSize(110, 110)
        self.dial.valueChanged.connect(self._dial_moved)
        self.readout = QLabel(alignment=Qt.AlignmentFlag.AlignCenter)
        font = QFont(self.readout.font())
        font.setPointSizeF(font.pointSizeF() * 1.9)
        font.setBold(True)
        self.readout.setFont(font)
        self.hint = QLabel(alignment=Qt.AlignmentFlag.AlignCenter)
        self.hint.setStyleSheet("color: palette(mid);")
        self.modes = QButtonGroup(self)
        buttons = QHBoxLayout()
        for mode, label in MODE_LABELS.items():
            button = QPushButton(label, checkable=True)
            button.setProperty("mode", mode)
            self.modes.addButton(button)
            buttons.addWidget(button)
        self.modes.buttons()[0].setChecked(True)
        self.modes.buttonClicked.connect(lambda _button: self._mode_changed())
        readouts = QVBoxLayout()
        readouts.addStretch()
        readouts.addWidget(self.readout)
        readouts.addWidget(self.hint)
        readouts.addStretch()
        top = QHBoxLayout()
        top.addWidget(self.dial)
        top.addLayout(readouts, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top)
        layout.addLayout(buttons)
        self.set_query_bpm(None)

    # --- reading --------------------------------------------------------------------------------

    def mode(self) -> str:
        return self.modes.checkedButton().property("mode")

    def ratio(self) -> float:
        """tau the dial points at; exactly 1 at the query's own tempo."""
        value = self.dial.value()
        if self._bpm is None:
            return value * self._cfg.knob_ratio_step
        if value == self._home():
            return 1.0  # the query's tempo may not be a whole BPM: its own notch is exactly x1
        return value * self._cfg.knob_bpm_step / self._bpm

    def query_bpm(self) -> float | None:
        """The query's tempo the dial is centred on (None: a query without a tempo)."""
        return self._bpm

    def dial_bpm(self) -> float | None:
        """The tempo the dial points at, whatever the mode: what the tempo-locked preview plays at."""
        return self._bpm * self.ratio() if self._bpm is not None else None

    def target_bpm(self) -> float | None:
        """The tempo searched at: in "at this tempo" mode with a query tempo, else None."""
        return self._bpm * self.ratio() if self._bpm is not None and self.mode() == "target" else None

    def setting(self) -> KnobSetting:
        return KnobSetting(self.mode(), self.ratio())

    # --- setting (quietly: the window searches when it is ready) --------------------------------

    def set_query_bpm(self, bpm: float | None, ratio: float = 1.0) -> None:
        """A new query: the dial's range follows its tempo and points at ``ratio``."""
        self._bpm = bpm
        step = self._cfg.knob_ratio_step if bpm is None else self._cfg.knob_bpm_step / bpm
        self.dial.blockSignals(True)
        self.dial.setRange(math.ceil(self._search.contour_min / step), math.floor(self._search.contour_max / step))
        self.dial.setSingleStep(1)
        self.dial.setPageStep(max(1, round(0.1 / step)))  # PageUp/Down: 10 % of the tempo
        self.dial.setValue(self._home() if ratio == 1.0 else round(ratio / step))
        self.dial.blockSignals(False)
        self._show()

    # --- setting (loudly: as if the musician did it) --------------------------------------------

    def set_mode(self, mode: str) -> None:
        next(b for b in self.modes.buttons() if b.property("mode") == mode).setChecked(True)
        self._mode_changed()

    def set_target_bpm(self, bpm: float) -> None:
        """Turn the dial to ``bpm`` (snapped, within range), which also selects "at this tempo"."""
        if self._bpm is None:
            raise SearchError("This sound has no tempo (a one-shot?): set a ratio instead")
        self._turn_to(round(bpm / self._cfg.knob_bpm_step))

    def set_ratio(self, ratio: float) -> None:
        """Turn the dial to ``ratio`` (snapped, within range), which also selects "at this tempo"."""
        step = self._cfg.knob_ratio_step if self._bpm is None else self._cfg.knob_bpm_step / self._bpm
        self._turn_to(self._home() if ratio == 1.0 else round(ratio / step))

    # --- internals ------------------------------------------------------------------------------

    def _home(self) -> int:
        """The dial value at tau = 1."""
        if self._bpm is None:
            return round(1.0 / self._cfg.knob_ratio_step)
        return round(self._bpm / self._cfg.knob_bpm_step)

    def _turn_to(self, value: int) -> None:
        if value != self.dial.value():
            self.dial.setValue(value)  # emits through _dial_moved
        elif self.mode() != "target":
            self.set_mode("target")

    def _dial_moved(self, _value: int) -> None:
        if self.mode() != "target":
            self.set_mode("target")  # emits changed
            return
        self._show()
        self.changed.emit(self.setting())

    def _mode_changed(self) -> None:
        self._show()
        self.changed.emit(self.setting())

    def _show(self) -> None:
        tau = self.ratio()
        if self._bpm is None:
            self.readout.setText(ratio_text(tau))
            hint = "no tempo (a one-shot): the knob sets the ratio"
        else:
            self.readout.setText(f"{bpm_text(self._bpm)} → {bpm_text(self._bpm * tau)} BPM  ({ratio_text(tau)})")
            hint = "the results follow the knob"
        mode = self.mode()
        if mode == "similar":
            hint = "as it is: turn the knob to search at another tempo"
        elif mode == "contour":
            hint = f"at any tempo from {ratio_text(self._search.contour_min)} to {ratio_text(self._search.contour_max)}"
        self.hint.setText(hint)
        self.readout.setEnabled(mode == "target")
