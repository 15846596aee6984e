"""Tempo translation f(z, tau): the track vector the same music would have at tempo tau * T.

tau = T'/T everywhere: tau = 2 is twice as fast. The embedding model is frozen; only f is learned.

- On the tempo block f is exact: the block is an onset autocorrelation on a log-BPM grid, so a tempo
  change is a shift of ``16 * log2(tau)`` steps (:func:`engine.embed.tempo_block.shift_tempo_block`).
- On the MusiCNN part f is learned from real tempo changes (MIDI re-rendered at another tempo), as a
  residual correction that vanishes at tau = 1: ``z + log2(tau) * g(z, log2 tau)``. ``g`` is either one
  learned direction (``kind="direction"``) or a small MLP (``kind="mlp"``); ``kind="identity"``
  leaves the MusiCNN part alone (the tempo block still moves).

A translator is tied to the track space it was trained in (the standardisation changes what z
means), and refuses to load against another.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import lru_cache
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from engine.embed.tempo_block import shift_tempo_block
from engine.embed.tied_weights import load_tied, save_tied
from engine.embed.track_vector import TrackSpace

DEFAULT_PATH = Path(__file__).resolve().parent.parent / "resources" / "translator.safetensors"
KINDS = ("identity", "direction", "mlp")


class TranslatorMismatch(ValueError):
    """The translator was trained for another embedding or track space."""


@dataclass(frozen=True)
class TranslatorConfig:
    kind: str = "mlp"
    hidden: int = 512
    tau_min: float = 0.5  # the range of tempo ratios trained on; outside it f extrapolates
    tau_max: float = 2.0


class MusicnnTranslator(nn.Module):
    """The learned part: (B, K) MusiCNN parts and (B,) log2 tau -> (B, K) translated parts."""

    def __init__(self, dim: int, cfg: TranslatorConfig):
        super().__init__()
        self.kind = cfg.kind
        if cfg.kind == "direction":
            self.direction = nn.Parameter(torch.zeros(dim))
        elif cfg.kind == "mlp":
            self.mlp = nn.Sequential(nn.Linear(dim + 1, cfg.hidden), nn.GELU(), nn.Linear(cfg.hidden, cfg.hidden),
                                     nn.GELU(), nn.Linear(cfg.hidden, dim))
            nn.init.zeros_(self.mlp[-1].weight)
            nn.init.zeros_(self.mlp[-1].bias)

    def forward(self, z: torch.Tensor, log_tau: torch.Tensor) -> torch.Tensor:
        if self.kind == "identity":
            return z
        lt = log_tau.unsqueeze(-1)
        if self.kind == "direction":
            return z + lt * self.direction
        return z + lt * self.mlp(torch.cat([z, lt], dim=-1))


class Translator:
    """f(z, tau) on whole track vectors of one :class:`TrackSpace`."""

    def __init__(self, space: TrackSpace, net: MusicnnTranslator, cfg: TranslatorConfig, about: dict | None = None):
        self.space, self.net, self.cfg = space, net.eval(), cfg
        self.about = about or {}

    @classmethod
    def untrained(cls, space: TrackSpace, cfg: TranslatorConfig = TranslatorConfig()) -> Translator:
        return cls(space, MusicnnTranslator(space.musicnn_dim, cfg), cfg)

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
        with torch.inference_mode():
            z2 = self.net(torch.from_numpy(np.ascontiguousarray(z)), torch.from_numpy(np.log2(taus))).numpy()
        out = np.concatenate([z2, shift_tempo_block(block, taus)], axis=1).astype(np.float32)
        return out[0] if single else out

    def save(self, path: Path, about: dict | None = None) -> None:
        meta = {"kind": self.cfg.kind, "hidden": self.cfg.hidden, "tau_min": self.cfg.tau_min,
                "tau_max": self.cfg.tau_max, **(about or self.about)}
        save_tied(path, self.net.state_dict(), self.space, meta)

    @classmethod
    def load(cls, space: TrackSpace, path: Path = DEFAULT_PATH) -> Translator:
        state, meta = load_tied(path, space, TranslatorMismatch, "scripts/train_translator.py")
        cfg = TranslatorConfig(meta["kind"], int(meta["hidden"]), float(meta["tau_min"]), float(meta["tau_max"]))
        net = MusicnnTranslator(space.musicnn_dim, cfg)
        net.load_state_dict(state, strict=True)
        return cls(space, net, cfg, {k: v for k, v in meta.items() if k not in ("kind", "hidden", "tau_min", "tau_max")})


def train_pairs(z: np.ndarray, groups: np.ndarray, taus: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """All ordered pairs of renders of the same (piece, soundfont): indices a, b and tau = tau_b / tau_a."""
    a_idx, b_idx = [], []
    for g in np.unique(groups):
        members = np.flatnonzero(groups == g)
        a, b = np.meshgrid(members, members, indexing="ij")
        keep = a != b
        a_idx.append(a[keep])
        b_idx.append(b[keep])
    a_all, b_all = np.concatenate(a_idx), np.concatenate(b_idx)
    return a_all, b_all, (taus[b_all] / taus[a_all]).astype(np.float32)


def fit(space: TrackSpace, z: np.ndarray, groups: np.ndarray, taus: np.ndarray, cfg: TranslatorConfig,
        epochs: int = 60, lr: float = 1e-3, weight_decay: float = 1e-4, seed: int = 0,
        progress=None) -> Translator:
    """Train the MusiCNN part on pairs of renders of the same music at known tempo ratios.

    z : (N, K) MusiCNN parts of track vectors; groups : (N,) one id per (piece, soundfont);
    taus : (N,) each render's tempo ratio to the piece's original. ``progress(epoch, loss)`` may
    raise to cancel.
    """
    torch.manual_seed(seed)
    net = MusicnnTranslator(space.musicnn_dim, cfg)
    if cfg.kind == "identity":
        return Translator(space, net, cfg)
    a, b, tau = train_pairs(z, groups, taus)
    in_range = (tau >= cfg.tau_min * 0.999) & (tau <= cfg.tau_max * 1.001)
    a, b, tau = a[in_range], b[in_range], tau[in_range]
    for epoch, loss in enumerate(train_epochs(net, z[a], z[b], tau, epochs, lr, weight_decay, seed)):
        if progress is not None:
            progress(epoch, loss)
    return Translator(space, net, cfg)


def train_epochs(net: MusicnnTranslator, z_from: np.ndarray, z_to: np.ndarray, taus: np.ndarray, epochs: int,
                 lr: float, weight_decay: float = 1e-4, seed: int = 0, batch: int = 256) -> Iterator[float]:
    """Train ``net`` in place to map ``z_from`` at ratio ``taus`` onto ``z_to``; yields each epoch's mean loss.

    The one training loop of :func:`fit` (from scratch) and of fine-tuning an existing translator
    (:mod:`engine.finetune`). A generator, so a caller can report progress and cancel between epochs.

    z_from, z_to : (P, K) MusiCNN parts of pairs; taus : (P,) tempo ratio from each ``z_from`` to its ``z_to``;
    batch : pairs per optimiser step.
    """
    src = torch.from_numpy(np.ascontiguousarray(z_from, dtype=np.float32))
    dst = torch.from_numpy(np.ascontiguousarray(z_to, dtype=np.float32))
    lt = torch.from_numpy(np.log2(np.asarray(taus, dtype=np.float32)))
    opt = torch.optim.AdamW(net.parameters(), lr=lr, weight_decay=weight_decay)
    gen = torch.Generator().manual_seed(seed)
    for _ in range(epochs):
        order = torch.randperm(len(src), generator=gen)
        total = 0.0
        for start in range(0, len(order), batch):
            idx = order[start : start + batch]
            loss = (net(src[idx], lt[idx]) - dst[idx]).square().mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += loss.detach().item() * len(idx)
        yield total / max(len(order), 1)


@lru_cache(maxsize=1)
def shipped_translator() -> Translator:
    """The translation that ships in resources/, for the shipped track space (loaded once)."""
    return Translator.load(TrackSpace.load())
