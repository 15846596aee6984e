"""Drum machine voices (kick, snare, clap, hats and cymbals, rim, toms) and the step sequencer.

A kit renders each voice once and a pattern places copies of them, as a sampler-based drum
machine does; kicks and open hats choke themselves, and snare-like voices share one room.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from scipy import signal

from scripts.demo.dsp import (
    ONE_SHOT_FADE_S, SR, STEPS_PER_BAR, TAIL_S, Audio, butter, loop_samples, peak_normalised, place, reverb, rng,
    samples, time_axis, with_fades,
)

TR808_METAL_HZ = (205.3, 304.4, 369.6, 522.7, 540.0, 800.0)  # the 808's six cymbal oscillators


@dataclass(frozen=True)
class KickSpec:
    """A sine whose pitch falls from ``start_hz`` to ``end_hz`` (the thump), plus a noise click."""

    start_hz: float
    end_hz: float
    pitch_tau_s: float  # time constant of the pitch drop
    decay_s: float  # time constant of the body's loudness
    click: float  # level of the beater click relative to the body
    drive: float  # tanh saturation: rounder and louder body, as on a drum machine's output
    seconds: float = 0.5


@dataclass(frozen=True)
class SnareSpec:
    """A struck tone (the drum head) plus band-passed noise (the snares)."""

    tone_hz: float
    tone_decay_s: float
    noise_decay_s: float
    band_hz: tuple[float, float]
    tone_mix: float  # 0: all snares, 1: all head
    seconds: float = 0.4


def kick(spec: KickSpec, label: str) -> Audio:
    t = time_axis(samples(spec.seconds))
    freq = spec.end_hz + (spec.start_hz - spec.end_hz) * np.exp(-t / spec.pitch_tau_s)
    body = np.sin(2 * np.pi * np.cumsum(freq) / SR) * np.exp(-t / spec.decay_s)
    click = butter(rng(label).standard_normal(len(t)) * np.exp(-t / 0.003), "highpass", 1500)
    x = np.tanh(spec.drive * (body + spec.click * click)) / np.tanh(spec.drive)
    return with_fades(x, 0.0, ONE_SHOT_FADE_S)


def snare(spec: SnareSpec, label: str) -> Audio:
    t = time_axis(samples(spec.seconds))
    # the head's pitch drops a little just after the strike, which makes it sound hit, not played
    phase = 2 * np.pi * np.cumsum(spec.tone_hz * (1 + 0.4 * np.exp(-t / 0.008))) / SR
    tone = (np.sin(phase) + 0.5 * np.sin(1.47 * phase)) * np.exp(-t / spec.tone_decay_s)
    noise = butter(rng(label).standard_normal(len(t)), "bandpass", spec.band_hz)
    noise *= np.exp(-t / spec.noise_decay_s)
    x = spec.tone_mix * peak_normalised(tone) + (1 - spec.tone_mix) * peak_normalised(noise)
    return with_fades(x, 0.0, ONE_SHOT_FADE_S)


def clap(label: str, decay_s: float = 0.12, seconds: float = 0.5) -> Audio:
    """Several hands a few ms apart (three short bursts), then the room's short tail."""
    t = time_axis(samples(seconds))
    env = sum(np.where(t >= d, np.exp(-np.maximum(t - d, 0) / 0.004), 0.0) for d in (0, 0.011, 0.022))
    env = np.maximum(env, np.where(t >= 0.03, 0.8 * np.exp(-np.maximum(t - 0.03, 0) / decay_s), 0.0))
    x = butter(rng(label).standard_normal(len(t)), "bandpass", (900, 3200)) * env
    return with_fades(x, 0.0, ONE_SHOT_FADE_S)


def metal(label: str, decay_s: float, highpass_hz: float, seconds: float, tint: float = 1.0,
          metallic: float = 0.5) -> Audio:
    """Hats and cymbals: 808-style detuned squares plus noise, high-passed, decaying.

    ``tint`` scales the square frequencies (a different cymbal); ``metallic`` is their share.
    """
    g = rng(label)
    t = time_axis(samples(seconds))
    squares = sum(signal.square(2 * np.pi * f * tint * t + g.uniform(0, 2 * np.pi)) for f in TR808_METAL_HZ)
    x = butter(metallic * squares / 6 + (1 - metallic) * g.standard_normal(len(t)), "highpass", highpass_hz, 4)
    x *= np.minimum(t / 0.0005, 1.0) * np.exp(-t / decay_s)
    return with_fades(x, 0.0, ONE_SHOT_FADE_S)


def rim(label: str, seconds: float = 0.15) -> Audio:
    t = time_axis(samples(seconds))
    tone = (np.sin(2 * np.pi * 1750 * t) + 0.6 * np.sin(2 * np.pi * 520 * t)) * np.exp(-t / 0.012)
    click = butter(rng(label).standard_normal(len(t)), "bandpass", (2000, 6000)) * np.exp(-t / 0.002)
    return with_fades(tone + 0.5 * click, 0.0, ONE_SHOT_FADE_S)


@dataclass(frozen=True)
class Kit:
    """One drum machine: its kick and snare, hat colour and the room on snare-like voices."""

    name: str
    kick: KickSpec
    snare: SnareSpec
    hat_tint: float = 1.0
    hat_highpass_hz: float = 6000.0
    hat_decay_s: float = 0.03
    room_s: float = 0.8
    room_wet: float = 0.15


@functools.cache
def kit_sounds(kit: Kit) -> dict[str, Audio]:
    """Every voice of ``kit`` rendered once; a loop reuses them like a sampler does."""
    n = kit.name
    return {
        "kick": kick(kit.kick, f"{n}/kick"),
        "snare": snare(kit.snare, f"{n}/snare"),
        "clap": clap(f"{n}/clap"),
        "rim": rim(f"{n}/rim"),
        "hat": metal(f"{n}/hat", kit.hat_decay_s, kit.hat_highpass_hz, 0.25, kit.hat_tint),
        "open_hat": metal(f"{n}/open", 0.14, kit.hat_highpass_hz, 0.7, kit.hat_tint),
        "ride": metal(f"{n}/ride", 0.45, 3500, 1.5, 1.3 * kit.hat_tint, 0.7),
        "crash": metal(f"{n}/crash", 0.55, 3000, 2.0, 0.9 * kit.hat_tint, 0.4),
        "tom_hi": kick(KickSpec(260, 170, 0.05, 0.16, 0.15, 1.2), f"{n}/tom_hi"),
        "tom_lo": kick(KickSpec(180, 110, 0.05, 0.2, 0.15, 1.2), f"{n}/tom_lo"),
    }


# voice -> instrument family written in the manifest
FAMILY = {"kick": "kick", "snare": "snare", "clap": "clap", "rim": "percussion", "hat": "hihat",
          "open_hat": "hihat", "ride": "cymbal", "crash": "cymbal", "tom_hi": "tom", "tom_lo": "tom"}
ROOM_VOICES = frozenset({"snare", "clap", "rim", "tom_hi", "tom_lo"})
SELF_CHOKED = frozenset({"kick", "open_hat"})  # a new hit cuts the last one, as on a drum machine
LEVELS = {"X": 1.0, "x": 0.7, "o": 0.4}
ROLLS = {"2": 2, "3": 3, "4": 4}


@dataclass(frozen=True)
class DrumPattern:
    """Step-sequencer rows per voice, one mapping per bar, cycled over the loop.

    Row characters on the 16th grid: ``X`` accent, ``x`` normal, ``o`` ghost, ``2``/``3``/``4`` a
    roll of that many rising hits inside the step (trap hats), ``.`` rest.
    """

    bars: tuple[Mapping[str, str], ...]
    swing: float = 0.5  # 0.5 is straight; 0.6 plays each off-16th 60 % of the way through its 8th

    def __post_init__(self) -> None:
        for bar in self.bars:
            for voice, row in bar.items():
                if len(row) != STEPS_PER_BAR or voice not in FAMILY:
                    raise ValueError(f"bad drum row {voice}: {row!r}")

    def instruments(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(FAMILY[v] for bar in self.bars for v in bar))


def hits(char: str) -> list[tuple[float, float]]:
    """(offset in steps, level) of each hit a row character plays."""
    if char in LEVELS:
        return [(0.0, LEVELS[char])]
    count = ROLLS[char]
    return [(i / count, 0.35 + 0.35 * i / (count - 1)) for i in range(count)]


def render_drums(pattern: DrumPattern, kit: Kit, label: str, bpm: float, bars: int) -> Audio:
    """Sequence ``pattern`` on ``kit``: shape (loop + tail,), snare-like voices through the room."""
    step_s = 15.0 / bpm
    n = loop_samples(bpm, bars)
    humanise = rng(f"{label}/velocity")  # per-hit level wobble, same at every tempo
    events: dict[str, list[tuple[int, float]]] = {voice: [] for voice in FAMILY}  # (start, gain)
    for bar in range(bars):
        for voice, row in pattern.bars[bar % len(pattern.bars)].items():
            for step, char in enumerate(row):
                if char == ".":
                    continue
                swing = (2 * pattern.swing - 1) if step % 2 else 0.0
                for offset, level in hits(char):
                    start = samples((bar * STEPS_PER_BAR + step + swing + offset) * step_s)
                    events[voice].append((start, level * (1 + 0.05 * humanise.standard_normal())))
    sounds = kit_sounds(kit)
    tracks = {voice: np.zeros(n + samples(TAIL_S)) for voice in FAMILY}
    for voice, played in events.items():
        for start, gain in played:
            if voice in SELF_CHOKED:
                choke(tracks[voice], start)
            place(tracks[voice], sounds[voice], start, gain)
        if played and voice in SELF_CHOKED:
            choke(tracks[voice], n + played[0][0])  # the next time round, the first hit cuts the last
    room = sum(tracks[voice] for voice in ROOM_VOICES)
    return sum(tracks.values()) + kit.room_wet * reverb(room, kit.room_s, f"{kit.name}/room")


def choke(track: Audio, start: int) -> None:
    """Cut whatever still rings on ``track`` at ``start`` with a 5 ms fade, as a retriggered voice does."""
    n = len(track[start : start + samples(0.005)])
    track[start : start + n] *= np.linspace(1.0, 0.0, n)
    track[start + n :] = 0.0
