"""Audio at another tempo: what the tempo-locked preview plays and what a stretched drag hands the DAW.

tau = T'/T, as everywhere: tau = 2 plays twice as fast, so the audio lasts half as long
(``librosa.effects.time_stretch`` reads its ``rate`` the same way). Pitch is kept.

Stretched copies are written into a cache folder (never beside the musician's samples), one folder
per sound, version of it and ratio, so that a copy is made once and keeps a name a DAW shows well
(``Break_124bpm @ 128 BPM.wav``).
"""

from __future__ import annotations

import math
import os
import tempfile
from pathlib import Path

import librosa
import numpy as np
import soundfile as sf
from platformdirs import user_cache_dir

from engine.audio.decode import AudioError, content_hash, load_mono, probe
from engine.config import APP_NAME, DESKTOP, DesktopConfig

SUBTYPE = "FLOAT"  # 32-bit float WAV: a stretch can overshoot full scale, float keeps it without clipping


class RenderError(AudioError):
    """A stretched copy could not be written (disk full, cache folder not writable)."""


def file_stamp(path: str | os.PathLike[str]) -> tuple[int, int]:
    """``(size in bytes, modification time in ns)``: what an edit in place changes, so what a decoded or
    stretched copy of the file is keyed by besides its name or content hash.

    Raises
    ------
    AudioError
        The file is gone or cannot be read.
    """
    try:
        st = os.stat(path)
    except OSError as e:
        raise AudioError(path, "the file is gone or cannot be read") from e
    return st.st_size, st.st_mtime_ns


def default_cache_dir() -> Path:
    """The per-user cache folder stretched copies are rendered into."""
    return Path(user_cache_dir(APP_NAME, appauthor=False)) / "stretched"


def stretched_audio(path: str | os.PathLike[str], tau: float,
                    cfg: DesktopConfig = DESKTOP) -> tuple[np.ndarray, int]:
    """The file as mono audio at ``tau`` times its tempo, at the file's own sample rate.

    Parameters
    ----------
    path : any audio file :func:`engine.audio.decode.load_mono` reads
    tau : tempo ratio T'/T (> 0); 1 returns the audio as it is

    Returns
    -------
    samples : np.ndarray, float32, shape (about n / tau,) for a file of n samples
    sample_rate : Hz, the file's own

    At tau = 1 a file longer than ``cfg.stretch_max_seconds`` is decoded as evenly spread excerpts
    adding up to that length (as :func:`engine.audio.decode.load_mono` does), enough to preview it.

    Raises
    ------
    AudioError
        The file cannot be read, or is to be stretched and longer than ``cfg.stretch_max_seconds``.
    ValueError
        ``tau`` is not a positive number.
    """
    if not (math.isfinite(tau) and tau > 0):
        raise ValueError(f"A tempo ratio must be a positive number (2 = twice as fast), not {tau}")
    info = probe(path)
    if tau != 1.0 and info.duration_s > cfg.stretch_max_seconds:
        raise AudioError(path, f"too long to stretch ({info.duration_s / 60:.0f} min; "
                               f"at most {cfg.stretch_max_seconds / 60:.0f} min)")
    samples = load_mono(path, sr=info.sample_rate, max_seconds=cfg.stretch_max_seconds).samples
    if tau != 1.0:
        samples = librosa.effects.time_stretch(samples, rate=tau)
    return np.ascontiguousarray(samples, dtype=np.float32), info.sample_rate


def load_stretched(copy: str | os.PathLike[str]) -> tuple[np.ndarray, int]:
    """A copy :func:`render_stretched` wrote, read back as it is, to play it without stretching again.

    Unlike :func:`stretched_audio` at tau = 1 it is never cut to excerpts: the source was capped at
    ``stretch_max_seconds`` before it was stretched, and a slower copy lasts longer.

    Returns
    -------
    samples : np.ndarray, float32, shape (n,)
    sample_rate : Hz

    Raises
    ------
    AudioError
        The copy is gone (the cache folder was cleared) or cannot be read.
    """
    try:
        samples, sample_rate = sf.read(copy, dtype="float32")
    except (OSError, sf.LibsndfileError) as e:
        raise AudioError(copy, "the stretched copy is gone or cannot be read") from e
    return samples, sample_rate


def stretched_name(path: str | os.PathLike[str], tau: float, label: str | None = None) -> str:
    """``"Break_124bpm @ 128 BPM.wav"`` for ``label="128 BPM"``; ``"pad @ x1.25.wav"`` without a label."""
    return f"{Path(path).stem} @ {label or f'x{tau:.2f}'}.wav"


def render_stretched(path: str | os.PathLike[str], tau: float, cache_dir: str | os.PathLike[str], *,
                     label: str | None = None, cfg: DesktopConfig = DESKTOP) -> Path:
    """A WAV file of ``path`` at ``tau`` times its tempo in ``cache_dir``, rendered once.

    The copy is keyed by the sound's content hash, its size and modification time (:func:`file_stamp`)
    and tau: a renamed or moved sample (same content, same stamp) reuses its copies, and an edited
    one gets new ones even where the edit lies outside the regions
    :func:`engine.audio.decode.content_hash` samples. It is written to a temporary file and moved into place, so a copy
    that exists is always complete, even after a crash or a full disk.

    Parameters
    ----------
    label : what the copy's file name says it is, e.g. its tempo ``"128 BPM"`` (``... @ 128 BPM.wav``);
        None: the ratio (``... @ x1.25.wav``)

    Returns
    -------
    The stretched copy: ``cache_dir / <hash>-<size>-<mtime_ns>-x<tau> / <name> @ <label>.wav``.

    Raises
    ------
    AudioError
        The file cannot be read (:class:`RenderError`: the copy cannot be written).
    ValueError
        ``tau`` is not a positive number.
    """
    size, mtime_ns = file_stamp(path)
    folder = Path(cache_dir) / f"{content_hash(path)}-{size}-{mtime_ns}-x{tau:.4f}"
    target = folder / stretched_name(path, tau, label)
    if target.is_file():
        return target
    samples, sample_rate = stretched_audio(path, tau, cfg)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=".rendering-", suffix=".wav")
    except OSError as e:
        raise RenderError(path, f"cannot write the stretched copy into {cache_dir} ({e.strerror})") from e
    try:
        with os.fdopen(fd, "wb") as handle:
            sf.write(handle, samples, sample_rate, subtype=SUBTYPE, format="WAV")
        os.replace(tmp, target)
    except (OSError, sf.LibsndfileError) as e:
        Path(tmp).unlink(missing_ok=True)
        raise RenderError(path, f"cannot write the stretched copy into {cache_dir} ({e})") from e
    return target
