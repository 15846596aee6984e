"""The tempo block: onset-envelope autocorrelation sampled on a log-BPM grid.

MusiCNN embeddings carry tempo poorly, so each track vector gets this second part. On a log-BPM grid
a tempo change by tau (T' = tau * T) moves every periodicity by the same ``bins_per_octave *
log2(tau)`` steps, so translating a query to another tempo is an exact shift
(:func:`engine.models.translation.shift_tempo_block`), with nothing learned.

The block keeps every periodicity of the file: an autocorrelation also peaks at 2, 3, 4 beats (half,
third, quarter tempo) and at sub-beat lags (hi-hats on eighths give twice the tempo). All of these
move together under a tempo change, so we do not pick a single tempo here.
"""

from __future__ import annotations

from functools import lru_cache

import librosa
import numpy as np

from engine.config import MEL, TEMPO_BLOCK, TempoBlockConfig


def compute_tempo_block(audio: np.ndarray, sr: int, cfg: TempoBlockConfig = TEMPO_BLOCK) -> np.ndarray:
    """Periodicity of a file's onsets at every tempo of the log-BPM grid.

    Spectral flux on a mel spectrogram (``librosa.onset.onset_strength``) gives an onset envelope
    for the whole file: slow tempi need many beats, so no 3 s patches here. Its circular
    autocorrelation, divided by the lag-0 value, is sampled at lag ``60 / bpm`` seconds for every
    grid tempo and negatives are clipped.

    Circular, because sample-library files are mostly loops: a 2 s loop then gives the same block
    as a 30 s render of the same groove (cosine 0.995 against 0.973 with a linear autocorrelation,
    whose weight ``(N - lag) / N`` also shrinks long lags of short files). On long files the wrap
    touches at most 2 s of 30 s and changed nothing we could measure.

    Each grid value is the triangle-weighted mean of the autocorrelation over one grid step either
    side (``cfg.subdivisions`` linearly interpolated samples per step). Point samples at
    ``60 / bpm`` miss a click track's peak, two frames wide, whenever its tempo falls between two
    grid tempi (120 and 150 BPM blocks reached cosine 0.55 after the exact shift, against 0.88
    pooled). Pooling weights a narrow peak by its width in log-BPM, which grows with the tempo:
    a tempo change scales the whole block by tau, so shapes and cosines still shift exactly.

    No L2 or max normalisation: every value is already a correlation coefficient in [0, 1], the
    same for any gain or length, and its size says how periodic the file is (block L2 norm: drum
    loops 0.5-0.9, white noise 0.05, a swelling pad 0.1). Rescaling to unit norm would hand a
    beatless file a block as loud as a drum loop's, made of noise.

    Parameters
    ----------
    audio : np.ndarray, shape (n_samples,)
        Mono audio at ``sr`` Hz, the whole file.
    sr : int
        Sample rate in Hz. Any rate: the onset hop and window are set in seconds.
    cfg : TempoBlockConfig
        Grid and onset settings.

    Returns
    -------
    np.ndarray, float32, shape (cfg.n_bins,)
        Value ``i`` is the periodicity at ``cfg.bpm_grid()[i]`` BPM. All zeros when there is no
        tempo evidence: files shorter than ``cfg.min_seconds``, silence, steady tones, one onset.
    """
    audio = np.asarray(audio, dtype=np.float32)
    if audio.ndim != 1:
        raise ValueError(f"the tempo block needs mono audio, got an array of shape {audio.shape}")
    if audio.size < cfg.min_seconds * sr:
        return np.zeros(cfg.n_bins, dtype=np.float32)
    hop = max(1, round(cfg.onset_hop_seconds * sr))
    envelope = _loop_onset_envelope(audio, sr, hop)
    if envelope.std() < cfg.min_onset_db:
        return np.zeros(cfg.n_bins, dtype=np.float32)
    centred = envelope - envelope.mean()
    spectrum = np.fft.rfft(centred)
    acf = np.fft.irfft(spectrum.real**2 + spectrum.imag**2, n=centred.size)
    acf /= acf[0]
    frame_rate = sr / hop
    lags = _fine_lags_seconds(cfg) * frame_rate
    # period: lags beyond one loop length wrap, as the loop repeats
    fine = np.interp(lags, np.arange(acf.size), acf, period=acf.size)
    pooled = np.convolve(fine, _triangle(cfg.subdivisions), mode="valid")[:: cfg.subdivisions]
    return np.clip(pooled, 0.0, None).astype(np.float32)


def _loop_onset_envelope(audio: np.ndarray, sr: int, hop: int) -> np.ndarray:
    """Spectral-flux onset envelope of the file played as a loop, one period long, in dB per frame.

    The audio is wrap-padded so the join from its end back to its start is analysed like any
    other moment of the loop, and the first beat gets its onset.
    """
    # mel resolution as MusiCNN's front end: a 32 ms window, 96 bands
    n_fft = max(16, round(MEL.n_fft / MEL.sample_rate * sr))
    pad = hop * -(-2 * n_fft // hop)  # whole frames, beyond the window and librosa's centring shift
    looped = np.pad(audio, pad, mode="wrap")
    envelope = librosa.onset.onset_strength(y=looped, sr=sr, hop_length=hop, n_fft=n_fft, n_mels=MEL.n_mels)
    period = round(audio.size / hop)
    start = pad // hop
    return envelope[start : start + period].astype(np.float64)


@lru_cache(maxsize=4)
def _fine_lags_seconds(cfg: TempoBlockConfig) -> np.ndarray:
    """Lags (s) of the grid tempi with ``cfg.subdivisions`` steps between, one grid step beyond
    each end so the pooling window of the edge bins is full. Shape (subdivisions * (n_bins + 1) + 1,)."""
    k = cfg.subdivisions
    steps = np.arange(-k, cfg.n_bins * k + 1) / k
    return 60.0 / (cfg.bpm_min * 2.0 ** (steps / cfg.bins_per_octave))


@lru_cache(maxsize=4)
def _triangle(subdivisions: int) -> np.ndarray:
    """Weights of a linear-interpolation footprint, one grid step either side, summing to 1."""
    weights = 1.0 - np.abs(np.arange(-subdivisions, subdivisions + 1)) / subdivisions
    return weights / weights.sum()
