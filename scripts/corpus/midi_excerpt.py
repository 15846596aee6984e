"""A fixed musical excerpt of a MIDI piece, and one MIDI file that plays it at every tempo.

Why MIDI: played at tau times the tempo, every event time is divided by tau and the notes stay
untouched, a true tempo change with no stretching artefacts. The excerpt is cut in ticks, so
every tempo version holds exactly the same notes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import mido
import numpy as np

DRUM_CHANNEL = 9  # General MIDI channel 10, counted from 0
GM_SYSTEM_ON = (0x7E, 0x7F, 0x09, 0x01)  # universal sysex: FluidSynth resets all voices and channels
ALL_SOUND_OFF = 120  # controller number
DEFAULT_TEMPO = 500_000  # microseconds per quarter note (120 BPM) when a file sets none
OUT_TICKS_PER_BEAT = 32_000  # 64000 ticks/s at 120 BPM: 16 µs, far below one audio sample at 32 kHz
FLUID_BLOCK_SAMPLES = 64  # FluidSynth plays MIDI events at the start of 64-sample blocks


@dataclass(frozen=True)
class Excerpt:
    """A piece cut to a fixed musical length, ready to be replayed at any tempo.

    ``prologue`` is the channel state set before the cut (programs, banks, controllers, sysex),
    replayed first; ``body`` holds (seconds from the cut at the original tempo, message) pairs,
    notes only if they start inside the cut. The tempo map is baked into those seconds.
    """

    prologue: tuple[mido.Message, ...]
    body: tuple[tuple[float, mido.Message], ...]
    start_seconds: float  # where the cut is in the original piece
    duration_seconds: float  # at the original tempo
    bpm_start: float  # quarter-note BPM at the cut
    bpm_mean: float  # quarter notes per minute over the whole excerpt
    tempo_changes: bool  # the tempo changes inside the excerpt
    piece_tempo_changes: bool  # the tempo changes anywhere in the piece
    time_signature: str
    has_drums: bool


def tempo_breakpoints(tempi: list[tuple[int, int]], ticks_per_beat: int) -> tuple[np.ndarray, np.ndarray]:
    """Piecewise-linear tick <-> seconds map, as ``np.interp`` breakpoints.

    ``tempi`` holds (absolute tick, µs per quarter note), sorted. A last breakpoint far away lets
    ``np.interp`` continue the final tempo instead of clamping.
    """
    ticks, seconds = [0], [0.0]
    tempo = DEFAULT_TEMPO
    for tick, new_tempo in tempi + [(10**9, DEFAULT_TEMPO)]:
        seconds.append(seconds[-1] + (tick - ticks[-1]) * tempo / ticks_per_beat / 1e6)
        ticks.append(tick)
        tempo = new_tempo
    return np.asarray(ticks, dtype=float), np.asarray(seconds)


def absolute_events(midi: mido.MidiFile) -> list[tuple[int, mido.Message | mido.MetaMessage]]:
    """All tracks merged into one list of (absolute tick, message), in playing order."""
    events, tick = [], 0
    for msg in mido.merge_tracks(midi.tracks):
        tick += msg.time
        events.append((tick, msg))
    return events


def is_note_on(msg: mido.Message | mido.MetaMessage) -> bool:
    return msg.type == "note_on" and msg.velocity > 0


def is_note_off(msg: mido.Message | mido.MetaMessage) -> bool:
    return msg.type == "note_off" or (msg.type == "note_on" and msg.velocity == 0)


def cut_excerpt(midi: mido.MidiFile, excerpt_seconds: float, lead_seconds: float) -> Excerpt:
    """Cut ``excerpt_seconds`` (at the original tempo) starting ``lead_seconds`` after the first note.

    The start snaps back to a beat so the excerpt begins on the grid; a piece too short for the
    lead-in starts earlier, and one shorter than the excerpt is taken whole.
    """
    tpb = midi.ticks_per_beat
    events = absolute_events(midi)
    tempi = [(tick, msg.tempo) for tick, msg in events if msg.type == "set_tempo"]
    bp_ticks, bp_secs = tempo_breakpoints(tempi, tpb)
    note_ticks = [tick for tick, msg in events if is_note_on(msg) or is_note_off(msg)]
    if not note_ticks:
        raise ValueError("no notes")
    first_s, last_s = np.interp([note_ticks[0], note_ticks[-1]], bp_ticks, bp_secs)
    start_s = max(first_s, min(first_s + lead_seconds, last_s - excerpt_seconds))
    start_tick = max(int(np.interp(start_s, bp_secs, bp_ticks)), note_ticks[0]) // tpb * tpb
    start_s = float(np.interp(start_tick, bp_ticks, bp_secs))
    end_tick = int(round(float(np.interp(min(start_s + excerpt_seconds, last_s), bp_secs, bp_ticks))))

    prologue, body, sounding = [], [], set()
    start_tempo, excerpt_tempi, numerator, denominator = DEFAULT_TEMPO, set(), 4, 4
    for tick, msg in events:
        if tick >= end_tick:
            break
        if msg.type == "set_tempo":
            if tick <= start_tick:
                start_tempo = msg.tempo
            else:
                excerpt_tempi.add(msg.tempo)
        elif msg.type == "time_signature" and tick <= start_tick:
            numerator, denominator = msg.numerator, msg.denominator
        elif msg.is_meta:
            continue
        elif tick < start_tick:
            if msg.type in ("program_change", "control_change", "pitchwheel", "sysex"):
                prologue.append(msg.copy(time=0))
        elif is_note_on(msg) or not is_note_off(msg):
            if is_note_on(msg):
                sounding.add((msg.channel, msg.note))
            body.append((tick, msg))
        elif (msg.channel, msg.note) in sounding:  # offs of notes begun before the cut are dropped
            sounding.discard((msg.channel, msg.note))
            body.append((tick, msg))

    seconds = np.interp([tick for tick, _ in body], bp_ticks, bp_secs) - start_s
    duration_s = float(np.interp(end_tick, bp_ticks, bp_secs)) - start_s
    return Excerpt(
        prologue=tuple(prologue),
        body=tuple((float(t), msg) for t, (_, msg) in zip(seconds, body)),
        start_seconds=start_s,
        duration_seconds=duration_s,
        bpm_start=mido.tempo2bpm(start_tempo),
        bpm_mean=60.0 * (end_tick - start_tick) / tpb / duration_s,
        tempo_changes=bool(excerpt_tempi - {start_tempo}),
        piece_tempo_changes=len({tempo for _, tempo in tempi}) > 1,
        time_signature=f"{numerator}/{denominator}",
        has_drums=any(is_note_on(msg) and msg.channel == DRUM_CHANNEL for _, msg in body),
    )


Layout = list[tuple[float, float]]  # per version: (start, duration) in seconds of the rendered audio


def versions_midi(
    excerpt: Excerpt, taus: tuple[float, ...], gap_seconds: float, render_sr: int
) -> tuple[mido.MidiFile, Layout]:
    """One type-0 MIDI file playing the excerpt at every tau, back to back.

    Playing at tau times the tempo divides every event time by tau, which is what dividing each
    ``set_tempo`` by tau does; the file is written at ONE fixed tempo with fine ticks instead,
    because FluidSynth's player re-anchors its clock to the current audio block at every tempo
    event and so drifts (6-21 ms after seven versions, measured). Each version starts on a
    FluidSynth audio block with a GM System On reset (voices and channels as in a render of its
    own) and the prologue; all sound is cut when it ends, and at least ``gap_seconds`` of silence
    lets the reverb die before the next one (-135 dBFS left after 2 s, measured).

    Returns the file and, per tau, (start, duration) in seconds of the rendered audio.
    """
    ticks_per_second = OUT_TICKS_PER_BEAT * 1e6 / DEFAULT_TEMPO
    block_seconds = FLUID_BLOCK_SAMPLES / render_sr
    timeline: list[tuple[int, mido.Message | mido.MetaMessage]] = [
        (0, mido.MetaMessage("set_tempo", tempo=DEFAULT_TEMPO))
    ]
    layout = []
    start = 0.0
    for tau in taus:
        duration = excerpt.duration_seconds / tau
        layout.append((start, duration))
        first = round(start * ticks_per_second)
        timeline.append((first, mido.Message("sysex", data=GM_SYSTEM_ON)))
        timeline.extend((first, msg) for msg in excerpt.prologue)
        timeline.extend((first + round(t / tau * ticks_per_second), msg) for t, msg in excerpt.body)
        end = round((start + duration) * ticks_per_second)
        timeline.extend((end, mido.Message("control_change", channel=ch, control=ALL_SOUND_OFF)) for ch in range(16))
        start = math.ceil((start + duration + gap_seconds) / block_seconds) * block_seconds

    track = mido.MidiTrack()
    previous = 0
    for tick, msg in timeline:  # already in time order: versions follow each other
        track.append(msg.copy(time=tick - previous))
        previous = tick
    track.append(mido.MetaMessage("end_of_track", time=round(gap_seconds * ticks_per_second)))
    midi = mido.MidiFile(type=0, ticks_per_beat=OUT_TICKS_PER_BEAT)
    midi.tracks.append(track)
    return midi, layout
