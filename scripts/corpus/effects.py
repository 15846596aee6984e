"""A seeded mixing chain (EQ, bus compression, stereo reverb, Haas width folded to mono).

It makes MIDI renders sound more produced while the tempo ratios stay exact: every version of a
piece goes through the same chain, drawn from the piece's id, so versions still differ in tempo
only.
"""

from __future__ import annotations

import math

import numpy as np
import scipy.signal

from scripts.corpus.output import SAMPLE_RATE, stable_hash


def log_uniform(rng: np.random.Generator, low: float, high: float) -> float:
    """Frequencies and times are drawn evenly on a log scale, as they are perceived."""
    return float(math.exp(rng.uniform(math.log(low), math.log(high))))


def effect_chain(piece_id: str, reference_rms_db: float) -> dict:
    """The piece's effect parameters, seeded by its id: every version of a piece gets the same chain.

    The compressor threshold is set relative to the level of the piece's reference version (all
    versions of a piece share one level in the corpus), so that every piece is compressed, loud
    or quiet; it is then a fixed dBFS value for all versions.
    """
    rng = np.random.default_rng(stable_hash("mix:" + piece_id))
    ratio = rng.uniform(3.0, 6.0)
    threshold = reference_rms_db + rng.uniform(-10.0, -2.0)
    return {
        "chain": f"mix{stable_hash('mix:' + piece_id) % 10_000:04d}",
        "low_shelf": {"hz": round(log_uniform(rng, 80, 250), 1), "db": round(rng.uniform(-4, 6), 2)},
        "peak": {"hz": round(log_uniform(rng, 300, 3000), 1), "db": round(rng.uniform(-6, 6), 2),
                 "q": round(rng.uniform(0.5, 2.0), 2)},
        "high_shelf": {"hz": round(log_uniform(rng, 2500, 6000), 1), "db": round(rng.uniform(-6, 4), 2)},
        "compressor": {"threshold_dbfs": round(threshold, 2), "ratio": round(ratio, 2),
                       "attack_ms": round(log_uniform(rng, 3, 30), 2),
                       "release_ms": round(log_uniform(rng, 50, 300), 1),
                       "makeup_db": round((1 - 1 / ratio) * (reference_rms_db - threshold), 2)},
        "reverb": {"rt60_s": round(rng.uniform(0.3, 1.5), 3), "wet": round(rng.uniform(0.10, 0.30), 3),
                   "predelay_ms": round(rng.uniform(5, 25), 1), "damping_hz": round(log_uniform(rng, 3000, 7000), 1),
                   "seed": int(rng.integers(2**31))},
        "width": {"haas_ms": round(rng.uniform(5, 25), 2), "haas_gain": round(rng.uniform(0.5, 1.0), 3)},
    }


def shelf_or_peak(kind: str, hz: float, db: float, q: float = 0.707) -> np.ndarray:
    """One RBJ-cookbook biquad (low shelf, peaking or high shelf) as a second-order section."""
    a_gain = 10 ** (db / 40)
    w0 = 2 * math.pi * hz / SAMPLE_RATE
    cos, alpha = math.cos(w0), math.sin(w0) / (2 * q)
    if kind == "peak":
        b = [1 + alpha * a_gain, -2 * cos, 1 - alpha * a_gain]
        a = [1 + alpha / a_gain, -2 * cos, 1 - alpha / a_gain]
    else:
        sign = 1 if kind == "low" else -1
        root = 2 * math.sqrt(a_gain) * alpha
        b = [a_gain * ((a_gain + 1) - sign * (a_gain - 1) * cos + root),
             sign * 2 * a_gain * ((a_gain - 1) - sign * (a_gain + 1) * cos),
             a_gain * ((a_gain + 1) - sign * (a_gain - 1) * cos - root)]
        a = [(a_gain + 1) + sign * (a_gain - 1) * cos + root,
             -sign * 2 * ((a_gain - 1) + sign * (a_gain + 1) * cos),
             (a_gain + 1) + sign * (a_gain - 1) * cos - root]
    return np.concatenate([np.array(b) / a[0], np.array(a) / a[0]])


def equalise(signal: np.ndarray, chain: dict) -> np.ndarray:
    """Low shelf, peaking band and high shelf in series."""
    sos = np.stack([shelf_or_peak("low", **chain["low_shelf"]), shelf_or_peak("peak", **chain["peak"]),
                    shelf_or_peak("high", **chain["high_shelf"])])
    return scipy.signal.sosfilt(sos, signal)


def compress(signal: np.ndarray, threshold_dbfs: float, ratio: float, attack_ms: float, release_ms: float,
             makeup_db: float) -> np.ndarray:
    """A feed-forward RMS bus compressor.

    The mean square is followed per 1 ms block (16 samples; a Python loop per sample would take
    seconds per file) by a one-pole smoother that rises with the attack and falls with the release
    time constant; the gain computed from it is interpolated back to every sample.
    """
    block = SAMPLE_RATE // 1000
    n_blocks = len(signal) // block + 1
    padded = np.pad(signal, (0, n_blocks * block - len(signal)))
    power = (padded.reshape(n_blocks, block) ** 2).mean(axis=1)
    attack, release = math.exp(-1 / attack_ms), math.exp(-1 / release_ms)  # per 1 ms block
    envelope = np.empty(n_blocks)
    level = power[0]
    for i, p in enumerate(power):
        coefficient = attack if p > level else release
        level = coefficient * level + (1 - coefficient) * p
        envelope[i] = level
    level_db = 10 * np.log10(envelope + 1e-12)
    gain_db = makeup_db - np.maximum(level_db - threshold_dbfs, 0.0) * (1 - 1 / ratio)
    centres = (np.arange(n_blocks) + 0.5) * block
    return signal * 10 ** (np.interp(np.arange(len(signal)), centres, gain_db) / 20)


def reverb_ir(rt60_s: float, predelay_ms: float, damping_hz: float, seed: int) -> np.ndarray:
    """A synthetic stereo room: two independent (decorrelated) noises, low-passed, decaying 60 dB in rt60_s."""
    rng = np.random.default_rng(seed)
    n = int(rt60_s * SAMPLE_RATE)
    t = np.arange(n) / SAMPLE_RATE
    noise = rng.standard_normal((2, n)) * np.exp(-6.9078 * t / rt60_s)  # ln(1000): -60 dB at rt60
    noise = scipy.signal.sosfilt(scipy.signal.butter(2, damping_hz, fs=SAMPLE_RATE, output="sos"), noise, axis=1)
    ir = np.concatenate([np.zeros((2, int(predelay_ms * SAMPLE_RATE / 1000))), noise], axis=1)
    return ir / np.sqrt((ir ** 2).sum(axis=1, keepdims=True))


def reverberate(signal: np.ndarray, ir: np.ndarray, wet: float) -> np.ndarray:
    """Stereo (2, n): dry plus the convolved tail, cut at the file's end (linear convolution, no wrap)."""
    tails = np.stack([scipy.signal.fftconvolve(signal, channel)[:len(signal)] for channel in ir])
    return (1 - wet) * signal + wet * tails


def widen_to_mono(stereo: np.ndarray, haas_ms: float, haas_gain: float) -> np.ndarray:
    """Haas widening of the right channel, mid/side, then the mono fold the analysis applies.

    The right channel is mixed with a copy delayed by ``haas_ms``; mid = (L + R) / 2 and
    side = (L - R) / 2. A width (side gain) control is left out on purpose: folding to mono keeps
    only mid, so what a widened mix leaves in mono is the comb filter of the Haas delay.
    """
    delay = int(haas_ms * SAMPLE_RATE / 1000)
    left, right = stereo
    haas = np.concatenate([np.zeros(delay), right[:len(right) - delay]])
    right = (right + haas_gain * haas) / (1 + haas_gain)
    return (left + right) / 2


def apply_chain(signal: np.ndarray, chain: dict, ir: np.ndarray) -> np.ndarray:
    """EQ -> bus compression -> stereo reverb -> width, folded to mono (before the shared gain)."""
    compressed = compress(equalise(signal, chain), **chain["compressor"])
    return widen_to_mono(reverberate(compressed, ir, chain["reverb"]["wet"]), **chain["width"])


def rms_db(signal: np.ndarray) -> float:
    """Level in dBFS."""
    return float(10 * np.log10(np.mean(signal ** 2) + 1e-12))
