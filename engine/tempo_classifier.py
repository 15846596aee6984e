"""The paper's tempo classifier: a file's BPM read straight off its track vector.

McCallum et al. (2024) show the translation f(z, tau) is also a source of labelled training data:
one file at a known tempo, translated to tau, is an example of the same music at ``tau * bpm``. A
small MLP maps a track vector (:class:`engine.embed.track_vector.TrackSpace`) to a probability over
tempo classes spaced evenly in log BPM; the answer is the best class refined by its neighbours.
``scripts/train_tempo_classifier.py`` trains it and measures what the augmentation is worth.

A classifier is tied to the track space it was trained in, and refuses to load against another.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch
from torch import nn

from engine.embed.tied_weights import load_tied, save_tied
from engine.embed.track_vector import TrackSpace

DEFAULT_PATH = Path(__file__).resolve().parent.parent / "resources" / "tempo_classifier.safetensors"


class TempoClassifierMismatch(ValueError):
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


def _network(dim: int, cfg: TempoClassifierConfig) -> nn.Module:
    if cfg.hidden == 0:
        return nn.Linear(dim, cfg.n_classes)
    return nn.Sequential(nn.Dropout(cfg.dropout), nn.Linear(dim, cfg.hidden), nn.GELU(), nn.Dropout(cfg.dropout),
                         nn.Linear(cfg.hidden, cfg.n_classes))


class TempoClassifier:
    """Track vector -> tempo classes, for the vectors of one :class:`TrackSpace`."""

    def __init__(self, space: TrackSpace, net: nn.Module, cfg: TempoClassifierConfig, about: dict | None = None):
        self.space, self.net, self.cfg = space, net.eval(), cfg
        self.about = about or {}

    @classmethod
    def untrained(cls, space: TrackSpace, cfg: TempoClassifierConfig = TempoClassifierConfig()) -> TempoClassifier:
        return cls(space, _network(space.dimension, cfg), cfg)

    def probabilities(self, vectors: np.ndarray) -> np.ndarray:
        """(B, D) track vectors -> (B, C) class probabilities (rows add up to 1)."""
        v = torch.from_numpy(np.ascontiguousarray(vectors, dtype=np.float32))
        with torch.inference_mode():
            return torch.softmax(self.net(v), dim=-1).numpy()

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

    def save(self, path: Path = DEFAULT_PATH, about: dict | None = None) -> None:
        save_tied(path, self.net.state_dict(), self.space, {**vars(self.cfg), **(about or self.about)})

    @classmethod
    def load(cls, space: TrackSpace, path: Path = DEFAULT_PATH) -> TempoClassifier:
        state, meta = load_tied(path, space, TempoClassifierMismatch, "scripts/train_tempo_classifier.py")
        fields = TempoClassifierConfig.__dataclass_fields__
        cfg = TempoClassifierConfig(**{k: meta[k] for k in fields})
        net = _network(space.dimension, cfg)
        net.load_state_dict(state, strict=True)
        return cls(space, net, cfg, {k: v for k, v in meta.items() if k not in fields})


def soft_labels(bpm: np.ndarray, cfg: TempoClassifierConfig) -> np.ndarray:
    """(N,) BPM -> (N, C) targets: a Gaussian of ``cfg.label_sigma`` classes around each exact position.

    Soft targets teach the neighbouring classes how far off the centre a tempo lies, which is what
    the refinement in :meth:`TempoClassifier.__call__` reads back.
    """
    offset = np.arange(cfg.n_classes)[None, :] - cfg.position(bpm)[:, None]
    target = np.exp(-0.5 * (offset / cfg.label_sigma) ** 2)
    return (target / target.sum(axis=1, keepdims=True)).astype(np.float32)


def fit(space: TrackSpace, examples: Callable[[int, np.random.Generator], tuple[np.ndarray, np.ndarray]],
        cfg: TempoClassifierConfig = TempoClassifierConfig(), epochs: int = 200, lr: float = 1e-3,
        weight_decay: float = 1e-2, batch: int = 64, seed: int = 0) -> TempoClassifier:
    """Train a classifier on examples drawn afresh every epoch.

    examples(epoch, rng) -> (vectors (N, D), bpm (N,)): the epoch's training set. Augmentation
    (translating each vector to a random tau and relabelling it ``tau * bpm``) happens there, so every
    epoch sees new tempi. Examples outside ``cfg.bpm_min..bpm_max`` are left out.
    """
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    net = _network(space.dimension, cfg)
    opt = torch.optim.AdamW(net.parameters(), lr=lr, weight_decay=weight_decay)
    net.train()
    for epoch in range(epochs):
        vectors, bpm = examples(epoch, rng)
        inside = (bpm >= cfg.bpm_min) & (bpm <= cfg.bpm_max)
        x = torch.from_numpy(np.ascontiguousarray(vectors[inside], dtype=np.float32))
        y = torch.from_numpy(soft_labels(bpm[inside], cfg))
        order = torch.from_numpy(rng.permutation(len(x)))
        for start in range(0, len(order), batch):
            idx = order[start : start + batch]
            loss = -(y[idx] * torch.log_softmax(net(x[idx]), dim=-1)).sum(dim=-1).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
    return TempoClassifier(space, net, cfg)


@lru_cache(maxsize=1)
def shipped_classifier() -> TempoClassifier:
    """The classifier that ships in resources/, for the shipped track space (loaded once)."""
    return TempoClassifier.load(TrackSpace.load())


def classify_tempo(vector: np.ndarray) -> tuple[float, np.ndarray]:
    """BPM of one track vector (D,) with the shipped classifier, and its (C,) class probabilities."""
    return shipped_classifier()(vector)
