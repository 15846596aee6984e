"""Training the tempo classifier's network (:mod:`engine.models.torch_tempo_classifier`). Needs torch.

What it trains is used as it is, on torch, with no runtime lookup; saved, it runs wherever
``engine/models/runtime.py`` says. The inference side, torch-free, is :mod:`engine.models.tempo_classifier`.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

from engine.models.tempo_classifier import TempoClassifier, TempoClassifierConfig
from engine.models.torch_tempo_classifier import TorchTempoNet, network
from engine.models.track_space import TrackSpace


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
    net = network(space.dimension, cfg.n_classes, cfg.hidden, cfg.dropout)
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
