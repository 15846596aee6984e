"""A library file's tempo as the user sees it: the estimate, or the musician's correction of it.

A correction is the user's own data: the store keeps it by content hash, so it survives a rename,
a rescan and a new estimator, and search and the tempo knob read it before any estimate.
"""

from __future__ import annotations

from dataclasses import dataclass

from engine.config import TEMPO, TempoConfig
from engine.errors import LibraryError


class TempoCorrectionError(LibraryError, ValueError):
    """A BPM correction that cannot be made (locked, no tempo to multiply, out of range, not indexed)."""


CORRECTIONS = {"x2": 2.0, "/2": 0.5, "x3/2": 1.5, "x2/3": 2 / 3}  # the octave fixes a musician reaches for


@dataclass(frozen=True)
class TempoState:
    """A library file's tempo as the user sees it: the estimate, or their correction of it.

    Attributes
    ----------
    bpm : float or None
        What search and the tempo knob use: the user's BPM when set, else the estimate; None: no tempo.
    confidence : float or None
        The estimate's confidence (1.0 for the user's own value).
    source : str
        ``"user"`` for a correction, else the evidence that decided the estimate.
    locked : bool
        Corrections are refused until the file is unlocked (a guard against stray clicks).
    estimated_bpm : float or None
        What analysis says, shown beside a correction so it can be undone knowingly.
    """

    path: str
    bpm: float | None
    confidence: float | None
    source: str
    locked: bool
    estimated_bpm: float | None


def corrected_bpm(current: float | None, *, factor: float | None = None, bpm: float | None = None,
                  cfg: TempoConfig = TEMPO) -> float:
    """The BPM a correction asks for: ``current * factor`` (x2, /2, x3/2, x2/3) or a typed ``bpm``.

    Raises :class:`TempoCorrectionError` when there is nothing to multiply (a file with no tempo: type
    a value instead) or the result leaves the range a tempo is reported in.
    """
    if (factor is None) == (bpm is None):
        raise TempoCorrectionError("give either a factor (x2, /2, x3/2, x2/3) or a BPM value")
    if bpm is None:
        if current is None:
            raise TempoCorrectionError("this sound has no tempo to multiply; type a BPM instead")
        if not factor > 0:
            raise TempoCorrectionError(f"a tempo factor must be positive, not {factor}")
        bpm = current * factor
    if not cfg.bpm_min <= bpm <= cfg.bpm_max:
        raise TempoCorrectionError(f"{bpm:.1f} BPM is outside {cfg.bpm_min:.0f}-{cfg.bpm_max:.0f} BPM")
    return round(float(bpm), 2)
