"""Tempo translation f(z, tau): the track vector the same music would have at tempo tau * T.

tau = T'/T everywhere: tau = 2 is twice as fast. The embedding model is frozen; only f is learned.

- On the tempo block f is exact: the block is an onset autocorrelation on a log-BPM grid, so a tempo
  change is a shift of ``16 * log2(tau)`` steps (:func:`shift_tempo_block`).
- On the MusiCNN part f is learned from real tempo changes (MIDI re-rendered at another tempo), as a
  residual correction that vanishes at tau = 1: ``z + log2(tau) * g(z, log2 tau)``. ``g`` is either one
  learned direction (``kind="direction"``) or a small MLP (``kind="mlp"``); ``kind="identity"``
  leaves the MusiCNN part alone (the tempo block still moves).

A translator is tied to the track space it was trained in (the standardisation changes what z
means), and refuses to load against another.

This module is inference only and needs no torch: the learned part runs on ONNX Runtime or torch
(``engine/models/runtime.py`` decides). The torch module is :mod:`engine.models.torch_translator`, its
training :mod:`engine.training.translator`.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from engine.config import TEMPO_BLOCK, TempoBlockConfig
from engine.errors import ModelError
from engine.models.identity import TRANSLATOR
from engine.models.runtime import TranslatorNet, translator_network
from engine.models.tied_weights import load_tied, save_tied
from engine.models.track_space import TrackSpace

DEFAULT_PATH = TRANSLATOR.weights
KINDS = ("identity", "direction", "mlp")


class TranslatorMismatch(ModelError, ValueError):
    """The translator was trained for another embedding or track space."""


@dataclass(frozen=True)
class TranslatorConfig:
    kind: str = "mlp"
    hidden: int = 512
    tau_min: float = 0.5  # the range of tempo ratios trained on; outside it f extrapolates
    tau_max: float = 2.0


class IdentityNet:
    """Kind "identity": the MusiCNN part stays as it is (only the tempo block moves). No weights, no runtime."""

    def predict(self, z: np.ndarray, log_tau: np.ndarray) -> np.ndarray:
        return np.asarray(z, dtype=np.float32)

    def state_dict(self) -> dict[str, np.ndarray]:
        return {}


def shift_tempo_block(block: np.ndarray, tau: float | np.ndarray, cfg: TempoBlockConfig = TEMPO_BLOCK) -> np.ndarray:
    """The block the same music would have at tempo ``tau * T``.

    The value at ``b`` BPM moves to ``tau * b`` BPM: ``cfg.bins_per_octave * log2(tau)`` steps
    towards higher bins for tau > 1, linearly interpolated for fractional steps. Tempi shifted in
    from beyond the grid are unknown, so the edge value is held there.

    Parameters
    ----------
    block : np.ndarray, shape (..., cfg.n_bins)
        Tempo blocks from :func:`engine.analysis.tempo_block.compute_tempo_block`.
    tau : float or np.ndarray
        Tempo ratio T' / T (2 is twice as fast), positive, broadcastable to ``block.shape[:-1]``.
    cfg : TempoBlockConfig
        The grid the blocks were computed on.

    Returns
    -------
    np.ndarray, float32, shape (*broadcast(block.shape[:-1], tau.shape), cfg.n_bins)
    """
    block = np.asarray(block, dtype=np.float32)
    tau = np.asarray(tau, dtype=np.float64)
    if block.shape[-1:] != (cfg.n_bins,):
        raise ValueError(f"a tempo block has {cfg.n_bins} values, got shape {block.shape}")
    if not np.all(np.isfinite(tau) & (tau > 0)):
        raise ValueError("a tempo ratio must be a positive number (2 is twice as fast)")
    steps = cfg.bins_per_octave * np.log2(tau)
    source = np.clip(np.arange(cfg.n_bins) - steps[..., None], 0, cfg.n_bins - 1)
    lead = np.broadcast_shapes(block.shape[:-1], steps.shape)
    source = np.broadcast_to(source, (*lead, cfg.n_bins))
    block = np.broadcast_to(block, (*lead, cfg.n_bins))
    below = np.floor(source).astype(np.intp)
    above = np.minimum(below + 1, cfg.n_bins - 1)
    weight = (source - below).astype(np.float32)
    low = np.take_along_axis(block, below, axis=-1)
    high = np.take_along_axis(block, above, axis=-1)
    return low + weight * (high - low)


class Translator:
    """f(z, tau) on whole track vectors of one :class:`TrackSpace`."""

    def __init__(self, space: TrackSpace, net: TranslatorNet, cfg: TranslatorConfig, about: dict | None = None):
        self.space, self.net, self.cfg = space, net, cfg
        self.about = about or {}

    @classmethod
    def untrained(cls, space: TrackSpace, cfg: TranslatorConfig = TranslatorConfig()) -> Translator:
        """A translator to train (a torch module), or the identity, which needs no training and no torch."""
        if cfg.kind == "identity":
            return cls(space, IdentityNet(), cfg)
        from engine.models.torch_translator import MusicnnTranslator  # training needs torch

        return cls(space, MusicnnTranslator(space.musicnn_dim, cfg.kind, cfg.hidden), cfg)

    def __call__(self, vectors: np.ndarray, tau: float | np.ndarray) -> np.ndarray:
        """Translate track vectors.

        Parameters
        ----------
        vectors : (D,) or (B, D) float32 track vectors
        tau : scalar or (B,) tempo ratios T'/T, > 0

        Returns
        -------
        The same shape as ``vectors``.
        """
        v = np.asarray(vectors, dtype=np.float32)
        single = v.ndim == 1
        v2 = v[None, :] if single else v
        taus = np.broadcast_to(np.asarray(tau, dtype=np.float32), (len(v2),))
        if (taus <= 0).any():
            raise ValueError("tempo ratio tau must be positive")
        z, block = self.space.split(v2)
        z2 = self.net.predict(z, np.log2(taus))
        out = np.concatenate([z2, shift_tempo_block(block, taus)], axis=1).astype(np.float32)
        return out[0] if single else out

    def save(self, path: Path, about: dict | None = None) -> None:
        meta = {"kind": self.cfg.kind, "hidden": self.cfg.hidden, "tau_min": self.cfg.tau_min,
                "tau_max": self.cfg.tau_max, **(about or self.about)}
        save_tied(path, self.net.state_dict(), self.space, meta)

    @classmethod
    def load(cls, space: TrackSpace, path: Path = DEFAULT_PATH) -> Translator:
        state, meta = load_tied(path, space, TranslatorMismatch, TRANSLATOR.made_by)
        cfg = TranslatorConfig(meta["kind"], int(meta["hidden"]), float(meta["tau_min"]), float(meta["tau_max"]))
        net = IdentityNet() if cfg.kind == "identity" else translator_network(cfg.kind, cfg.hidden, space.musicnn_dim,
                                                                              state)
        return cls(space, net, cfg, {k: v for k, v in meta.items() if k not in ("kind", "hidden", "tau_min", "tau_max")})


@lru_cache(maxsize=1)
def shipped_translator() -> Translator:
    """The translation that ships in resources/, for the shipped track space (loaded once)."""
    return Translator.load(TrackSpace.load())
