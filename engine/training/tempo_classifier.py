"""The tempo classifier's network in torch, and its training. Needs torch.

:func:`network` and :func:`class_probabilities` are the single source of truth for the forward pass:
training runs them, ``scripts/export_onnx.py`` exports them for ONNX Runtime, and
:class:`TorchTempoNet` runs them where ONNX Runtime is not installed (``engine/models/runtime.py``
decides). The inference side, torch-free, is :mod:`engine.models.tempo_classifier`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np
import torch
from torch import nn

from engine.models.track_space import TrackSpace
from engine.models.tempo_classifier import TempoClassifier, TempoClassifierConfig


def network(dim: int, cfg: TempoClassifierConfig) -> nn.Module:
    """Track vectors (B, dim) -> class logits (B, C): linear, or one hidden GELU layer with dropout."""
    if cfg.hidden == 0:
        return nn.Linear(dim, cfg.n_classes)
    return nn.Sequential(nn.Dropout(cfg.dropout), nn.Linear(dim, cfg.hidden), nn.GELU(), nn.Dropout(cfg.dropout),
                         nn.Linear(cfg.hidden, cfg.n_classes))


def class_probabilities(net: nn.Module, vectors: torch.Tensor) -> torch.Tensor:
    """(B, D) track vectors -> (B, C) class probabilities (rows add up to 1)."""
    return torch.softmax(net(vectors), dim=-1)


class TorchTempoNet:
    """A torch tempo network as :class:`TempoClassifier` calls it: arrays in, probabilities out, no dropout."""

    def __init__(self, module: nn.Module):
        self.module = module.eval()

    @classmethod
    def from_state(cls, dim: int, cfg: TempoClassifierConfig, state: Mapping[str, np.ndarray]) -> TorchTempoNet:
        net = network(dim, cfg)
        net.load_state_dict({k: torch.as_tensor(np.asarray(v)) for k, v in state.items()}, strict=True)
        return cls(net)

    def predict(self, vectors: np.ndarray) -> np.ndarray:
        with torch.inference_mode():
            return class_probabilities(self.module, torch.from_numpy(np.ascontiguousarray(vectors, dtype=np.float32))).numpy()

    def state_dict(self) -> Mapping[str, torch.Tensor]:
        return self.module.state_dict()


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
    net = network(space.dimension, cfg)
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
    return TempoClassifier(space, TorchTempoNet(net), cfg)
