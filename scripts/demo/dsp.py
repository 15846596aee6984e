"""The sample grid and the small DSP every demo sound is built from.

Everything random is seeded from a sound's name (``rng``), so adding or changing one sound never
changes another, and two runs write identical files.
"""

from __future__ import annotations

import functools
import zlib

import numpy as np
import numpy.typing as npt
from scipy import signal

Audio = npt.NDArray[np.float64]

SR = 22_050  # Hz: keeps the folder small and still covers the 8 kHz band MusiCNN listens to
NYQUIST = SR / 2
ONE_SHOT_FADE_S = 0.010
TAIL_S = 6.0  # rendered past a loop's end for releases, reverb and echoes, then folded back
STEPS_PER_BAR = 16  # the sequencer grid is 16th notes in 4/4


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
