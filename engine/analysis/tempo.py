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
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import librosa
import numpy as np
from scipy.signal import find_peaks

from engine.audio.decode import AudioInfo, DecodedAudio, load_mono, probe
from engine.config import TEMPO, TEMPO_BLOCK, TempoBlockConfig, TempoConfig
from engine.analysis.tempo_block import compute_tempo_block
from engine.analysis.tempo_tags import TempoCandidate, read_tempo_tags, tempo_from_name
from engine.models.tempo_classifier import LearnedBelief

ONE_SHOT = "none (one-shot)"


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


class SignalEvidence:
    """Onset periodicity of a file's sound on a fine log-BPM axis.

    Attributes
    ----------
    bpm : np.ndarray, shape (n,)
        The axis, BPM, in ``1 / cfg.axis_steps_per_octave`` octave steps. It reaches beyond the
        reported range by the metrical ratios (``cfg.metre``): a 40 BPM beat is checked at its
        10 BPM bar, a 300 BPM one at its 600 BPM eighths.
    strength : np.ndarray, shape (n,)
        Periodicity at each tempo, 0..1: onset autocorrelation at a lag of one beat. It may be
        given as a function that computes it, called once, on first use: the periodicity alone
        settles a one-shot (:func:`estimate_tempo`), which then never pays for the tempogram.
    periodicity : float
        How periodic the file is at all, 0..1: the largest tempo-block value at lags the file
        holds at least twice (0-0.01 for one-shots, 0.05-0.1 for pads, 0.2-0.8 for drum loops).
    """

    __slots__ = ("bpm", "_strength", "periodicity")

    def __init__(self, bpm: np.ndarray, strength: np.ndarray | Callable[[], np.ndarray], periodicity: float):
        self.bpm = bpm
        self._strength = strength
        self.periodicity = periodicity

    @property
    def strength(self) -> np.ndarray:
        if callable(self._strength):
            self._strength = self._strength()
        return self._strength

    @property
    def computed(self) -> bool:
        """Whether the strength was needed (and computed) so far."""
        return not callable(self._strength)

    def __reduce__(self):  # pickled with its strength computed: a closure does not travel between processes
        return (SignalEvidence, (self.bpm, self.strength, self.periodicity))

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


# --------------------------------------------------------------------------- voices


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
    # A one-shot's only "period" is the file itself (the block is circular): count lags held twice.
    held_twice = np.exp(grid) >= 120.0 / (samples.size / sr)
    periodicity = float(block[held_twice].max()) if held_twice.any() else 0.0

    def strength() -> np.ndarray:  # the tempogram: most of the estimate's cost, so only when asked for
        block_curve = np.interp(np.log(axis), grid, block, left=np.nan, right=np.nan)
        hop = max(1, round(block_cfg.onset_hop_seconds * sr))
        envelope = librosa.onset.onset_strength(y=samples, sr=sr, hop_length=hop)
        window = min(envelope.size, round(cfg.tempogram_seconds * sr / hop))
        # Lags beyond the window are unknown: zero, as the tempo range of a short file is limited anyway.
        acf = np.interp(60.0 / axis * sr / hop, np.arange(window), _mean_tempogram(envelope, window, cfg), right=0.0)
        # Beyond the block's grid the tempogram speaks alone.
        mixed = np.where(np.isnan(block_curve), acf, (1.0 - cfg.block_weight) * acf + cfg.block_weight * block_curve)
        return np.clip(mixed, 0.0, 1.0)

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
