"""Pitched voices: a small subtractive synth, rendered additively so it never aliases.

``render_mono`` plays a retriggered line with glide (basses), ``render_poly`` gives every note its
own voice (chords, pads, arps). Both return the loop plus its tail, shape (loop + tail,).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Literal

import numpy as np
import numpy.typing as npt
from scipy import signal

from scripts.demo.dsp import (
    NYQUIST, SR, STEPS_PER_BAR, TAIL_S, Audio, loop_samples, place, rng, samples, time_axis,
)

EP_PARTIALS = (1.0, 0.45, 0.2, 0.1, 0.05, 0.03)  # a soft electric-piano tine


@dataclass(frozen=True)
class Timbre:
    """Oscillator, 4-pole lowpass with its envelope, amplitude ADSR and a little colour."""

    wave: Literal["saw", "square", "sine", "ep"]
    cutoff_hz: float
    env_hz: float = 0.0  # how far above the cutoff each note's filter envelope opens
    env_decay_s: float = 0.1
    resonance: float = 0.707  # Q of the resonant section; 0.707 is flat
    attack_s: float = 0.003
    decay_s: float = 0.3
    sustain: float = 0.7
    release_s: float = 0.05
    detune_cents: tuple[float, ...] = (0.0,)  # one oscillator per entry, summed
    sub: float = 0.0  # level of a sine an octave below
    drive: float = 0.0  # tanh saturation after the amplifier; 0 is clean
    sweep: float = 0.0  # the cutoff opens by this factor and back once per loop (a knob tweak)


def partials(wave: str, k_max: int) -> list[tuple[int, float]]:
    """(harmonic number, amplitude) of each partial of ``wave`` up to harmonic ``k_max``."""
    if wave == "saw":
        return [(k, 1 / k) for k in range(1, k_max + 1)]
    if wave == "square":
        return [(k, 1 / k) for k in range(1, k_max + 1, 2)]
    if wave == "ep":
        return [(k, a) for k, a in enumerate(EP_PARTIALS, 1) if k <= k_max]
    return [(1, 1.0)]


@functools.cache
def lowpass_prototype(resonance: float) -> npt.NDArray[np.float64]:
    """Denominator of a normalised 4-pole lowpass: one resonant 2-pole times one Butterworth."""
    return np.polymul([1.0, 1.0 / resonance, 1.0], [1.0, np.sqrt(2.0), 1.0])


def lowpass_gain(freq: Audio, cutoff: Audio, resonance: float) -> Audio:
    """Magnitude of the filter at ``freq`` for a cutoff that moves every sample, shape (n,)."""
    return np.abs(signal.freqs([1.0], lowpass_prototype(resonance), worN=freq / cutoff)[1])


def synth_voice(freq: Audio, cutoff: Audio, amp: Audio, timbre: Timbre, label: str) -> Audio:
    """Render one voice from per-sample pitch, cutoff (Hz) and amplitude, all shape (n,).

    Each partial below Nyquist is weighted by the filter's gain at its own frequency, which is a
    time-varying filter with no aliasing and no instability under fast envelopes.
    """
    g = rng(label)
    out = np.zeros_like(freq)
    k_top = min(NYQUIST, 6 * float(cutoff.max()))  # 6x above the cutoff the 4-pole is down 60 dB
    for cents in timbre.detune_cents:
        f = freq * 2 ** (cents / 1200)
        phase = 2 * np.pi * np.cumsum(f) / SR + g.uniform(0, 2 * np.pi)
        for k, a in partials(timbre.wave, max(1, int(k_top / f.min()))):
            out += a * lowpass_gain(k * f, cutoff, timbre.resonance) * (k * f < NYQUIST) * np.sin(k * phase)
    out /= len(timbre.detune_cents)
    if timbre.sub:
        out += timbre.sub * np.sin(np.pi * np.cumsum(freq) / SR)
    out *= amp
    return np.tanh(timbre.drive * out) / np.tanh(timbre.drive) if timbre.drive else out


def adsr(gate_s: float, timbre: Timbre) -> Audio:
    """Amplitude envelope of a note held ``gate_s`` seconds, then released: shape (gate + release,)."""
    t = time_axis(max(samples(gate_s), 1))
    held = np.minimum(t / timbre.attack_s, 1.0) * (
        timbre.sustain + (1 - timbre.sustain) * np.exp(-np.maximum(t - timbre.attack_s, 0) / timbre.decay_s)
    )
    release = held[-1] * np.exp(-time_axis(samples(6 * timbre.release_s)) / timbre.release_s)
    return np.concatenate([held, release])


def cutoff_sweep(total: int, n: int, depth: float) -> Audio:
    """Cutoff multiplier, shape (total,): opens by ``depth`` and back once per loop of ``n`` samples."""
    return 1 + depth * (0.5 - 0.5 * np.cos(2 * np.pi * (np.arange(total) % n) / n))


def midi_hz(midi: float) -> float:
    return 440.0 * 2 ** ((midi - 69) / 12)


@dataclass(frozen=True)
class Note:
    step: float  # start, in 16th-note steps from the loop start
    length: float  # gate, in steps
    midi: int
    velocity: float = 1.0


def render_mono(notes: Sequence[Note], timbre: Timbre, label: str, bpm: float, bars: int,
                glide_s: float = 0.0) -> Audio:
    """A monophonic line (bass), shape (loop + tail,): one oscillator retriggered, with glide.

    Each note takes over the voice: its pitch holds until the next note, ``glide_s`` is the
    portamento time constant, and its envelopes restart from where the last note left them. The
    line is played twice and the second pass kept, so the loop's first note takes over from its
    last one exactly as it does on repeat.
    """
    step_s = 15.0 / bpm
    n = loop_samples(bpm, bars)
    total = 2 * n + samples(TAIL_S)
    freq, amp, opening = np.zeros(total), np.zeros(total), np.zeros(total)
    loop_steps = bars * STEPS_PER_BAR
    ordered = sorted(notes, key=lambda note: note.step)
    for note in ordered + [replace(note, step=note.step + loop_steps) for note in ordered]:
        start = samples(note.step * step_s)
        shape = adsr(note.length * step_s, timbre)[: total - start]
        t = time_axis(len(shape))
        # the attack rises from the level still sounding, so a retrigger does not snap to silence
        env = note.velocity * shape + amp[start] * np.clip(1 - t / timbre.attack_s, 0.0, 1.0)
        span = slice(start, start + len(env))
        amp[start:], opening[start:] = 0.0, 0.0
        amp[span] = env
        opening[span] = timbre.env_hz * note.velocity * np.exp(-t / timbre.env_decay_s)
        freq[start:] = midi_hz(note.midi)
    freq[: samples(ordered[0].step * step_s)] = midi_hz(ordered[0].midi)
    if glide_s:
        a = np.exp(-1 / (glide_s * SR))
        log_f = np.log2(freq)
        freq = 2 ** signal.lfilter([1 - a], [1, -a], log_f, zi=[a * log_f[0]])[0]
    cutoff = timbre.cutoff_hz * cutoff_sweep(total, n, timbre.sweep) + opening
    line = synth_voice(freq[: 2 * n], cutoff[: 2 * n], amp[: 2 * n], timbre, label)
    return np.pad(line[n:], (0, samples(TAIL_S)))


def render_poly(notes: Sequence[Note], timbre: Timbre, label: str, bpm: float, bars: int) -> Audio:
    """Chords, pads and arps, shape (loop + tail,): every note its own voice."""
    step_s = 15.0 / bpm
    n = loop_samples(bpm, bars)
    total = n + samples(TAIL_S)
    sweep = cutoff_sweep(total, n, timbre.sweep)
    out = np.zeros(total)
    for i, note in enumerate(notes):
        start = samples(note.step * step_s)
        amp = note.velocity * adsr(note.length * step_s, timbre)[: total - start]
        t = time_axis(len(amp))
        cutoff = timbre.cutoff_hz * sweep[start : start + len(amp)]
        cutoff = cutoff + timbre.env_hz * note.velocity * np.exp(-t / timbre.env_decay_s)
        place(out, synth_voice(np.full(len(amp), midi_hz(note.midi)), cutoff, amp, timbre, f"{label}/{i}"), start)
    return out
