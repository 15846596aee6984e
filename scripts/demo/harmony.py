"""Keys, chords and note patterns: music written as scale degrees, turned into ``Note``s.

Writing parts as degrees over a progression keeps them in key by construction, and one bar of
rhythm can be repeated over any number of bars (``per_bar``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from scripts.demo.dsp import STEPS_PER_BAR
from scripts.demo.synth import Note

PITCH_CLASS = {"C": 0, "Db": 1, "D": 2, "Eb": 3, "E": 4, "F": 5, "F#": 6, "G": 7, "Ab": 8, "A": 9,
               "Bb": 10, "B": 11}
MAJOR = (0, 2, 4, 5, 7, 9, 11)
MINOR = (0, 2, 3, 5, 7, 8, 10)
Progression = tuple[tuple[float, int], ...]  # (step where it starts, scale degree 0-6) per chord


@dataclass(frozen=True)
class Key:
    tonic: str
    minor: bool

    @property
    def name(self) -> str:
        return self.tonic + ("m" if self.minor else "")

    def pitch(self, degree: int, octave: int) -> int:
        """MIDI note of scale ``degree`` (0 is the tonic; may run past 6) counted from the tonic in
        ``octave`` (C4 = 60)."""
        octaves, index = divmod(degree, 7)
        return 12 * (octave + 1 + octaves) + PITCH_CLASS[self.tonic] + (MINOR if self.minor else MAJOR)[index]

    def chord(self, degree: int, size: int) -> tuple[int, ...]:
        """Diatonic chord stacked in thirds on ``degree`` (size 3: triad, 4: seventh), octave 4."""
        return tuple(self.pitch(degree + 2 * i, 4) for i in range(size))


def degree_at(progression: Progression, step: float) -> int:
    return [degree for start, degree in progression if start <= step][-1]


def voiced(chord: Sequence[int], low: int) -> tuple[int, ...]:
    """Every chord tone moved by octaves into [low, low + 12): smooth voice leading between chords."""
    return tuple(sorted(low + (m - low) % 12 for m in chord))


def per_bar(one_bar: Sequence[tuple], bars: int) -> tuple[tuple, ...]:
    """Repeat one bar of (step, ...) tuples over ``bars`` bars."""
    return tuple((h[0] + STEPS_PER_BAR * b, *h[1:]) for b in range(bars) for h in one_bar)


def bassline(key: Key, progression: Progression, line: Sequence[tuple[float, float, int, float]],
             octave: int) -> tuple[Note, ...]:
    """Notes from (step, length, semitones above the current chord root, velocity).

    Roots stay within a fifth below to a fifth above the tonic, as a bass player would keep them.
    """
    tonic = key.pitch(0, octave)
    notes = []
    for step, length, semis, velocity in line:
        root = key.pitch(degree_at(progression, step), octave)
        root -= 12 if root - tonic > 7 else 0
        notes.append(Note(step, length, root + semis, velocity))
    return tuple(notes)


def chord_hits(key: Key, progression: Progression, rhythm: Sequence[tuple[float, float, float]],
               low: int, size: int) -> tuple[Note, ...]:
    """Whole chords on each (step, length, velocity) of ``rhythm``, voiced from ``low`` up."""
    return tuple(Note(step, length, m, velocity) for step, length, velocity in rhythm
                 for m in voiced(key.chord(degree_at(progression, step), size), low))


def arpeggio(key: Key, progression: Progression, order: Sequence[int], every: int, bars: int,
             low: int, length: float) -> tuple[Note, ...]:
    """One chord tone every ``every`` steps, picked by ``order`` from the triad over two octaves."""
    notes = []
    for i, step in enumerate(range(0, bars * STEPS_PER_BAR, every)):
        triad = voiced(key.chord(degree_at(progression, step), 3), low)
        tones = triad + tuple(m + 12 for m in triad)
        notes.append(Note(step, length, tones[order[i % len(order)]], 1.0 if i % 4 == 0 else 0.75))
    return tuple(notes)


def melody(key: Key, line: Sequence[tuple[float, float, int]], octave: int) -> tuple[Note, ...]:
    """Notes from (step, length, scale degree above the tonic in ``octave``)."""
    return tuple(Note(step, length, key.pitch(degree, octave)) for step, length, degree in line)
