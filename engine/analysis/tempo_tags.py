"""Tempi a file declares: numbers in its name or its folder's, and tags in its header.

A person wrote these down, so they usually win over what the sound suggests (``engine/analysis/tempo.py``
weighs them); the work here is refusing the numbers that are not tempi: "Vol 2", "44100", "TR-808",
"Take 101", "100 Hz". Tags are read straight from the file's chunks (WAV ``acid``/``smpl``, AIFF, ID3
``TBPM``, FLAC and Vorbis comments) without decoding any audio, so a scan pays nothing for them.
"""

from __future__ import annotations

import os
import re
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from engine.audio.decode import AudioInfo
from engine.config import TEMPO, TempoConfig

# "124bpm", "124 BPM", "124-bpm", "BPM124", "bpm: 124", "Tempo = 92.5"
_NUMBER = r"(\d{2,3}(?:[.,]\d{1,2})?)"
_EXPLICIT = re.compile(rf"(?<![\d.,]){_NUMBER}\s*[-_ ]?\s*bpm|(?:bpm|tempo)\s*[-_ :=]?\s*{_NUMBER}(?![\d])", re.I)
# A number standing alone between separators: "Break_124_Am", "124 - Funky", "Loop (92.5)".
_SEP = r"\s_\-()\[\]{}.,+&"
_BARE = re.compile(rf"(?:^|(?<=[{_SEP}])){_NUMBER}(?=$|[{_SEP}])")
# Numbers that name gear or count things, not tempi: "TR-808 Kick", "Vol 120", "Take 101".
_GEAR = {"101", "202", "303", "505", "606", "707", "727", "808", "909"}
_COUNTING_WORD = re.compile(r"(?<![a-z])(?:vol|volume|pt|part|no|nr|take|track|tk|ch|disc|cd|v|x|#)[\s_\-.]*$", re.I)
_UNIT_WORD = re.compile(r"^[\s_\-]*(?:hz|khz|k|ms|s|sec|db|bit|bits|st|cents?|%)(?![a-z])", re.I)
_TEMPO_CHUNKS = {b"acid", b"smpl", b"bext", b"LIST", b"id3 ", b"ID3 ", b"basc", b"ANNO"}  # WAV and AIFF
_MAX_TAG_BYTES = 4 << 20  # a tag block larger than this is cover art, not a tempo
_OGG_HEADER_BYTES = 1 << 16  # Vorbis/Opus comment headers sit in the first pages


@dataclass(frozen=True)
class TempoCandidate:
    """One tempo a voice proposes.

    Attributes
    ----------
    bpm : float
        Beats (quarter notes) per minute.
    score : float
        How strongly the voice believes it, 0..1. For the candidates of a :class:`TempoEstimate`:
        its share of the combined weight (they add up to 1).
    voice : str
        Where it comes from: ``"filename"``, ``"folder"``, ``"metadata"``, ``"loop-length"``,
        ``"signal"``, or ``"signal+loop-length"`` for a signal peak read at a whole number of bars.
    """

    bpm: float
    score: float
    voice: str


@dataclass(frozen=True)
class FileTags:
    """What a file's metadata says about its tempo.

    Attributes
    ----------
    candidates : tuple of TempoCandidate
        Tempi written in tags (voice ``"metadata"``).
    loop_seconds : float or None
        Length of the sampler loop (WAV ``smpl`` chunk), seconds: the part that repeats, when the
        file holds more (a lead-in, a tail).
    one_shot : bool
        The ACID chunk marks the file as a one-shot.
    """

    candidates: tuple[TempoCandidate, ...] = ()
    loop_seconds: float | None = None
    one_shot: bool = False


def tempo_from_name(path: str | os.PathLike[str], cfg: TempoConfig = TEMPO) -> tuple[TempoCandidate, ...]:
    """Tempi written in a file's name, and in its folder's name when that says "BPM".

    ``"Break_124bpm.wav"``, ``"124 BPM Groove.wav"`` and ``"BPM124_Kit.wav"`` are explicit (score
    ``cfg.explicit_name_score``); a number standing alone, ``"Break_124_Am.wav"`` or
    ``"124-Funk.wav"``, is a likely tempo (``cfg.bare_name_score``, shared when there are several).
    Refused: anything outside ``cfg.bpm_min..bpm_max`` (``"Vol 2"``, ``"44100"``, ``"2019"``),
    numbers glued to letters (``"A4"``, ``"Kick808"``), drum-machine names (``"808"``, ``"909"``),
    counters (``"Vol 120"``, ``"Take 101"``), leading zeros (``"Kick_045"``) and units
    (``"100 Hz"``). A folder counts only when explicit: ``"Loops/124 BPM/"`` (``cfg.folder_name_score``).

    Returns
    -------
    tuple of TempoCandidate
        Best first; empty when the name holds no tempo.
    """
    path = Path(path)
    explicit = _explicit_tempi(path.stem, cfg)
    if explicit:
        return tuple(TempoCandidate(bpm, cfg.explicit_name_score, "filename") for bpm in explicit)
    bare = _bare_tempi(path.stem, cfg)
    folder = _explicit_tempi(path.parent.name, cfg)
    return (
        *(TempoCandidate(bpm, cfg.bare_name_score / len(bare), "filename") for bpm in bare),
        *(TempoCandidate(bpm, cfg.folder_name_score, "folder") for bpm in folder),
    )


def read_tempo_tags(path: str | os.PathLike[str], info: AudioInfo, cfg: TempoConfig = TEMPO) -> FileTags:
    """Tempo written in a file's metadata, read straight from its header bytes.

    * WAV: ``acid`` chunk (tempo, beat count, one-shot flag), ``smpl`` chunk (first loop's length),
      an ``id3 `` chunk, and "124 BPM" in the ``bext`` description or ``LIST/INFO`` texts.
    * AIFF: ``basc`` chunk (Apple Loops beat count), ``ID3 `` chunk, "124 BPM" in ``ANNO``.
    * FLAC, Ogg Vorbis/Opus: ``BPM`` / ``TEMPO`` comments, "124 BPM" in ``COMMENT``.
    * MP3: ID3v2 ``TBPM``.

    Damaged or odd metadata is ignored, never raised: it is no reason to refuse the audio.

    Parameters
    ----------
    path : str or os.PathLike
    info : AudioInfo
        From :func:`engine.audio.decode.probe`: beat counts need the duration, loop points the sample rate.
    cfg : TempoConfig

    Returns
    -------
    FileTags
    """
    try:
        with open(path, "rb") as handle:
            return _tags_from(handle, info, cfg)
    except (OSError, struct.error, ValueError, UnicodeDecodeError):
        return FileTags()


def _in_range(text: str, cfg: TempoConfig) -> float | None:
    bpm = float(text.replace(",", "."))
    return bpm if cfg.bpm_min <= bpm <= cfg.bpm_max else None


def _explicit_tempi(text: str, cfg: TempoConfig) -> list[float]:
    found = (_in_range(a or b, cfg) for a, b in _EXPLICIT.findall(text))
    return _unique([bpm for bpm in found if bpm is not None])


def _bare_tempi(stem: str, cfg: TempoConfig) -> list[float]:
    found = []
    for match in _BARE.finditer(stem):
        number = match.group(1)
        if number.startswith("0") or number in _GEAR:
            continue
        if _COUNTING_WORD.search(stem[: match.start()]) or _UNIT_WORD.match(stem[match.end():]):
            continue
        bpm = _in_range(number, cfg)
        if bpm is not None:
            found.append(bpm)
    return _unique(found)


def _unique(values: list[float]) -> list[float]:
    return list(dict.fromkeys(values))


def _tags_from(handle: BinaryIO, info: AudioInfo, cfg: TempoConfig) -> FileTags:
    head = handle.read(12)
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return _riff_tags(handle, "<", info, cfg)
    if head[:4] == b"FORM" and head[8:12] in (b"AIFF", b"AIFC"):
        return _riff_tags(handle, ">", info, cfg)
    if head[:4] == b"fLaC":
        return FileTags(_tagged(_flac_comment_tempi(handle, cfg), cfg))
    if head[:4] == b"OggS":
        data = head + handle.read(_OGG_HEADER_BYTES)
        start = max(data.find(b"\x03vorbis") + 7 if b"\x03vorbis" in data else -1,
                    data.find(b"OpusTags") + 8 if b"OpusTags" in data else -1)
        return FileTags(_tagged(_vorbis_comment_tempi(data, start, cfg) if start > 0 else [], cfg))
    if head[:3] == b"ID3":
        size = _syncsafe(head[6:10])
        if size > _MAX_TAG_BYTES:
            return FileTags()
        return FileTags(_tagged(_id3_tempi(head + handle.read(size - 2), cfg), cfg))
    return FileTags()


def _riff_tags(handle: BinaryIO, order: str, info: AudioInfo, cfg: TempoConfig) -> FileTags:
    """WAV (little-endian RIFF) and AIFF (big-endian IFF) chunks."""
    tempi: list[float] = []
    loop_seconds, one_shot = None, False
    for chunk_id, body in _chunks(handle, order, _TEMPO_CHUNKS):
        if chunk_id == b"acid" and len(body) >= 24:
            flags, _, _, _, beats, _, _, tempo = struct.unpack("<IHHfIHHf", body[:24])
            one_shot = bool(flags & 0x01)
            if not one_shot:
                tempi.extend(_beats_or_tempo(tempo, beats, info.duration_s, cfg))
        elif chunk_id == b"smpl" and len(body) >= 36 + 24 and struct.unpack_from("<I", body, 28)[0] > 0:
            start, end = struct.unpack_from("<II", body, 36 + 8)  # first loop: cue id, type, start, end (inclusive)
            if end > start:
                loop_seconds = (end - start + 1) / info.sample_rate
        elif chunk_id == b"basc" and len(body) >= 8:
            beats = struct.unpack(">I", body[4:8])[0]
            tempi.extend(_beats_or_tempo(0.0, beats, info.duration_s, cfg))
        elif chunk_id in (b"id3 ", b"ID3 "):
            tempi.extend(_id3_tempi(body, cfg))
        elif chunk_id == b"bext":
            tempi.extend(_explicit_tempi(_text(body[:256]), cfg))
        elif chunk_id == b"LIST" and body[:4] == b"INFO":
            tempi.extend(bpm for _, text in _chunks_in(body[4:], "<") for bpm in _explicit_tempi(_text(text), cfg))
        elif chunk_id == b"ANNO":
            tempi.extend(_explicit_tempi(_text(body), cfg))
    return FileTags(_tagged(tempi, cfg), loop_seconds, one_shot)


def _beats_or_tempo(tempo: float, beats: int, duration_s: float, cfg: TempoConfig) -> list[float]:
    """A stored tempo, else the tempo a stored beat count implies over the file's duration."""
    if cfg.bpm_min <= tempo <= cfg.bpm_max:
        return [round(float(tempo), 3)]
    from_beats = beats * 60.0 / duration_s if beats > 0 and duration_s > 0 else 0.0
    return [from_beats] if cfg.bpm_min <= from_beats <= cfg.bpm_max else []


def _chunks(handle: BinaryIO, order: str, wanted: set[bytes]) -> Iterator[tuple[bytes, bytes]]:
    """(id, body) of the ``wanted`` chunks after a 12-byte RIFF/FORM header; others are skipped by seeking."""
    while len(header := handle.read(8)) == 8:
        chunk_id, size = header[:4], struct.unpack(order + "I", header[4:])[0]
        padded = size + (size & 1)  # chunks start on even offsets in RIFF and IFF alike
        if chunk_id in wanted and size <= _MAX_TAG_BYTES:
            yield chunk_id, handle.read(size)
            handle.seek(padded - size, os.SEEK_CUR)
        else:
            handle.seek(padded, os.SEEK_CUR)


def _chunks_in(data: bytes, order: str) -> Iterator[tuple[bytes, bytes]]:
    """Sub-chunks of a chunk body held in memory (``LIST/INFO``)."""
    pos = 0
    while pos + 8 <= len(data):
        chunk_id, size = data[pos : pos + 4], struct.unpack_from(order + "I", data, pos + 4)[0]
        yield chunk_id, data[pos + 8 : pos + 8 + size]
        pos += 8 + size + (size & 1)


def _id3_tempi(data: bytes, cfg: TempoConfig) -> list[float]:
    """``TBPM`` (ID3v2.3/2.4) or ``TBP`` (v2.2) of an ID3v2 tag that starts ``data``."""
    if data[:3] != b"ID3" or len(data) < 10:
        return []
    major, flags, end = data[3], data[5], min(len(data), 10 + _syncsafe(data[6:10]))
    pos = 10
    if flags & 0x40 and major >= 3:  # extended header: skip it
        pos += (_syncsafe(data[10:14]) if major == 4 else 4 + int.from_bytes(data[10:14], "big"))
    id_len, header_len = (3, 6) if major == 2 else (4, 10)
    while pos + header_len <= end and data[pos] != 0:  # zero bytes: padding
        frame_id = data[pos : pos + id_len]
        size_bytes = data[pos + id_len : pos + id_len + (3 if major == 2 else 4)]
        size = _syncsafe(size_bytes) if major == 4 else int.from_bytes(size_bytes, "big")
        if frame_id in (b"TBPM", b"TBP"):
            body = data[pos + header_len : pos + header_len + size]
            return _tempo_value(_id3_text(body), cfg)
        pos += header_len + size
    return []


def _id3_text(body: bytes) -> str:
    """An ID3 text frame: an encoding byte, then Latin-1, UTF-16 with BOM, UTF-16BE or UTF-8."""
    encoding = ("latin-1", "utf-16", "utf-16-be", "utf-8")[body[0]] if body and body[0] < 4 else "latin-1"
    return body[1:].decode(encoding, errors="replace").strip("\x00 ")


def _flac_comment_tempi(handle: BinaryIO, cfg: TempoConfig) -> list[float]:
    """Walk FLAC metadata blocks to the VORBIS_COMMENT one (type 4)."""
    handle.seek(4)
    while len(header := handle.read(4)) == 4:
        last, kind, size = header[0] & 0x80, header[0] & 0x7F, int.from_bytes(header[1:], "big")
        if kind == 4:
            return _vorbis_comment_tempi(handle.read(min(size, _MAX_TAG_BYTES)), 0, cfg)
        if last:
            break
        handle.seek(size, os.SEEK_CUR)
    return []


def _vorbis_comment_tempi(data: bytes, pos: int, cfg: TempoConfig) -> list[float]:
    """``BPM=`` / ``TEMPO=`` values and "124 BPM" in comments of a Vorbis comment block at ``pos``."""
    vendor = struct.unpack_from("<I", data, pos)[0]
    pos += 4 + vendor
    count = struct.unpack_from("<I", data, pos)[0]
    pos += 4
    tempi: list[float] = []
    for _ in range(min(count, 1000)):
        size = struct.unpack_from("<I", data, pos)[0]
        key, _, value = data[pos + 4 : pos + 4 + size].decode("utf-8", errors="replace").partition("=")
        pos += 4 + size
        if key.upper() in ("BPM", "TBPM", "TEMPO"):
            tempi.extend(_tempo_value(value, cfg))
        elif key.upper() in ("COMMENT", "DESCRIPTION"):
            tempi.extend(_explicit_tempi(value, cfg))
    return tempi


def _tempo_value(text: str, cfg: TempoConfig) -> list[float]:
    """A tag value meant as a tempo: "124", "124.00", "93,5"; "0" (unknown) and nonsense are dropped."""
    match = re.search(r"\d+(?:[.,]\d+)?", text)
    bpm = float(match.group().replace(",", ".")) if match else 0.0
    return [bpm] if cfg.bpm_min <= bpm <= cfg.bpm_max else []


def _tagged(tempi: list[float], cfg: TempoConfig) -> tuple[TempoCandidate, ...]:
    return tuple(TempoCandidate(bpm, cfg.tag_score, "metadata") for bpm in _unique(tempi))


def _text(raw: bytes) -> str:
    return raw.split(b"\x00", 1)[0].decode("latin-1")


def _syncsafe(raw: bytes) -> int:
    """ID3's 28-bit sizes: seven bits per byte, most significant first."""
    value = 0
    for byte in raw:
        value = (value << 7) | (byte & 0x7F)
    return value
