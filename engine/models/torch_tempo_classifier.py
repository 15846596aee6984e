"""The tempo classifier's network in torch: the single source of truth for its forward pass.

Training runs :func:`network` and :func:`class_probabilities` (:mod:`engine.training.tempo_classifier`),
``scripts/export_onnx.py`` exports them for ONNX Runtime, and :class:`TorchTempoNet` runs them where
torch is the chosen runtime (``engine/models/runtime.py``). Sizes come as plain numbers, so this needs
nothing from :mod:`engine.models.tempo_classifier`, which reads a tempo off the probabilities.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import torch
from torch import nn


def network(dim: int, n_classes: int, hidden: int, dropout: float) -> nn.Module:
    """Track vectors (B, dim) -> class logits (B, n_classes): linear (``hidden`` 0), or one hidden GELU
    layer with dropout."""
    if hidden == 0:
        return nn.Linear(dim, n_classes)
    return nn.Sequential(nn.Dropout(dropout), nn.Linear(dim, hidden), nn.GELU(), nn.Dropout(dropout),
                         nn.Linear(hidden, n_classes))


def class_probabilities(net: nn.Module, vectors: torch.Tensor) -> torch.Tensor:
    """(B, D) track vectors -> (B, C) class probabilities (rows add up to 1)."""
    return torch.softmax(net(vectors), dim=-1)


class TorchTempoNet:
    """A torch tempo network as the classifier calls it: arrays in, probabilities out, no dropout."""

    def __init__(self, module: nn.Module):
        self.module = module.eval()

    @classmethod
    def from_state(cls, dim: int, n_classes: int, hidden: int, state: Mapping[str, np.ndarray]) -> TorchTempoNet:
        """A network with the weights ``state``, for inference (dropout, which has no weights, off)."""
        net = network(dim, n_classes, hidden, dropout=0.0)
        net.load_state_dict({k: torch.as_tensor(np.asarray(v)) for k, v in state.items()}, strict=True)
        return cls(net)

    def predict(self, vectors: np.ndarray) -> np.ndarray:
        with torch.inference_mode():
            return class_probabilities(self.module, torch.from_numpy(np.ascontiguousarray(vectors, dtype=np.float32))).numpy()

    def state_dict(self) -> Mapping[str, torch.Tensor]:
        return self.module.state_dict()
