"""Build the demo sample library in ``resources/demo/`` by synthesis, bit for bit.

Run from the repository root::

    .venv/bin/python scripts/make_demo_library.py             # rebuilds resources/demo/
    .venv/bin/python scripts/make_demo_library.py --out DIR   # builds elsewhere, e.g. to compare hashes

Every sound is synthesised here with numpy/scipy from fixed seeds (no recorded samples), so the
library is ours to ship under the project's MIT licence and two runs write identical files. It holds
drum loops in nine styles, bass, chord/pad/arp and full-mix loops, each a whole number of 4/4 bars
between 70 and 175 BPM, several of them as the SAME pattern at two or three tempi (what the app's
"same sound at another tempo" search is demonstrated on), plus tempo-less one-shots. Files are FLAC,
22 050 Hz mono 16-bit, peak -1 dBFS, labelled in ``manifest.json`` for evaluations.

Loops are rendered with room for tails (releases, reverb, echoes) and the tails are folded back onto
the start, as a looping sampler would play them, so each loop repeats seamlessly; 2 ms fades keep
the first and last samples at zero so a one-time preview does not click either.
"""

from __future__ import annotations

import argparse
import functools
import json
import zlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Literal

import numpy as np
import numpy.typing as npt
import soundfile as sf
from scipy import signal

Audio = npt.NDArray[np.float64]

SR = 22_050  # Hz: keeps the folder small and still covers the 8 kHz band MusiCNN listens to
NYQUIST = SR / 2
PEAK_DBFS = -1.0
LOOP_FADE_S = 0.002
ONE_SHOT_FADE_S = 0.010
TAIL_S = 6.0  # rendered past a loop's end for releases, reverb and echoes, then folded back
STEPS_PER_BAR = 16  # the sequencer grid is 16th notes in 4/4
OUT_DIR = Path(__file__).resolve().parents[1] / "resources" / "demo"
LICENSE_TEXT = (
    "The audio files in this folder and manifest.json were generated entirely by synthesis with\n"
    "scripts/make_demo_library.py (numpy/scipy, fixed seeds, no recorded samples). They are part of\n"
    "Similar But Faster and released under the same MIT licence as the rest of the project: use,\n"
    "copy, modify and redistribute them freely, in music or software, with or without credit.\n"
)


# --------------------------------------------------------------------------------------------
# Small DSP helpers
# --------------------------------------------------------------------------------------------


def rng(label: str) -> np.random.Generator:
    """Random generator seeded from a name, so one sound never changes when others are added."""
    return np.random.default_rng(zlib.crc32(label.encode()))


def samples(seconds: float) -> int:
    return int(round(seconds * SR))


def time_axis(n: int) -> Audio:
    """Seconds since the start for ``n`` samples, shape (n,)."""
    return np.arange(n) / SR


def loop_samples(bpm: float, bars: int) -> int:
    """Exact loop length: ``bars`` of 4/4 at ``bpm`` (4 beats of 60/bpm seconds per bar)."""
    return samples(bars * 240.0 / bpm)


def butter(x: Audio, kind: str, hz: float | tuple[float, float], order: int = 2) -> Audio:
    """Butterworth filter of ``kind`` ('lowpass', 'highpass', 'bandpass') at ``hz``."""
    return signal.sosfilt(signal.butter(order, hz, btype=kind, fs=SR, output="sos"), x)


def peak_normalised(x: Audio, peak: float = 1.0) -> Audio:
    """Scale so the largest absolute sample is ``peak`` (linear)."""
    top = float(np.max(np.abs(x)))
    if not np.isfinite(top) or top == 0.0:
        raise ValueError("cannot normalise a silent or non-finite signal")
    return x * (peak / top)


def with_fades(x: Audio, fade_in_s: float, fade_out_s: float) -> Audio:
    """Linear fades so the first and last samples are zero (no click on playback)."""
    y = x.copy()
    n_in, n_out = samples(fade_in_s), samples(fade_out_s)
    y[:n_in] *= np.linspace(0.0, 1.0, n_in)
    y[len(y) - n_out :] *= np.linspace(1.0, 0.0, n_out)
    return y


def place(buffer: Audio, sound: Audio, start: int, gain: float = 1.0) -> None:
    """Mix ``sound`` into ``buffer`` from sample ``start``, dropping what falls past its end."""
    end = min(len(buffer), start + len(sound))
    buffer[start:end] += gain * sound[: end - start]


def fold(x: Audio, n: int) -> Audio:
    """Wrap everything after sample ``n`` back onto the start, as a looping sampler plays it."""
    return np.pad(x, (0, -len(x) % n)).reshape(-1, n).sum(axis=0)


@functools.cache
def impulse_response(decay_s: float, label: str) -> Audio:
    """Unit-energy room: lowpassed noise falling 60 dB over ``decay_s`` seconds."""
    t = time_axis(samples(decay_s))
    ir = butter(rng(label).standard_normal(len(t)) * np.exp(-6.9 * t / decay_s), "lowpass", 5000)
    return ir / np.sqrt(np.sum(ir**2))


def reverb(x: Audio, decay_s: float, label: str) -> Audio:
    """Wet signal only, same length as ``x`` (the caller leaves room for the tail)."""
    return signal.fftconvolve(x, impulse_response(decay_s, label))[: len(x)]


def echo(x: Audio, delay_s: float, feedback: float) -> Audio:
    """Wet signal only of a feedback delay: repeats every ``delay_s``, each ``feedback`` as loud."""
    d = samples(delay_s)
    b = np.zeros(d + 1)
    b[d] = 1.0
    a = np.zeros(d + 1)
    a[0], a[d] = 1.0, -feedback
    return signal.lfilter(b, a, x)


def crackle(n: int, label: str) -> Audio:
    """Vinyl dust: sparse clicks over faint hiss, band-limited like an old record, peak 1."""
    g = rng(f"{label}/dust")
    clicks = np.where(g.random(n) < 6.0 / SR, g.standard_normal(n), 0.0)
    return peak_normalised(butter(clicks + 0.03 * g.standard_normal(n), "bandpass", (400, 6000)))


# --------------------------------------------------------------------------------------------
# Drum voices
# --------------------------------------------------------------------------------------------

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


# --------------------------------------------------------------------------------------------
# Pitched voices: a small subtractive synth, rendered additively so it never aliases
# --------------------------------------------------------------------------------------------

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


# --------------------------------------------------------------------------------------------
# Keys, chords and note patterns
# --------------------------------------------------------------------------------------------

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


# --------------------------------------------------------------------------------------------
# Parts, effects and the library itself
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Fx:
    """Per-part effects, in musical units so they sound the same at every tempo."""

    reverb_s: float = 0.0
    reverb_wet: float = 0.0
    echo_steps: int = 0  # delay in 16th steps (3 = dotted 8th)
    echo_feedback: float = 0.35
    echo_wet: float = 0.0
    lowpass_hz: float | None = None  # dull the top like an old sampler
    dust: float = 0.0  # vinyl crackle level, relative to the loop's peak


def finish_loop(x: Audio, fx: Fx, label: str, bpm: float, bars: int) -> Audio:
    """Apply ``fx`` to a rendered part (loop + tail), then fold it to exactly one loop."""
    if fx.echo_wet:
        x = x + fx.echo_wet * echo(x, fx.echo_steps * 15.0 / bpm, fx.echo_feedback)
    if fx.reverb_wet:
        x = x + fx.reverb_wet * reverb(x, fx.reverb_s, f"{label}/reverb")
    if fx.lowpass_hz:
        x = butter(x, "lowpass", fx.lowpass_hz)
    x = fold(x, loop_samples(bpm, bars))
    if fx.dust:
        x = x + fx.dust * float(np.max(np.abs(x))) * crackle(len(x), label)
    return x


@dataclass(frozen=True)
class Part:
    """A tempo-free musical pattern; ``render(bpm)`` plays it as one seamless loop, shape (n,)."""

    name: str  # shared by every tempo the pattern is rendered at
    style: str
    bars: int
    instruments: tuple[str, ...]
    render: Callable[[float], Audio]
    key: Key | None = None


def drum_part(name: str, style: str, bars: int, pattern: DrumPattern, kit: Kit, fx: Fx = Fx()) -> Part:
    @functools.cache  # full mixes reuse the parts they are made of
    def render(bpm: float) -> Audio:
        return finish_loop(render_drums(pattern, kit, name, bpm, bars), fx, name, bpm, bars)

    return Part(name, style, bars, pattern.instruments(), render)


def synth_part(name: str, style: str, bars: int, key: Key, instrument: str, notes: Sequence[Note],
               timbre: Timbre, fx: Fx = Fx(), mono: bool = False, glide_s: float = 0.0) -> Part:
    """A pitched part: a monophonic line with optional glide (bass) or one voice per note."""

    @functools.cache  # full mixes reuse the parts they are made of
    def render(bpm: float) -> Audio:
        if mono:
            x = render_mono(notes, timbre, name, bpm, bars, glide_s)
        else:
            x = render_poly(notes, timbre, name, bpm, bars)
        return finish_loop(x, fx, name, bpm, bars)

    return Part(name, style, bars, (instrument,), render, key)


def full_mix(name: str, layers: Sequence[tuple[Part, float]]) -> Part:
    """Parts summed at the given gains (each first brought to peak 1) through a gently saturating bus.

    The first layer (the drums) gives the style; the first pitched layer gives the key.
    """
    first = layers[0][0]
    if any(part.bars != first.bars for part, _ in layers):
        raise ValueError(f"{name}: every layer must last the same number of bars")

    def render(bpm: float) -> Audio:
        return np.tanh(1.5 * peak_normalised(sum(gain * peak_normalised(part.render(bpm)) for part, gain in layers)))

    instruments = tuple(dict.fromkeys(i for part, _ in layers for i in part.instruments))
    key = next((part.key for part, _ in layers if part.key), None)
    return Part(name, first.style, first.bars, instruments, render, key)


# ---- drum kits -------------------------------------------------------------------------------

HOUSE_KIT = Kit("house", KickSpec(150, 52, 0.03, 0.22, 0.3, 1.5), SnareSpec(200, 0.06, 0.12, (1500, 7000), 0.35))
TECHNO_KIT = Kit("techno", KickSpec(130, 48, 0.035, 0.18, 0.4, 2.5),
                 SnareSpec(220, 0.05, 0.1, (1500, 8000), 0.3), 1.15, 7000, 0.025, 1.4, 0.2)
BOOMBAP_KIT = Kit("boombap", KickSpec(110, 50, 0.04, 0.25, 0.5, 2.0), SnareSpec(185, 0.08, 0.18, (1000, 6000), 0.4),
                  0.9, 5000, 0.035, 0.9, 0.25)
DNB_KIT = Kit("dnb", KickSpec(170, 55, 0.02, 0.15, 0.6, 1.8, 0.35), SnareSpec(240, 0.05, 0.15, (2000, 9000), 0.35),
              1.1, 7000, 0.025, 0.7, 0.15)
ROCK_KIT = Kit("rock", KickSpec(120, 58, 0.03, 0.2, 0.5, 1.4), SnareSpec(190, 0.09, 0.2, (1000, 8000), 0.45),
               0.95, 5500, 0.05, 1.2, 0.3)
REGGAETON_KIT = Kit("reggaeton", KickSpec(140, 50, 0.03, 0.25, 0.3, 2.0), SnareSpec(300, 0.04, 0.1, (2000, 8000), 0.5))
TRAP_KIT = Kit("trap", KickSpec(90, 42, 0.05, 0.55, 0.4, 2.5, 1.2), SnareSpec(230, 0.05, 0.12, (1800, 8000), 0.3),
               1.2, 7500, 0.02, 1.0, 0.1)
FUNK_KIT = Kit("funk", KickSpec(115, 55, 0.035, 0.2, 0.5, 1.6, 0.45), SnareSpec(200, 0.07, 0.15, (1200, 7000), 0.45),
               1.0, 6000, 0.03, 0.8, 0.2)

# ---- drum patterns (16 steps a bar; see DrumPattern) -----------------------------------------

HOUSE_BAR = {"kick": "X...X...X...X...", "clap": "....X.......X...",
             "hat": "xo.oxo.oxo.oxo.o", "open_hat": "..x...x...x...x."}
HOUSE = DrumPattern((HOUSE_BAR, {**HOUSE_BAR, "clap": "....X.......X..o"}))
TECHNO = DrumPattern((
    {"kick": "X...X...X...X...", "hat": "oo.ooo.ooo.ooo.o", "open_hat": "..x...x...x...x.",
     "clap": "....x.......x...", "rim": "...x.....x....x."},
    {"kick": "X...X...X...X...", "hat": "oo.ooo.ooo.ooo.o", "open_hat": "..x...x...x...x.",
     "clap": "....x.......x...", "rim": "...x..x..x......"},
))
BOOMBAP = DrumPattern((
    {"kick": "X......x..X.....", "snare": "....X.......X...", "hat": "x.x.x.x.x.x.x.xo"},
    {"kick": "X.........X..x..", "snare": "....X..o....X...", "hat": "x.x.x.x.x.x.x...",
     "open_hat": "..............x."},
), swing=0.6)
LOFI = DrumPattern((
    {"kick": "X.......x.x.....", "snare": "....X.......X...", "hat": "x.xox.x.x.xox.x."},
    {"kick": "X......x..x..x..", "snare": "....X.......X..o", "hat": "x.xox.x.x.xox.x."},
), swing=0.62)
DNB_BREAK = DrumPattern((
    {"kick": "X.X.......XX....", "snare": "....X..o.o..X..o", "hat": "x.x.x.x.x.x.x.x.", "crash": "X..............."},
    {"kick": "X.X.......XX....", "snare": "....X..o.o..X..o", "hat": "x.x.x.x.x.x.x.x."},
    {"kick": "X.X.......X.....", "snare": "....X..o.o....X.", "hat": "x.x.x.x.x.x.x.x."},
    {"kick": "..XX......X.....", "snare": ".o..X..o.o..X..o", "hat": "x.x.x.x.x.x.x.x."},
))
DNB_TWOSTEP_BAR = {"kick": "X.........X.....", "snare": "....X.......X...", "hat": "x.x.x.x.x.x.x.xo"}
DNB_TWOSTEP = DrumPattern((DNB_TWOSTEP_BAR, DNB_TWOSTEP_BAR, DNB_TWOSTEP_BAR,
                           {"kick": "X.........X.X...", "snare": "....X..o....X.o.", "hat": "x.x.x.x.x.x.x...",
                            "open_hat": "..............x."}))
ROCK = DrumPattern((
    {"kick": "X.......X.X.....", "snare": "....X.......X...", "hat": "x.x.x.x.x.x.x.x.", "crash": "X..............."},
    {"kick": "X.......X.X.....", "snare": "....X.......X...", "hat": "x.x.x.x.x.x.x...",
     "tom_hi": "..............X.", "tom_lo": "...............X"},
))
DEMBOW_BAR = {"kick": "X...X...X...X...", "snare": "...X..X....X..X.", "hat": "x.x.x.x.x.x.x.x."}
DEMBOW = DrumPattern((DEMBOW_BAR, {**DEMBOW_BAR, "hat": "x.x.x.x.x.x.x.xo", "open_hat": "..............x."}))
TRAP = DrumPattern((
    {"kick": "X.....X...X.....", "clap": "........X.......", "snare": "........x.......",
     "hat": "x.x.x.x.x.3.x.x.", "open_hat": "......x........."},
    {"kick": "X.....X..X..X...", "clap": "........X.......", "snare": "........x.......",
     "hat": "x.x.x.x.x.x.2222"},
))
FUNK = DrumPattern((
    {"kick": "X.X.......X..X..", "snare": "....X..o.o.oX..o", "hat": "xoxoxox.xoxoxoxo",
     "open_hat": ".......x........"},
    {"kick": "X.X.......X..X..", "snare": "....X..o.o..X..o", "hat": "xoxoxox.xoxoxoxo",
     "open_hat": ".......x........"},
), swing=0.54)

house_groove = drum_part("house_groove", "house", 2, HOUSE, HOUSE_KIT)
techno_drums = drum_part("techno_drums", "techno", 2, TECHNO, TECHNO_KIT)
boombap_drums = drum_part("boombap_drums", "boombap", 2, BOOMBAP, BOOMBAP_KIT, Fx(lowpass_hz=7000))
lofi_drums = drum_part("lofi_drums", "lofi", 2, LOFI, BOOMBAP_KIT, Fx(lowpass_hz=4500, dust=0.08))
dnb_break = drum_part("dnb_break", "dnb", 4, DNB_BREAK, DNB_KIT)
dnb_twostep = drum_part("dnb_twostep", "dnb", 4, DNB_TWOSTEP, DNB_KIT)
rock_beat = drum_part("rock_beat", "rock", 2, ROCK, ROCK_KIT)
reggaeton_dembow = drum_part("reggaeton_dembow", "reggaeton", 2, DEMBOW, REGGAETON_KIT)
trap_drums = drum_part("trap_drums", "trap", 2, TRAP, TRAP_KIT)
funk_break = drum_part("funk_break", "breakbeat", 2, FUNK, FUNK_KIT, Fx(lowpass_hz=8000))

# ---- synth voices ----------------------------------------------------------------------------

ACID = Timbre("saw", 260, 2400, 0.12, 7.0, decay_s=0.15, sustain=0.6, release_s=0.03, drive=2.0, sweep=1.5)
DEEP_BASS = Timbre("square", 350, 600, 0.08, 1.2, decay_s=0.2, sustain=0.5, sub=0.4)
SUB_808 = Timbre("sine", 2000, decay_s=0.5, sustain=0.35, release_s=0.08, drive=1.8)
REESE = Timbre("saw", 420, resonance=1.5, attack_s=0.01, decay_s=1.0, sustain=1.0, release_s=0.1,
               detune_cents=(-14.0, 14.0), sub=0.5, sweep=0.9)
PLUCK_BASS = Timbre("saw", 320, 1800, 0.05, 1.5, decay_s=0.25, sustain=0.3, release_s=0.04)
ROUND_BASS = Timbre("square", 220, 300, 0.1, decay_s=0.4, sustain=0.6, release_s=0.06, sub=0.5)
DEMBOW_BASS = Timbre("sine", 2000, decay_s=0.25, sustain=0.4, release_s=0.05, drive=1.5)
STAB = Timbre("saw", 900, 2500, 0.07, 2.0, decay_s=0.18, sustain=0.0, release_s=0.06, detune_cents=(-8.0, 8.0))
EP = Timbre("ep", 900, 2500, 0.25, 0.8, decay_s=1.2, sustain=0.3, release_s=0.35, detune_cents=(-4.0, 4.0))
BELL = Timbre("ep", 1500, 4000, 0.1, decay_s=0.35, sustain=0.0, release_s=0.2)
PAD = Timbre("saw", 1200, resonance=0.8, attack_s=0.6, decay_s=1.0, sustain=0.8, release_s=0.7,
             detune_cents=(-12.0, -4.0, 5.0, 13.0), sweep=0.6)
PLUCK = Timbre("saw", 500, 3500, 0.09, 2.5, decay_s=0.2, sustain=0.0, release_s=0.1, detune_cents=(-7.0, 7.0))
SQUARE_ARP = Timbre("square", 800, 2500, 0.12, 1.5, decay_s=0.25, sustain=0.2, release_s=0.12,
                    detune_cents=(-6.0, 6.0))

# ---- keys and progressions -------------------------------------------------------------------

A_MINOR, C_MINOR, D_MINOR, E_MINOR = Key("A", True), Key("C", True), Key("D", True), Key("E", True)
F_MINOR, G_MINOR = Key("F", True), Key("G", True)
C_MAJOR, E_MAJOR, F_MAJOR = Key("C", False), Key("E", False), Key("F", False)
TONIC_ONLY: Progression = ((0, 0),)
I_VI: Progression = ((0, 0), (16, 5))  # two bars: i then VI (minor) / I then vi (major)
POP_MINOR: Progression = ((0, 0), (8, 5), (16, 2), (24, 6))  # i VI III VII, a chord every half bar
DNB_PROGRESSION: Progression = ((0, 0), (16, 5), (32, 2), (48, 6))  # the same, a chord per bar
ROCK_PROGRESSION: Progression = ((0, 0), (8, 4), (16, 5), (24, 3))  # I V vi IV
LOFI_PROGRESSION: Progression = ((0, 1), (8, 4), (16, 0))  # ii7 V7 Imaj7
AMBIENT_PROGRESSION: Progression = ((0, 0), (16, 3))  # Imaj7 IVmaj7

ACID_BARS = (
    (0, 1.0), (0, 0.6), (12, 0.6), None, (3, 1.0), (0, 0.6), (15, 0.6), (12, 1.0),
    (0, 0.6), None, (7, 0.6), (12, 1.0), (10, 0.6), (0, 0.6), (3, 1.0), (5, 0.6),
    (0, 1.0), (12, 0.6), (0, 0.6), (3, 0.6), (0, 1.0), (15, 0.6), (3, 0.6), None,
    (7, 1.0), (0, 0.6), (10, 0.6), (12, 1.0), (0, 0.6), (3, 0.6), None, (-2, 1.0),
)
acid_line = tuple((step, 0.6, hit[0], hit[1]) for step, hit in enumerate(ACID_BARS) if hit)

bass_acid = synth_part("bass_acid_Am", "house", 2, A_MINOR, "bass",
                       bassline(A_MINOR, TONIC_ONLY, acid_line, 1), ACID, mono=True, glide_s=0.012)
bass_deep = synth_part("bass_deep_Fm", "house", 2, F_MINOR, "bass", bassline(F_MINOR, I_VI, per_bar(
    ((2, 1.5, 0, 1.0), (5, 0.75, 0, 0.6), (7, 0.75, 12, 0.7), (10, 1.5, 0, 1.0), (13, 0.75, 0, 0.6),
     (15, 0.75, 7, 0.7)), 2), 2), DEEP_BASS, mono=True)
bass_808 = synth_part("bass_808_Cm", "trap", 2, C_MINOR, "bass", bassline(C_MINOR, TONIC_ONLY, (
    (0, 6, 0, 1.0), (6, 4, 0, 0.9), (10, 6, 3, 1.0),
    (16, 6, -4, 1.0), (22, 3, -4, 0.9), (25, 3, -5, 0.9), (28, 4, -5, 1.0)), 2), SUB_808, mono=True, glide_s=0.045)
bass_reese = synth_part("bass_reese_Dm", "dnb", 4, D_MINOR, "bass", bassline(
    D_MINOR, DNB_PROGRESSION, per_bar(((0, 15.5, 0, 1.0),), 4), 2), REESE, mono=True, glide_s=0.03)
bass_boombap = synth_part("bass_boombap_Gm", "boombap", 2, G_MINOR, "bass", bassline(G_MINOR, I_VI, (
    (0, 6, 0, 1.0), (7, 2, 0, 0.7), (10, 5, 0, 0.9), (16, 9, 0, 1.0), (26, 3, 0, 0.8), (29, 3, 7, 0.8)), 2),
    ROUND_BASS, Fx(lowpass_hz=4000), mono=True)
bass_funk = synth_part("bass_funk_Em", "breakbeat", 2, E_MINOR, "bass", bassline(E_MINOR, TONIC_ONLY, (
    (0, 1, 0, 1.0), (2, 0.5, 12, 0.7), (3, 1, 0, 0.8), (6, 1, 10, 0.7), (7, 0.5, 12, 0.9), (10, 1, 0, 1.0),
    (11, 0.5, 3, 0.6), (12, 1, 5, 0.8), (14, 1, 7, 0.9),
    (16, 1, 0, 1.0), (18, 0.5, 12, 0.7), (19, 1, 0, 0.8), (22, 1, 7, 0.8), (23, 1, 10, 0.8), (26, 1, 12, 1.0),
    (27, 0.5, 10, 0.6), (28, 1, 7, 0.8), (30, 1, 5, 0.7), (31, 0.5, 3, 0.7)), 1), PLUCK_BASS, mono=True)
bass_dembow = synth_part("bass_dembow_Am", "reggaeton", 2, A_MINOR, "bass", bassline(A_MINOR, POP_MINOR, per_bar(
    ((0, 3, 0, 1.0), (3, 3, 0, 0.8), (6, 2, 0, 0.9), (8, 3, 0, 1.0), (11, 3, 0, 0.8), (14, 2, 0, 0.9)), 2), 1),
    DEMBOW_BASS, mono=True)
bass_rock = synth_part("bass_rock_E", "rock", 2, E_MAJOR, "bass", bassline(
    E_MAJOR, ROCK_PROGRESSION, per_bar(tuple((s, 1.7, 0, 1.0 if s % 4 == 0 else 0.8) for s in range(0, 16, 2)), 2), 1),
    PLUCK_BASS, mono=True)
bass_lofi = synth_part("bass_lofi_F", "lofi", 2, F_MAJOR, "bass", bassline(F_MAJOR, LOFI_PROGRESSION, (
    (0, 7, 0, 0.9), (8, 6, 0, 0.8), (14, 2, 7, 0.6), (16, 10, 0, 0.9), (28, 3, 0, 0.6)), 2),
    ROUND_BASS, Fx(lowpass_hz=3000), mono=True, glide_s=0.02)

chords_house = synth_part("chords_house_stab_Fm", "house", 2, F_MINOR, "chords", chord_hits(
    F_MINOR, I_VI, per_bar(((2, 1, 1.0), (5, 1, 0.7), (10, 1, 1.0), (13, 1.5, 0.8)), 2), 53, 4),
    STAB, Fx(reverb_s=1.2, reverb_wet=0.3))
keys_lofi = synth_part("keys_lofi_F", "lofi", 2, F_MAJOR, "keys", chord_hits(
    F_MAJOR, LOFI_PROGRESSION, ((0, 7.5, 0.9), (8, 7.5, 0.8), (16, 12, 0.9), (28, 3.5, 0.6)), 53, 4),
    EP, Fx(reverb_s=1.5, reverb_wet=0.3, lowpass_hz=5000, dust=0.05))
pad_ambient = synth_part("pad_ambient_C", "ambient", 2, C_MAJOR, "pad", chord_hits(
    C_MAJOR, AMBIENT_PROGRESSION, ((0, 15.5, 1.0), (16, 15.5, 1.0)), 55, 4), PAD, Fx(reverb_s=3.0, reverb_wet=0.5))
arp_trance = synth_part("arp_trance_Am", "trance", 2, A_MINOR, "arp", arpeggio(
    A_MINOR, POP_MINOR, (0, 1, 2, 3, 4, 3, 2, 1), 1, 2, 57, 0.75), PLUCK,
    Fx(reverb_s=1.5, reverb_wet=0.2, echo_steps=3, echo_wet=0.35))
arp_synthwave = synth_part("arp_synthwave_Em", "synthwave", 2, E_MINOR, "arp", arpeggio(
    E_MINOR, I_VI, (0, 1, 2, 3, 2, 1), 2, 2, 52, 1.5), SQUARE_ARP,
    Fx(reverb_s=1.8, reverb_wet=0.25, echo_steps=3, echo_wet=0.3))
chords_reggaeton = synth_part("chords_reggaeton_Am", "reggaeton", 2, A_MINOR, "chords", chord_hits(
    A_MINOR, POP_MINOR, per_bar(((0, 1.5, 1.0), (3, 1.5, 0.8), (6, 1, 0.9), (8, 1.5, 1.0), (11, 1.5, 0.8),
                                 (14, 1, 0.9)), 2), 57, 3), PLUCK, Fx(reverb_s=1.0, reverb_wet=0.2))
pad_dnb = synth_part("pad_dnb_Dm", "dnb", 4, D_MINOR, "pad", chord_hits(
    D_MINOR, DNB_PROGRESSION, per_bar(((0, 15.5, 1.0),), 4), 57, 3), PAD, Fx(reverb_s=2.5, reverb_wet=0.4))
keys_boombap = synth_part("keys_boombap_Gm", "boombap", 2, G_MINOR, "keys", chord_hits(
    G_MINOR, I_VI, per_bar(((0, 5.5, 0.9), (6, 1.5, 0.7), (10, 5.5, 0.8)), 2), 55, 4),
    EP, Fx(reverb_s=1.2, reverb_wet=0.25, lowpass_hz=4500))
bell_trap = synth_part("bell_trap_Cm", "trap", 2, C_MINOR, "keys", melody(C_MINOR, (
    (0, 2, 7), (3, 2, 9), (6, 2, 11), (8, 4, 10), (12, 2, 9), (14, 2, 8),
    (16, 2, 5), (19, 2, 7), (22, 2, 9), (24, 6, 8), (30, 2, 6)), 4), BELL,
    Fx(reverb_s=2.0, reverb_wet=0.3, echo_steps=3, echo_wet=0.3))

full_house = full_mix("full_house_Fm", ((house_groove, 1.0), (bass_deep, 0.8), (chords_house, 0.45)))
full_boombap = full_mix("full_boombap_Gm", ((boombap_drums, 1.0), (bass_boombap, 0.8), (keys_boombap, 0.5)))
full_trap = full_mix("full_trap_Cm", ((trap_drums, 1.0), (bass_808, 0.9), (bell_trap, 0.4)))
full_dnb = full_mix("full_dnb_Dm", ((dnb_break, 1.0), (bass_reese, 0.7), (pad_dnb, 0.4)))
full_reggaeton = full_mix("full_reggaeton_Am", ((reggaeton_dembow, 1.0), (bass_dembow, 0.8), (chords_reggaeton, 0.45)))
full_lofi = full_mix("full_lofi_F", ((lofi_drums, 1.0), (bass_lofi, 0.7), (keys_lofi, 0.6)))
full_funk = full_mix("full_funk_Em", ((funk_break, 1.0), (bass_funk, 0.8)))


@dataclass(frozen=True)
class Item:
    """One file of the library and its manifest labels."""

    file: str
    kind: Literal["loop", "one-shot"]
    style: str
    instruments: tuple[str, ...]
    pattern: str  # the same for a pattern at every tempo: ground truth for tempo-aware search
    render: Callable[[], Audio]  # finished float audio, shape (n,), before level and fades
    bpm: int | None = None
    bars: int | None = None
    key: str | None = None

    def manifest_entry(self) -> dict:
        return {"file": self.file, "bpm": self.bpm, "bars": self.bars, "style": self.style,
                "instruments": list(self.instruments), "kind": self.kind, "key": self.key,
                "pattern": self.pattern}


def loop(part: Part, bpm: int, name: str | None = None) -> Item:
    """``part`` at ``bpm``, named like a sample pack (``<pattern>_<bpm>bpm``) unless ``name`` is given."""
    return Item(f"{name or f'{part.name}_{bpm}bpm'}.flac", "loop", part.style, part.instruments, part.name,
                functools.partial(part.render, bpm), bpm, part.bars, part.key.name if part.key else None)


def one_shot(name: str, style: str, instrument: str, render: Callable[[], Audio], key: Key | None = None) -> Item:
    return Item(f"{name}.flac", "one-shot", style, (instrument,), name, render, key=key.name if key else None)


def stab(notes: Sequence[int], timbre: Timbre, label: str, seconds: float, reverb_wet: float = 0.0) -> Audio:
    """A one-shot chord or note: ``notes`` held one beat at 120 BPM in a 1 s room, cut to ``seconds``."""
    x = render_poly([Note(0, 4, m) for m in notes], timbre, label, 120, 1)
    return (x + reverb_wet * reverb(x, 1.0, f"{label}/reverb"))[: samples(seconds)]


LIBRARY: tuple[Item, ...] = (
    *(loop(house_groove, bpm) for bpm in (120, 124, 128)),
    *(loop(techno_drums, bpm) for bpm in (130, 135)),
    *(loop(boombap_drums, bpm) for bpm in (85, 90, 95)),
    loop(lofi_drums, 70), loop(lofi_drums, 75, "lofi_dusty_beat"),
    loop(dnb_break, 170, "jungle_break_roller"), loop(dnb_break, 175), loop(dnb_twostep, 174),
    *(loop(rock_beat, bpm) for bpm in (100, 110, 120)),
    *(loop(reggaeton_dembow, bpm) for bpm in (90, 95, 100)),
    *(loop(trap_drums, bpm) for bpm in (140, 150)),
    *(loop(funk_break, bpm) for bpm in (95, 105)),
    loop(bass_acid, 124), loop(bass_acid, 128), loop(bass_deep, 120), loop(bass_deep, 124),
    loop(bass_808, 140), loop(bass_808, 150), loop(bass_reese, 174), loop(bass_boombap, 90),
    loop(bass_funk, 105), loop(bass_dembow, 95), loop(bass_rock, 110), loop(bass_lofi, 75),
    loop(chords_house, 120), loop(chords_house, 124), loop(keys_lofi, 70), loop(keys_lofi, 75),
    loop(pad_ambient, 80, "pad_ambient_C"), loop(arp_trance, 138), loop(arp_synthwave, 100),
    loop(chords_reggaeton, 95), loop(pad_dnb, 174), loop(keys_boombap, 90), loop(bell_trap, 140),
    loop(full_house, 120), loop(full_house, 124), loop(full_boombap, 90), loop(full_trap, 140),
    loop(full_dnb, 174), loop(full_reggaeton, 95, "perreo_full_loop_Am"), loop(full_lofi, 75), loop(full_funk, 105),
    one_shot("kick_punchy", "house", "kick", lambda: kick(KickSpec(160, 50, 0.028, 0.2, 0.45, 1.8), "kick_punchy")),
    one_shot("kick_808_long", "trap", "kick",
             lambda: kick(KickSpec(95, 41, 0.05, 0.6, 0.3, 2.5, 1.6), "kick_808_long")),
    one_shot("snare_tight", "dnb", "snare", lambda: snare(DNB_KIT.snare, "snare_tight")),
    one_shot("clap_layered", "house", "clap", lambda: clap("clap_layered", 0.16, 0.6)),
    one_shot("hat_closed", "house", "hihat", lambda: metal("hat_closed", 0.03, 6000, 0.2)),
    one_shot("hat_open", "house", "hihat", lambda: metal("hat_open", 0.15, 6000, 0.7)),
    one_shot("crash_bright", "rock", "cymbal", lambda: metal("crash_bright", 0.55, 3000, 2.0, 0.9, 0.4)),
    one_shot("bass_stab_C", "house", "bass", lambda: stab([36], PLUCK_BASS, "bass_stab_C", 0.6), C_MAJOR),
    one_shot("chord_stab_Fm", "house", "chords", lambda: stab(
        voiced(F_MINOR.chord(0, 4), 53), STAB, "chord_stab_Fm", 0.8, 0.3), F_MINOR),
)


def to_pcm16(item: Item) -> npt.NDArray[np.int16]:
    """The exact samples written for ``item``: peak -1 dBFS, faded, 16-bit."""
    x = item.render()
    if not np.all(np.isfinite(x)):
        raise ValueError(f"{item.file}: synthesis produced non-finite samples")
    if item.kind == "loop":
        x = x - x.mean()  # saturation leaves a little DC; a loop's own mean is exactly its DC
    x = with_fades(x, LOOP_FADE_S, LOOP_FADE_S if item.kind == "loop" else ONE_SHOT_FADE_S)
    return np.round(peak_normalised(x, 10 ** (PEAK_DBFS / 20)) * 32767).astype(np.int16)


def build(out_dir: Path) -> None:
    """Write every file of ``LIBRARY``, ``manifest.json`` and ``LICENSE`` into ``out_dir``.

    Stale ``.flac`` files are removed first so the folder is exactly what the manifest lists.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    names = [item.file for item in LIBRARY]
    if len(set(names)) != len(names):
        raise ValueError("two library items share a file name")
    for stale in out_dir.glob("*.flac"):
        stale.unlink()
    for item in LIBRARY:
        sf.write(out_dir / item.file, to_pcm16(item), SR, format="FLAC", subtype="PCM_16")
        print(f"  {item.file}")
    manifest = [item.manifest_entry() for item in LIBRARY]
    (out_dir / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")
    (out_dir / "LICENSE").write_text(LICENSE_TEXT)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT_DIR, help=f"output folder (default {OUT_DIR})")
    build(parser.parse_args().out)


if __name__ == "__main__":
    main()
