"""The paper's tempo classifier: a file's BPM read straight off its track vector.

McCallum et al. (2024) show the translation f(z, tau) is also a source of labelled training data:
one file at a known tempo, translated to tau, is an example of the same music at ``tau * bpm``. A
small MLP maps a track vector (:class:`engine.models.track_space.TrackSpace`) to a probability over
tempo classes spaced evenly in log BPM; the answer is the best class refined by its neighbours.
``scripts/train_tempo_classifier.py`` trains it and measures what the augmentation is worth.

A classifier is tied to the track space it was trained in, and refuses to load against another.

This module is inference only and needs no torch: the network runs on ONNX Runtime or torch
(``engine/models/runtime.py`` decides). The torch network is :mod:`engine.models.torch_tempo_classifier`,
its training :mod:`engine.training.tempo_classifier`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from engine.errors import ModelError
from engine.models.identity import TEMPO_CLASSIFIER
from engine.models.runtime import TempoNet, tempo_network
from engine.models.tied_weights import load_tied, save_tied
from engine.models.track_space import TrackSpace

DEFAULT_PATH = TEMPO_CLASSIFIER.weights


class TempoClassifierMismatch(ModelError, ValueError):
    """The classifier was trained for another embedding or track space."""


@dataclass(frozen=True)
class TempoClassifierConfig:
    """Tempo classes and network size.

    Classes are ``bpm_min * 2 ** (i / bins_per_octave)`` up to ``bpm_max``: 16 per octave are 4.4 %
    apart, about the Accuracy1 tolerance, and line up with the tempo block's grid.
    """

    bpm_min: float = 30.0  # BPM
    bpm_max: float = 300.0
    bins_per_octave: int = 16
    hidden: int = 256  # 0: a linear classifier
    dropout: float = 0.2
    label_sigma: float = 0.5  # classes: a label is a Gaussian this wide around its exact log-BPM position
    refine_radius: int = 2  # classes each side of the best one averaged into the answer

    @property
    def n_classes(self) -> int:
        return int(np.floor(self.bins_per_octave * np.log2(self.bpm_max / self.bpm_min) + 1e-9)) + 1

    def centres(self) -> np.ndarray:
        """(C,) class centres, BPM."""
        return self.bpm_min * np.exp2(np.arange(self.n_classes) / self.bins_per_octave)

    def position(self, bpm: np.ndarray) -> np.ndarray:
        """Fractional class index of each BPM (any shape)."""
        return self.bins_per_octave * np.log2(np.asarray(bpm, dtype=np.float64) / self.bpm_min)


@dataclass(frozen=True, eq=False)
class LearnedBelief:
    """What the tempo classifier reads off a file's track vector, as a voice for
    :func:`engine.analysis.tempo.estimate_tempo`.

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


class TempoClassifier:
    """Track vector -> tempo classes, for the vectors of one :class:`TrackSpace`."""

    def __init__(self, space: TrackSpace, net: TempoNet, cfg: TempoClassifierConfig, about: dict | None = None):
        self.space, self.net, self.cfg = space, net, cfg
        self.about = about or {}

    @classmethod
    def untrained(cls, space: TrackSpace, cfg: TempoClassifierConfig = TempoClassifierConfig()) -> TempoClassifier:
        """A classifier to train: a torch network with random weights."""
        from engine.models.torch_tempo_classifier import TorchTempoNet, network  # training needs torch

        return cls(space, TorchTempoNet(network(space.dimension, cfg.n_classes, cfg.hidden, cfg.dropout)), cfg)

    def probabilities(self, vectors: np.ndarray) -> np.ndarray:
        """(B, D) track vectors -> (B, C) class probabilities (rows add up to 1)."""
        return self.net.predict(vectors)

    def __call__(self, vectors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Tempo of track vectors.

        Parameters
        ----------
        vectors : (D,) or (B, D) float32 track vectors

        Returns
        -------
        bpm : float or (B,) BPM: the best class, moved towards its neighbours by their probabilities
            (a probability-weighted mean of log BPM over ``cfg.refine_radius`` classes each side)
        probabilities : (C,) or (B, C) over :meth:`TempoClassifierConfig.centres`
        """
        v = np.asarray(vectors, dtype=np.float32)
        single = v.ndim == 1
        p = self.probabilities(v[None, :] if single else v)
        r = self.cfg.refine_radius
        best = p.argmax(axis=1)
        window = np.clip(best[:, None] + np.arange(-r, r + 1), 0, p.shape[1] - 1)
        weights = np.take_along_axis(p, window, axis=1)
        # clipped indices repeat the edge class: count it once
        weights = np.where(np.diff(window, axis=1, prepend=-1) == 0, 0.0, weights)
        log_centres = np.log(self.cfg.centres())
        bpm = np.exp((weights * log_centres[window]).sum(axis=1) / weights.sum(axis=1))
        return (float(bpm[0]), p[0]) if single else (bpm, p)

    def belief(self, vector: np.ndarray) -> LearnedBelief:
        """Its reading of one track vector (D,), as a voice for :func:`engine.analysis.tempo.estimate_tempo`."""
        curve = tuple((float(raw), float(right)) for raw, right in self.about.get("confidence_curve", ()))
        return LearnedBelief(self.cfg.centres(), self.probabilities(np.asarray(vector, np.float32)[None, :])[0], curve)

    def save(self, path: Path = DEFAULT_PATH, about: dict | None = None) -> None:
        save_tied(path, self.net.state_dict(), self.space, {**vars(self.cfg), **(about or self.about)})

    @classmethod
    def load(cls, space: TrackSpace, path: Path = DEFAULT_PATH) -> TempoClassifier:
        state, meta = load_tied(path, space, TempoClassifierMismatch, TEMPO_CLASSIFIER.made_by)
        fields = TempoClassifierConfig.__dataclass_fields__
        cfg = TempoClassifierConfig(**{k: meta[k] for k in fields})
        net = tempo_network(space.dimension, cfg.n_classes, cfg.hidden, state)
        return cls(space, net, cfg, {k: v for k, v in meta.items() if k not in fields})


@lru_cache(maxsize=1)
def shipped_classifier() -> TempoClassifier:
    """The classifier that ships in resources/, for the shipped track space (loaded once)."""
    return TempoClassifier.load(TrackSpace.load())


def classify_tempo(vector: np.ndarray) -> tuple[float, np.ndarray]:
    """BPM of one track vector (D,) with the shipped classifier, and its (C,) class probabilities."""
    return shipped_classifier()(vector)
