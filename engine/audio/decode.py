"""Reading a user's audio files: cheap header probes, bounded mono decoding and content fingerprints.

A sample library holds whatever a musician dragged into it over the years: empty exports, half-copied
files, text files with the wrong extension, forgotten 3-hour recordings. Nothing here lets a libsndfile
or operating-system error escape: every failure becomes an :class:`AudioError` whose ``reason`` is a
short phrase a musician understands, so one bad file never stops a scan.

Every entry point opens the file once, as a Python file object handed to libsndfile: the OS tells us
plainly whether the file vanished or is unreadable, and the size and modification time come from the
very handle that is decoded.
"""

from __future__ import annotations

import hashlib
import math
import os
import re
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import librosa
import numpy as np
import soundfile as sf

from engine.config import LIMITS, MEL, AudioLimits
from engine.errors import SbfError

AUDIO_EXTENSIONS = (".wav", ".wave", ".aif", ".aiff", ".flac", ".ogg", ".oga", ".mp3")

# Stored with every failure: a file that failed is tried again once this changes (our decoding, or the
# libsndfile underneath). Bump the first number when a change here may read a file that failed before.
DECODER_VERSION = f"2/libsndfile-{sf.__libsndfile_version__}"

# libsndfile's open error for content it does not recognise as any audio format (SF_ERR_UNRECOGNISED_FORMAT).
_SF_UNRECOGNISED_FORMAT = 1

# libsndfile logs "data : <declared bytes> (should be <bytes present>)" when a WAV/AIFF/RF64 header
# promises more audio than the file holds; it then silently plays only what is there.
_DECLARED_VS_PRESENT = re.compile(r"^\s*(?:data|SSND|Riff size)\s*:\s*(\d+)\s*\(should be (\d+)\)", re.MULTILINE)
# Writers that cannot seek back (pipes, crashed recorders) leave a placeholder size near 2 or 4 GiB: such
# files are complete, just never finalised, so only smaller declared sizes are taken at their word.
_PLACEHOLDER_SIZE = 0x7FFF_0000


class AudioError(SbfError):
    """A file that cannot be indexed, and why, in words a musician understands.

    ``str(err)`` reads ``"kick_03.wav: empty file (0 bytes)"``; ``reason`` alone (``"empty file
    (0 bytes)"``) is what the database stores and the GUI shows next to the file.

    Parameters
    ----------
    path : str or os.PathLike
        The offending file.
    reason : str
        Short phrase, no file name, no trailing full stop.
    """

    def __init__(self, path: str | os.PathLike[str], reason: str) -> None:
        self.path = Path(path)
        self.reason = reason
        super().__init__(f"{self.path.name}: {reason}")

    def __reduce__(self):
        # Exception pickles its message as the only argument; worker processes must hand back path and reason.
        return type(self), (self.path, self.reason)


class FileVanished(AudioError):
    """The file was deleted or moved after the scan listed it: drop it from the index, it is not broken."""

    def __init__(self, path: str | os.PathLike[str], reason: str = "file vanished during the scan") -> None:
        super().__init__(path, reason)


@dataclass(frozen=True)
class AudioInfo:
    """What a file's header says, read without decoding any audio.

    Attributes
    ----------
    path : Path
    size_bytes : int
    mtime_ns : int
        Modification time, nanoseconds since the epoch: with ``size_bytes``, tells an edited file.
    frames : int
        Sample frames per channel (for MP3, libsndfile's estimate from the header).
    duration_s : float
        Seconds.
    sample_rate : int
        Hz.
    channels : int
    format : str
        Container as libsndfile names it: ``"WAV"``, ``"AIFF"``, ``"FLAC"``, ``"OGG"``, ``"MP3"``, ...
    subtype : str
        Encoding: ``"PCM_16"``, ``"FLOAT"``, ``"VORBIS"``, ``"MPEG_LAYER_III"``, ...
    """

    path: Path
    size_bytes: int
    mtime_ns: int
    frames: int
    duration_s: float
    sample_rate: int
    channels: int
    format: str
    subtype: str


@dataclass(frozen=True, eq=False)
class DecodedAudio:
    """Mono audio ready for the mel front end.

    Attributes
    ----------
    samples : np.ndarray, float32, shape (n_samples,), read-only
        Mean of the channels, resampled to ``sample_rate``.
    sample_rate : int
        Hz.
    duration_s : float
        Seconds of the whole file, not of ``samples`` when ``excerpted``.
    excerpted : bool
        True when the file was longer than the decode budget and ``samples`` is evenly spread slices of
        it, concatenated.
    """

    samples: np.ndarray
    sample_rate: int
    duration_s: float
    excerpted: bool

    @property
    def is_silent(self) -> bool:
        """Pure digital silence (every sample exactly 0): nothing to hear, the caller decides what to do."""
        return not np.any(self.samples)


def is_audio_path(path: str | os.PathLike[str]) -> bool:
    """Whether the file name ends in one of :data:`AUDIO_EXTENSIONS` (any letter case)."""
    return Path(path).suffix.lower() in AUDIO_EXTENSIONS


def format_duration(seconds: float) -> str:
    """Duration as a musician reads it: ``"0.02 s"``, ``"12.5 s"``, ``"3 min 20 s"``, ``"3 h 12 min"``."""
    if seconds < 60:
        return f"{seconds:.3g} s"
    hours, rest = divmod(round(seconds), 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    return f"{minutes} min {secs} s" if secs else f"{minutes} min"


def probe(path: str | os.PathLike[str], *, limits: AudioLimits = LIMITS) -> AudioInfo:
    """Read a file's header, refusing anything the indexer cannot use.

    Parameters
    ----------
    path : str or os.PathLike
    limits : AudioLimits
        ``min_seconds`` and ``max_file_seconds`` bound the accepted duration.

    Returns
    -------
    AudioInfo

    Raises
    ------
    FileVanished
        The file no longer exists.
    AudioError
        Not an audio file name, a folder, unreadable, empty, not audio, damaged or truncated, no audio
        frames, too short or too long. Truncation is caught here for WAV and AIFF (their headers state the
        data size); a truncated FLAC or OGG is only caught when :func:`load_mono` decodes it.
    """
    with _open_audio(path, limits) as (_, info):
        return info


def load_mono(
    path: str | os.PathLike[str],
    sr: int = MEL.sample_rate,
    max_seconds: float = LIMITS.max_seconds_decoded,
    *,
    limits: AudioLimits = LIMITS,
) -> DecodedAudio:
    """Decode a file to mono at ``sr``, reading at most ``max_seconds`` of it.

    A file longer than ``max_seconds`` is not decoded whole: ``ceil(max_seconds /
    limits.excerpt_slice_seconds)`` slices adding up to ``max_seconds`` are read with seeks, each centred
    in its equal share of the file, so intros and fade-outs count no more than the body. The slices are
    butted together without a crossfade; the few analysis patches that straddle a join see a cut.

    Parameters
    ----------
    path : str or os.PathLike
    sr : int
        Output sample rate, Hz.
    max_seconds : float
        Decode budget, seconds of source audio.
    limits : AudioLimits
        Duration bounds as in :func:`probe`, slice length and read block size.

    Returns
    -------
    DecodedAudio
        ``samples`` has shape ``(round(decoded_frames * sr / file_rate),)``.

    Raises
    ------
    FileVanished
        The file no longer exists.
    AudioError
        Everything :func:`probe` refuses, plus audio that fails to decode (truncated or damaged) and NaN
        or infinite samples (a broken float file).
    """
    with _open_audio(path, limits) as (sound, info):
        budget_frames = int(max_seconds * info.sample_rate)
        excerpted = info.frames > budget_frames
        if excerpted:
            n_slices = math.ceil(max_seconds / limits.excerpt_slice_seconds)
            slice_frames = budget_frames // n_slices
            centres = (np.arange(n_slices) + 0.5) * info.frames / n_slices
            spans = [(int(start), slice_frames) for start in np.round(centres - slice_frames / 2)]
        else:
            spans = [(0, info.frames)]
        block_frames = max(1, limits.decode_block_samples // info.channels)
        parts: list[np.ndarray] = []
        try:
            for start, frames in spans:
                got = 0
                for block in _blocks_from(sound, start, frames, block_frames):
                    parts.append(block.mean(axis=1))
                    got += len(block)
                if _cut_short(frames - got, info):
                    raise AudioError(info.path, f"file is truncated: only {format_duration((start + got) / info.sample_rate)}"
                                                f" of its {format_duration(info.duration_s)} could be decoded")
        except sf.LibsndfileError as err:
            raise AudioError(info.path, "file is truncated or damaged") from err
    mono = np.concatenate(parts) if parts else np.zeros(0, dtype=np.float32)
    if mono.size == 0:
        raise AudioError(info.path, "file is truncated or damaged")
    if not np.isfinite(mono).all():
        raise AudioError(info.path, "contains invalid samples (NaN or infinity): the file is damaged")
    samples = librosa.resample(mono, orig_sr=info.sample_rate, target_sr=sr, res_type="soxr_hq")
    samples = np.ascontiguousarray(samples, dtype=np.float32)
    samples.flags.writeable = False
    # An MP3's frame count is estimated from its header; what decoded is the truth.
    duration_s = info.duration_s if excerpted else mono.size / info.sample_rate
    return DecodedAudio(samples=samples, sample_rate=sr, duration_s=duration_s, excerpted=excerpted)


def content_hash(path: str | os.PathLike[str], chunk_bytes: int = LIMITS.hash_chunk_bytes) -> str:
    """Fingerprint of a file's content, to recognise it after a rename or move without re-embedding it.

    BLAKE2b (128-bit) over the file size and three ``chunk_bytes`` regions: the start, the middle and
    the end (the whole file when it is no larger than three chunks). Reading 3 MiB at most keeps a
    3-hour WAV at milliseconds instead of seconds of disk reading.

    The trade-off: two files of the same size that differ only outside those regions share a
    fingerprint, e.g. two renders of a long arrangement that differ in one bar at 25 %. That is
    acceptable because the hash is only consulted to pair a file that appeared at a new path with one
    that disappeared from an old path in the same scan; an edit in place is caught by size and mtime.

    Parameters
    ----------
    path : str or os.PathLike
    chunk_bytes : int
        Bytes read at each of the three places.

    Returns
    -------
    str
        32 hexadecimal digits.

    Raises
    ------
    FileVanished, AudioError
        As :func:`probe` for files that cannot be opened or are empty.
    """
    with _open_checked(path) as (handle, size):
        digest = hashlib.blake2b(size.to_bytes(8, "little"), digest_size=16)
        if size <= 3 * chunk_bytes:
            digest.update(handle.read())
        else:
            for offset in (0, (size - chunk_bytes) // 2, size - chunk_bytes):
                handle.seek(offset)
                digest.update(handle.read(chunk_bytes))
    return digest.hexdigest()


def _blocks_from(sound: sf.SoundFile, start: int, frames: int, block_frames: int) -> Iterator[np.ndarray]:
    """The frames really decoded from frame ``start`` on, at most ``frames`` of them, in blocks of shape
    (at most block_frames, channels), float32; they stop where the decoder does.

    Not ``SoundFile.blocks``: it hands out whole blocks of the length the header announces, and the
    part libsndfile could not fill (a truncated MP3) is uninitialised memory, different on every run.
    ``SoundFile.read`` keeps only what was decoded.
    """
    sound.seek(start)
    while frames > 0:
        block = sound.read(min(block_frames, frames), dtype="float32", always_2d=True)
        if len(block) == 0:
            return
        yield block
        frames -= len(block)


def _cut_short(missing_frames: int, info: AudioInfo) -> bool:
    """Whether a read that stopped ``missing_frames`` before the header's count means a truncated file,
    not an MP3 header's estimate a little off (up to 2 % or 0.1 s: then what decoded is analysed)."""
    return missing_frames > max(0.02 * info.frames, 0.1 * info.sample_rate)


@contextmanager
def _open_checked(path: str | os.PathLike[str]) -> Iterator[tuple[BinaryIO, int]]:
    """Open a non-empty regular file with an audio file name; yield the handle and its size in bytes."""
    path = Path(path)
    if not is_audio_path(path):
        raise AudioError(path, f"not an audio file type ({path.suffix or 'no extension'})")
    try:
        # stat before open: opening a named pipe would block the scan forever.
        if not stat.S_ISREG(os.stat(path).st_mode):
            raise AudioError(path, "is a folder, not a file" if path.is_dir() else "not a regular file")
        handle = open(path, "rb")
    except FileNotFoundError as err:
        raise FileVanished(path) from err
    except PermissionError as err:
        raise AudioError(path, "permission denied: cannot read the file") from err
    except OSError as err:
        raise AudioError(path, f"cannot read the file ({err.strerror or err})") from err
    with handle:
        size = os.fstat(handle.fileno()).st_size
        if size == 0:
            raise AudioError(path, "empty file (0 bytes)")
        yield handle, size


@contextmanager
def _open_audio(path: str | os.PathLike[str], limits: AudioLimits) -> Iterator[tuple[sf.SoundFile, AudioInfo]]:
    """Open a file for decoding once its header has passed every check of :func:`probe`."""
    path = Path(path)
    with _open_checked(path) as (handle, _):
        try:
            sound = sf.SoundFile(handle)
        except sf.LibsndfileError as err:
            if err.code == _SF_UNRECOGNISED_FORMAT:
                raise AudioError(path, "not an audio file or an unsupported format") from err
            raise AudioError(path, "damaged header or unsupported encoding") from err
        with sound:
            st = os.fstat(handle.fileno())
            info = AudioInfo(
                path=path,
                size_bytes=st.st_size,
                mtime_ns=st.st_mtime_ns,
                frames=sound.frames,
                duration_s=sound.frames / sound.samplerate,
                sample_rate=sound.samplerate,
                channels=sound.channels,
                format=sound.format,
                subtype=sound.subtype,
            )
            _check_header(sound.extra_info, info, limits)
            yield sound, info


def _check_header(log: str, info: AudioInfo, limits: AudioLimits) -> None:
    """Refuse truncated, empty, too short or too long files, given libsndfile's header log ``log``."""
    if any(_PLACEHOLDER_SIZE > int(declared) > int(present) for declared, present in _DECLARED_VS_PRESENT.findall(log)):
        raise AudioError(info.path, "file is truncated or damaged")
    if info.frames == 0:
        raise AudioError(info.path, "contains no audio (0 samples)")
    if info.duration_s < limits.min_seconds:
        raise AudioError(
            info.path,
            f"too short ({format_duration(info.duration_s)}): less than the {format_duration(limits.min_seconds)} minimum",
        )
    if info.duration_s > limits.max_file_seconds:
        raise AudioError(
            info.path,
            f"{format_duration(info.duration_s)} long: longer than the {format_duration(limits.max_file_seconds)} limit",
        )
