"""The paper's self-supervised tempo signal: a log-mel spectrogram stretched in time.

McCallum et al. (2024) train the translation on spectrograms whose time axis is resampled by
cubic-spline interpolation: no audio round trip, and none of a phase vocoder's smearing. We measured
``librosa.effects.time_stretch`` moving MusiCNN's embedding as much as a 15 % tempo change does, so
a stretched spectrogram is the only self-supervised signal used here.

tau = T'/T: a stretch to tau = 2 (twice as fast) halves the number of frames.
"""

from __future__ import annotations

import numpy as np
from scipy.interpolate import CubicSpline

from engine.config import MEL
from engine.analysis.embedding import MusicnnEmbedder


def stretch_mel(log_mel: np.ndarray, tau: float) -> np.ndarray:
    """The log-mel spectrogram the same music would have at tempo ``tau * T``.

    Output frame ``i`` is the source's time axis read at frame position ``i * tau`` through a
    cubic spline (per mel band), so every event moves from frame ``t`` to ``t / tau``; pitch and
    spectral shape stay. Values are floored at 0, the smallest value ``log10(1 + 10000 mel)`` can
    take: a spline overshoots below it next to sharp onsets.

    Parameters
    ----------
    log_mel : np.ndarray, shape (T, n_mels)
        Log-mel frames as :func:`engine.analysis.mel.log_mel` returns them, T >= 2.
    tau : float
        Tempo ratio T'/T, positive (2 is twice as fast).

    Returns
    -------
    np.ndarray, float32, shape (max(1, round(T / tau)), n_mels)
    """
    frames = np.asarray(log_mel, dtype=np.float32)
    if frames.ndim != 2 or len(frames) < 2:
        raise ValueError(f"stretching needs a (frames >= 2, mel bands) spectrogram, got shape {frames.shape}")
    if not (np.isfinite(tau) and tau > 0):
        raise ValueError("a tempo ratio must be a positive number (2 is twice as fast)")
    n_out = max(1, round(len(frames) / tau))
    # The last output frame may read up to half a frame past the end: hold the edge, never extrapolate.
    positions = np.minimum(np.arange(n_out) * tau, len(frames) - 1)
    spline = CubicSpline(np.arange(len(frames)), frames, axis=0)
    return np.maximum(spline(positions), 0.0).astype(np.float32)


def stretched_example(log_mel: np.ndarray, tau: float, embedder: MusicnnEmbedder) -> np.ndarray:
    """Per-patch MusiCNN embeddings of ``log_mel`` stretched to tempo ratio ``tau``.

    A stretch shorter than one patch is looped in the mel domain until it fills one, as
    :func:`engine.analysis.embedding.loop_pad` loops short audio: a fast short loop still plays as a loop.

    Parameters
    ----------
    log_mel : np.ndarray, shape (T, 96)
    tau : float
        Tempo ratio T'/T; exactly 1 embeds ``log_mel`` as it is.
    embedder : MusicnnEmbedder
        Its patch settings (hop, cap on patches) bound the cost.

    Returns
    -------
    np.ndarray, float32, shape (n_patches, 753), n_patches >= 1
    """
    frames = np.asarray(log_mel, dtype=np.float32) if tau == 1.0 else stretch_mel(log_mel, tau)
    short = MEL.patch_frames - len(frames)
    if short > 0:
        frames = np.pad(frames, ((0, short), (0, 0)), mode="wrap")
    return embedder.embed_mel(frames)
