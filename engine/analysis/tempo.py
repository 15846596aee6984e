"""A file's tempo in BPM, from every clue it holds: its name, its tags, its length and its sound.

Every tempo-aware feature starts from this number, so a wrong one (the classic x2, /2, x2/3 octave
errors) sends the tempo knob to the wrong place. Each clue is a *voice* that proposes candidate
tempi with a score; :func:`estimate_tempo` weighs them:

* What the file declares, its name ("Break_124bpm.wav") or its tags (WAV ``acid``, ID3 ``TBPM``,
  Vorbis ``BPM``), wins when the voices agree and the sound does not flatly contradict it: a
  person wrote it down.
* Otherwise the sound decides: onset periodicity from librosa's tempogram and from the stored
  tempo block. Every beat period also shows up at two, three and four beats and at its
  subdivisions, so each peak is checked against the metre it implies (periodic over two beats
  and a bar, subdivided in eighths), which rules out most x3/2 and x4/3 readings. Octaves (60,
  120, 240) look alike to the sound; two priors pick one: a loop lasts a whole number of bars,
  so ``duration * bpm / 240`` is near 1, 2, 4 or 8 for its true tempo, and musicians mostly play
  between 60 and 220 BPM.
* One-shots have no tempo: a file shorter than a beat or two, or without periodic onsets, gets
  ``bpm=None`` rather than an invented number.
"""

from __future__ import annotations

import math
import os
import re
import struct
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import librosa
import numpy as np
from scipy.signal import find_peaks

from engine.audio.decode import AudioInfo, DecodedAudio, load_mono, probe
from engine.config import TEMPO, TEMPO_BLOCK, TempoBlockConfig, TempoConfig
from engine.analysis.tempo_block import compute_tempo_block
from engine.errors import LibraryError

ONE_SHOT = "none (one-shot)"

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
class TempoEstimate:
    """The tempo of a file, how sure we are, and why.

    Attributes
    ----------
    bpm : float or None
        Beats per minute; None for one-shots, which have no tempo.
    confidence : float
        0..1. For ``bpm=None``: how sure we are that the file is a one-shot.
    source : str
        The voice that decided: ``"filename"``, ``"folder"``, ``"metadata"``, ``"signal"``,
        ``"signal+loop-length"`` or ``"none (one-shot)"``.
    candidates : tuple of TempoCandidate
        Every tempo weighed, best first, for the GUI to offer as alternatives.
    """

    bpm: float | None
    confidence: float
    source: str
    candidates: tuple[TempoCandidate, ...] = ()


class TempoCorrectionError(LibraryError, ValueError):
    """A BPM correction that cannot be made (locked, no tempo to multiply, out of range, not indexed)."""


CORRECTIONS = {"x2": 2.0, "/2": 0.5, "x3/2": 1.5, "x2/3": 2 / 3}  # the octave fixes a musician reaches for


@dataclass(frozen=True)
class TempoState:
    """A library file's tempo as the user sees it: the estimate, or their correction of it.

    Attributes
    ----------
    bpm : float or None
        What search and the tempo knob use: the user's BPM when set, else the estimate; None: no tempo.
    confidence : float or None
        The estimate's confidence (1.0 for the user's own value).
    source : str
        ``"user"`` for a correction, else the evidence that decided the estimate.
    locked : bool
        Corrections are refused until the file is unlocked (a guard against stray clicks).
    estimated_bpm : float or None
        What analysis says, shown beside a correction so it can be undone knowingly.
    """

    path: str
    bpm: float | None
    confidence: float | None
    source: str
    locked: bool
    estimated_bpm: float | None


def corrected_bpm(current: float | None, *, factor: float | None = None, bpm: float | None = None,
                  cfg: TempoConfig = TEMPO) -> float:
    """The BPM a correction asks for: ``current * factor`` (x2, /2, x3/2, x2/3) or a typed ``bpm``.

    Raises :class:`TempoCorrectionError` when there is nothing to multiply (a file with no tempo: type
    a value instead) or the result leaves the range a tempo is reported in.
    """
    if (factor is None) == (bpm is None):
        raise TempoCorrectionError("give either a factor (x2, /2, x3/2, x2/3) or a BPM value")
    if bpm is None:
        if current is None:
            raise TempoCorrectionError("this sound has no tempo to multiply; type a BPM instead")
        if not factor > 0:
            raise TempoCorrectionError(f"a tempo factor must be positive, not {factor}")
        bpm = current * factor
    if not cfg.bpm_min <= bpm <= cfg.bpm_max:
        raise TempoCorrectionError(f"{bpm:.1f} BPM is outside {cfg.bpm_min:.0f}-{cfg.bpm_max:.0f} BPM")
    return round(float(bpm), 2)


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


@dataclass(frozen=True, eq=False)
class SignalEvidence:
    """Onset periodicity of a file's sound on a fine log-BPM axis.

    Attributes
    ----------
    bpm : np.ndarray, shape (n,)
        The axis, BPM, in ``1 / cfg.axis_steps_per_octave`` octave steps. It reaches beyond the
        reported range by the metrical ratios (``cfg.metre``): a 40 BPM beat is checked at its
        10 BPM bar, a 300 BPM one at its 600 BPM eighths.
    strength : np.ndarray, shape (n,)
        Periodicity at each tempo, 0..1: onset autocorrelation at a lag of one beat.
    periodicity : float
        How periodic the file is at all, 0..1: the largest tempo-block value at lags the file
        holds at least twice (0-0.01 for one-shots, 0.05-0.1 for pads, 0.2-0.8 for drum loops).
    """

    bpm: np.ndarray
    strength: np.ndarray
    periodicity: float

    def at(self, bpm: float | np.ndarray, spread: float = 0.0) -> np.ndarray:
        """Strength at each ``bpm`` (any shape); with ``spread`` > 0 the largest within that relative distance."""
        bpm = np.asarray(bpm, dtype=np.float64)
        if spread <= 0:
            return np.interp(np.log(bpm), np.log(self.bpm), self.strength, left=0.0, right=0.0)
        near = np.abs(np.log(self.bpm) - np.log(bpm)[..., None]) <= math.log1p(spread)
        return np.where(near, self.strength, 0.0).max(axis=-1)

    def peaks(self, count: int, min_ratio: float, bpm_min: float, bpm_max: float) -> list[TempoCandidate]:
        """The ``count`` strongest local maxima between ``bpm_min`` and ``bpm_max``, at least
        ``min_ratio`` of the strongest there, best first (voice ``"signal"``)."""
        inside = np.where((self.bpm >= bpm_min) & (self.bpm <= bpm_max), self.strength, 0.0)
        top = float(inside.max()) if inside.size else 0.0
        if top <= 0:
            return []
        index, _ = find_peaks(np.pad(inside, 1), height=min_ratio * top)
        index = index - 1
        index = index[np.argsort(inside[index])[::-1][:count]]
        return [TempoCandidate(float(self.bpm[i]), float(inside[i]), "signal") for i in index]


@dataclass(frozen=True, eq=False)
class LearnedBelief:
    """What the tempo classifier (engine/models/tempo_classifier.py) reads off a file's track vector.

    It has heard how genres are played, so it knows a boom-bap loop is 90 and not 180 BPM where the
    onsets alone cannot tell; it is coarse (classes 4.4 % apart), so it weighs the signal's peaks
    rather than replacing them.

    Attributes
    ----------
    centres : np.ndarray, shape (C,)
        Class centres, BPM, evenly spaced in log BPM.
    probabilities : np.ndarray, shape (C,)
        Adds up to 1.
    confidence_curve : tuple of (raw, calibrated) pairs
        Maps the combination's raw confidence (the winner's share, scaled by periodicity) to how often
        an answer with that raw confidence was right, measured with this classifier voting
        (``scripts/train_tempo_classifier.py``); empty: reported raw.
    """

    centres: np.ndarray
    probabilities: np.ndarray
    confidence_curve: tuple[tuple[float, float], ...] = ()

    def at(self, bpm: float | np.ndarray, spread: float) -> np.ndarray:
        """Probability of the classes within ``spread`` (relative) of each ``bpm`` (any shape)."""
        near = np.abs(np.log(self.centres) - np.log(np.asarray(bpm, dtype=np.float64))[..., None]) <= math.log1p(spread)
        return np.where(near, self.probabilities, 0.0).sum(axis=-1)


# --------------------------------------------------------------------------- voices


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


def loop_length_fit(bpm: float | np.ndarray, loop_seconds: float, cfg: TempoConfig = TEMPO) -> np.ndarray:
    """How well ``loop_seconds`` holds a whole number of 4/4 bars at ``bpm``, 0..1.

    ``loop_seconds * bpm / 240`` bars should be one of ``cfg.loop_bars``; the fit is the weight of
    that bar count (``cfg.loop_bar_weights``: 2 and 4 bars are the most common cuts) times a
    Gaussian in the relative tempo error, ``cfg.loop_tolerance`` wide. Powers of two do not tell
    octaves apart (2 bars at 120 BPM last as long as 1 bar at 60), but they rule out the x3/2 and
    x2/3 errors, and the bar-count weights lean away from 1- and 8-bar readings.

    Parameters
    ----------
    bpm : float or np.ndarray, any shape
    loop_seconds : float
        Length of the loop, seconds.

    Returns
    -------
    np.ndarray, same shape as ``bpm``
    """
    bpm = np.asarray(bpm, dtype=np.float64)
    exact = np.asarray(cfg.loop_bars, dtype=np.float64) * 240.0 / loop_seconds  # BPM of each bar count
    error = np.log(bpm[..., None] / exact) / math.log1p(cfg.loop_tolerance)
    return (np.asarray(cfg.loop_bar_weights) * np.exp(-0.5 * error**2)).max(axis=-1)


def loop_length_tempi(loop_seconds: float, cfg: TempoConfig = TEMPO) -> tuple[TempoCandidate, ...]:
    """The tempi at which ``loop_seconds`` is exactly ``cfg.loop_bars`` bars of 4/4, within the range.

    Returns
    -------
    tuple of TempoCandidate
        Voice ``"loop-length"``, scored by the bar count's weight.
    """
    return tuple(
        TempoCandidate(bars * 240.0 / loop_seconds, weight, "loop-length")
        for bars, weight in zip(cfg.loop_bars, cfg.loop_bar_weights)
        if cfg.bpm_min <= bars * 240.0 / loop_seconds <= cfg.bpm_max
    )


def tempo_prior(bpm: float | np.ndarray, cfg: TempoConfig = TEMPO) -> np.ndarray:
    """Log-normal prior on tempo, 1 at ``cfg.prior_bpm``, ``cfg.prior_octaves`` wide (an octave's std)."""
    octaves = np.log2(np.asarray(bpm, dtype=np.float64) / cfg.prior_bpm)
    return np.exp(-0.5 * (octaves / cfg.prior_octaves) ** 2)


def signal_evidence(
    samples: np.ndarray,
    sr: int,
    tempo_block: np.ndarray | None = None,
    cfg: TempoConfig = TEMPO,
    block_cfg: TempoBlockConfig = TEMPO_BLOCK,
) -> SignalEvidence:
    """Onset periodicity of the sound at every tempo of the fine axis.

    Two views of the same onsets, averaged (``cfg.block_weight``): librosa's autocorrelation
    tempogram (``cfg.tempogram_seconds`` windows, averaged over the file: robust to drifting
    tempo in long recordings) and the tempo block (one circular autocorrelation of the whole
    file: exact for loops). The block is passed in when the library has it stored.

    Parameters
    ----------
    samples : np.ndarray, shape (n_samples,)
        Mono audio at ``sr`` Hz.
    sr : int
        Hz.
    tempo_block : np.ndarray, shape (block_cfg.n_bins,), optional
        The file's stored tempo block; computed here when None.

    Returns
    -------
    SignalEvidence
    """
    axis = _bpm_axis(cfg)
    samples = np.asarray(samples, dtype=np.float32)
    block = compute_tempo_block(samples, sr, block_cfg) if tempo_block is None else np.asarray(tempo_block)
    if samples.size < block_cfg.min_seconds * sr or not np.any(block):
        return SignalEvidence(axis, np.zeros_like(axis), 0.0)
    grid = np.log(block_cfg.bpm_grid())
    block_curve = np.interp(np.log(axis), grid, block, left=np.nan, right=np.nan)
    hop = max(1, round(block_cfg.onset_hop_seconds * sr))
    envelope = librosa.onset.onset_strength(y=samples, sr=sr, hop_length=hop)
    window = min(envelope.size, round(cfg.tempogram_seconds * sr / hop))
    # Lags beyond the window are unknown: zero, as the tempo range of a short file is limited anyway.
    acf = np.interp(60.0 / axis * sr / hop, np.arange(window), _mean_tempogram(envelope, window, cfg), right=0.0)
    # Beyond the block's grid the tempogram speaks alone.
    mixed = np.where(np.isnan(block_curve), acf, (1.0 - cfg.block_weight) * acf + cfg.block_weight * block_curve)
    strength = np.clip(mixed, 0.0, 1.0)
    # A one-shot's only "period" is the file itself (the block is circular): count lags held twice.
    held_twice = np.exp(grid) >= 120.0 / (samples.size / sr)
    periodicity = float(block[held_twice].max()) if held_twice.any() else 0.0
    return SignalEvidence(axis, strength, periodicity)


# --------------------------------------------------------------------------- combination


def estimate_tempo(
    duration_s: float,
    signal: SignalEvidence,
    *,
    declared: Sequence[TempoCandidate] = (),
    loop_seconds: float | None = None,
    one_shot_tag: bool = False,
    learned: LearnedBelief | None = None,
    cfg: TempoConfig = TEMPO,
) -> TempoEstimate:
    """Weigh every voice and settle on one tempo, or on none for a one-shot.

    1. One-shot: an ACID one-shot flag, a file shorter than ``cfg.min_seconds``, or one without
       periodic onsets (``signal.periodicity < cfg.min_periodicity``) and nothing declared.
    2. Declared tempi (name, tags): the strongest wins when no declared tempo as strong disagrees
       with it, unless the sound is clearly periodic and shows nothing at that tempo, half or
       double it, nor fits the loop length there. When equally strong ones disagree, the sound
       picks among them as in 3. Files under ``cfg.short_seconds`` must last whole bars at the
       declared tempo.
    3. Otherwise each signal peak is weighed by :func:`_weigh`: its metrical support (the peak,
       confirmed at two beats, a bar and eighth notes), the tempo prior, and, as far as the file
       looks like a loop, how well it fits a whole number of bars. The prior settles what the
       sound cannot: 60 against 120 against 240. Files under ``cfg.short_seconds`` must fit
       whole bars to count as loops.

    Parameters
    ----------
    duration_s : float
        Seconds of the whole file.
    signal : SignalEvidence
    declared : sequence of TempoCandidate
        From :func:`tempo_from_name` and :func:`read_tempo_tags`.
    loop_seconds : float, optional
        The sampler loop's length when tags give one; the file's duration otherwise.
    one_shot_tag : bool
        The metadata says one-shot.
    learned : LearnedBelief, optional
        The tempo classifier's reading of the track vector: one more factor in 3.

    Returns
    -------
    TempoEstimate
    """
    if one_shot_tag or duration_s < cfg.min_seconds:
        return TempoEstimate(None, 0.95, ONE_SHOT)
    loop_seconds = loop_seconds or duration_s
    declared = sorted(declared, key=lambda c: -c.score)
    if declared and not _contradicted(declared[0].bpm, signal, loop_seconds, cfg):
        best = declared[0]
        rivals = [c for c in declared if c.score >= best.score and not _same_tempo(c.bpm, best.bpm, cfg)]
        if rivals:  # the name says "90" and "120": the sound picks one of them
            return _weigh([best, *rivals], signal, loop_seconds, cfg, learned)
        if duration_s < cfg.short_seconds and loop_length_fit(best.bpm, loop_seconds, cfg) < 0.25:
            return TempoEstimate(None, 0.6, ONE_SHOT)  # a hit from a pack named after its tempo, not a bar of it
        agreeing = sorted({c.voice for c in declared if _same_tempo(c.bpm, best.bpm, cfg)})
        confidence = best.score * (0.8 + 0.2 * min(1.0, _octave_support(best.bpm, signal, cfg)))
        return TempoEstimate(best.bpm, round(confidence, 3), "+".join(agreeing),
                             (TempoCandidate(best.bpm, 1.0, best.voice),))
    if signal.periodicity < cfg.min_periodicity:
        return TempoEstimate(None, round(1.0 - signal.periodicity / cfg.min_periodicity, 3), ONE_SHOT)
    estimate = _weigh(signal.peaks(cfg.signal_peaks, cfg.min_peak_ratio, cfg.bpm_min, cfg.bpm_max), signal,
                      loop_seconds, cfg, learned)
    if duration_s < cfg.short_seconds and estimate.source != "signal+loop-length":
        return TempoEstimate(None, 0.6, ONE_SHOT, estimate.candidates)  # a bar or less, and not a loop
    return estimate


def _mean_tempogram(envelope: np.ndarray, window: int, cfg: TempoConfig) -> np.ndarray:
    """``librosa.feature.tempogram(...).mean(axis=1)``, evaluated every ``cfg.tempogram_step`` frames.

    The tempogram autocorrelates a window around EVERY onset frame (8 ms apart) only for us to
    average them; windows 64 ms apart give the same mean within 2e-4 at a fifteenth of the cost,
    which is half the tempo estimate's time during a scan.
    """
    n = envelope.size
    padded = np.pad(envelope, window // 2, mode="linear_ramp", end_values=0)  # centred, as librosa
    frames = librosa.util.frame(padded, frame_length=window, hop_length=cfg.tempogram_step)[:, : -(-n // cfg.tempogram_step)]
    frames = frames * librosa.filters.get_window("hann", window, fftbins=True)[:, None]
    return librosa.util.normalize(librosa.autocorrelate(frames, axis=0), norm=np.inf, axis=0).mean(axis=1)


def estimate_file_tempo(path: str | os.PathLike[str], cfg: TempoConfig = TEMPO) -> TempoEstimate:
    """The tempo of one audio file from its name, tags, length and sound, without the tempo classifier.

    A scan adds the classifier's vote, which needs the file's embedding
    (:func:`engine.analysis.pipeline.analyse_file`); this is the cheaper reading of the same evidence without it.

    Raises
    ------
    engine.audio.decode.AudioError
        The file cannot be read (see :func:`engine.audio.decode.load_mono`).
    """
    return estimate_decoded_tempo(path, probe(path), load_mono(path), cfg=cfg)


def estimate_decoded_tempo(path: str | os.PathLike[str], info: AudioInfo, decoded: DecodedAudio,
                           tempo_block: np.ndarray | None = None, cfg: TempoConfig = TEMPO,
                           learned: LearnedBelief | None = None) -> TempoEstimate:
    """:func:`estimate_file_tempo` for audio already decoded (a scan decodes each file once), with the
    tempo classifier's belief when the caller has the track vector."""
    tags = read_tempo_tags(path, info, cfg)
    signal = signal_evidence(decoded.samples, decoded.sample_rate, tempo_block, cfg)
    return estimate_tempo(decoded.duration_s, signal, declared=(*tempo_from_name(path, cfg), *tags.candidates),
                          loop_seconds=tags.loop_seconds, one_shot_tag=tags.one_shot, learned=learned, cfg=cfg)


def _weigh(hypotheses: Sequence[TempoCandidate], signal: SignalEvidence, loop_seconds: float,
           cfg: TempoConfig, learned: LearnedBelief | None = None) -> TempoEstimate:
    """Pick among candidate tempi T by ``metre(T) ** exponent * prior(T) * (1 + boost * fit(T) * loopness)``,
    times ``(floor + learned(T)) ** learned_exponent`` when the classifier's belief is given.

    ``metre(T)`` sums the strength at T times each ratio of ``cfg.metre``: a real beat is also
    periodic over two beats and a bar, and usually subdivided in eighths, where the x3/2 or x4/3
    echo of a swung or syncopated rhythm is not. ``loopness`` (0..1, ``cfg.loop_likeness``) says
    how well the strongest peaks fit whole bars, so a long track whose weak peak happens to fit 8
    bars is not pulled there. A peak within ``cfg.loop_snap`` of a whole number of bars of a
    loop-like file is read at that bar count's exact tempo: the length is known to the sample, a
    peak to about 1 %. Confidence: the winner's share of the total weight, scaled down for weakly
    periodic sound.
    """
    if not hypotheses:
        return TempoEstimate(None, 0.5, ONE_SHOT)
    bpm = np.array([h.bpm for h in hypotheses])
    ratios, weights = np.array(cfg.metre).T
    metre = signal.at(bpm[:, None] * ratios, cfg.metre_spread) @ weights
    fit = loop_length_fit(bpm, loop_seconds, cfg)
    strength = signal.at(bpm, cfg.metre_spread)
    likeness = float((fit * strength).max() / strength.max()) if strength.max() > 0 else 0.0
    start, full = cfg.loop_likeness
    loopness = float(np.clip((likeness - start) / (full - start), 0.0, 1.0))
    weight = metre**cfg.signal_exponent * tempo_prior(bpm, cfg) * (1.0 + cfg.loop_boost * fit * loopness)
    if learned is not None:
        weight = weight * (cfg.learned_floor + learned.at(bpm, cfg.learned_spread)) ** cfg.learned_exponent
    total = float(weight.sum())
    if total <= 0:
        return TempoEstimate(None, 0.5, ONE_SHOT)
    exact = np.array([t.bpm for t in loop_length_tempi(loop_seconds, cfg)] or [np.inf])
    nearest = exact[np.argmin(np.abs(np.log(bpm[:, None] / exact)), axis=1)]
    snapped = (np.abs(np.log(bpm / nearest)) <= math.log1p(cfg.loop_snap)) & (loopness > 0)
    bpm = np.where(snapped, nearest, bpm)
    voices = [h.voice if h.voice != "signal" else "signal+loop-length" if snap else "signal"
              for h, snap in zip(hypotheses, snapped)]
    order = np.argsort(weight)[::-1]
    share = weight / total
    best = int(order[0])
    trust = min(1.0, signal.periodicity / cfg.full_periodicity)
    confidence = float(share[best]) * trust
    if learned is not None and learned.confidence_curve:
        raw, right = zip(*learned.confidence_curve)
        confidence = float(np.interp(confidence, raw, right))
    candidates = tuple(TempoCandidate(round(float(bpm[i]), 2), round(float(share[i]), 3), voices[i]) for i in order)
    return TempoEstimate(round(float(bpm[best]), 2), round(confidence, 3), voices[best], candidates)


def _octave_support(bpm: float, signal: SignalEvidence, cfg: TempoConfig) -> float:
    """Signal strength at ``bpm``, half or double it, as a share of the strongest peak in range."""
    inside = (signal.bpm >= cfg.bpm_min) & (signal.bpm <= cfg.bpm_max)
    peak = float(signal.strength[inside].max()) if inside.any() else 0.0
    near = float(signal.at(bpm * np.array([0.5, 1.0, 2.0]), cfg.tolerance).max())
    return near / peak if peak > 0 else 0.0


def _contradicted(bpm: float, signal: SignalEvidence, loop_seconds: float, cfg: TempoConfig) -> bool:
    """Clearly periodic sound with nothing at the declared tempo's octaves, and no loop-length fit."""
    return (signal.periodicity >= cfg.full_periodicity and _octave_support(bpm, signal, cfg) < cfg.min_declared_support
            and float(loop_length_fit(bpm, loop_seconds, cfg)) < 0.5)


def _same_tempo(a: float, b: float, cfg: TempoConfig) -> bool:
    return abs(math.log(a / b)) <= math.log1p(cfg.tolerance)


def _bpm_axis(cfg: TempoConfig) -> np.ndarray:
    """Fine log-BPM axis covering the reported range times every metrical ratio, shape (n,), BPM."""
    ratios = [ratio for ratio, _ in cfg.metre]
    low, high = cfg.bpm_min * min(ratios), cfg.bpm_max * max(ratios)
    steps = np.arange(int(math.log2(high / low) * cfg.axis_steps_per_octave) + 1) / cfg.axis_steps_per_octave
    return low * 2.0**steps


# --------------------------------------------------------------------------- names


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


# --------------------------------------------------------------------------- tags


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
