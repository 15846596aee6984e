"""The translation's learned part as a torch module: the single source of truth for its forward pass.

Training runs it (:mod:`engine.training.translator`), ``scripts/export_onnx.py`` exports it for ONNX
Runtime, and it runs inference where torch is the chosen runtime (``engine/models/runtime.py``). It
takes its shape as plain numbers, so it needs nothing from :mod:`engine.models.translation`, which
wraps it (or its ONNX graph) as f(z, tau).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import torch
from torch import nn


class MusicnnTranslator(nn.Module):
    """The learned part: (B, K) MusiCNN parts and (B,) log2 tau -> (B, K) translated parts.

    Parameters
    ----------
    dim : K, the MusiCNN part's dimension
    kind : "direction" (one learned direction) or "mlp" (a residual MLP); "identity" has no weights
    hidden : the MLP's hidden units
    """

    def __init__(self, dim: int, kind: str, hidden: int):
        super().__init__()
        self.kind = kind
        if kind == "direction":
            self.direction = nn.Parameter(torch.zeros(dim))
        elif kind == "mlp":
            self.mlp = nn.Sequential(nn.Linear(dim + 1, hidden), nn.GELU(), nn.Linear(hidden, hidden),
                                     nn.GELU(), nn.Linear(hidden, dim))
            nn.init.zeros_(self.mlp[-1].weight)
            nn.init.zeros_(self.mlp[-1].bias)

    @classmethod
    def from_state(cls, dim: int, kind: str, hidden: int, state: Mapping[str, np.ndarray]) -> MusicnnTranslator:
        """A translator with the weights ``state`` (numpy arrays or tensors, as a ``state_dict``)."""
        net = cls(dim, kind, hidden)
        net.load_state_dict({k: torch.as_tensor(np.asarray(v)) for k, v in state.items()}, strict=True)
        return net

    def forward(self, z: torch.Tensor, log_tau: torch.Tensor) -> torch.Tensor:
        if self.kind == "identity":
            return z
        lt = log_tau.unsqueeze(-1)
        if self.kind == "direction":
            return z + lt * self.direction
        return z + lt * self.mlp(torch.cat([z, lt], dim=-1))

    def predict(self, z: np.ndarray, log_tau: np.ndarray) -> np.ndarray:
        """:meth:`forward` on float32 arrays, without gradients: the :class:`engine.models.runtime.TranslatorNet` call."""
        with torch.inference_mode():
            return self(torch.from_numpy(np.ascontiguousarray(z, dtype=np.float32)),
                        torch.from_numpy(np.ascontiguousarray(log_tau, dtype=np.float32))).numpy()
