"""Training the translation's learned part (:class:`engine.models.torch_translator.MusicnnTranslator`). Needs torch.

What it trains is used as it is, on torch, with no runtime lookup; saved, it runs wherever
``engine/models/runtime.py`` says. The inference side, torch-free, is :mod:`engine.models.translation`.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import torch

from engine.models.torch_translator import MusicnnTranslator
from engine.models.track_space import TrackSpace
from engine.models.translation import Translator, TranslatorConfig


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
    net = MusicnnTranslator(space.musicnn_dim, cfg.kind, cfg.hidden)
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
    (:mod:`engine.training.finetune`). A generator, so a caller can report progress and cancel between epochs.

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
