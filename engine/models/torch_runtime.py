"""MusiCNN on PyTorch, called as the embedder calls any runtime: numpy patches in, numpy mean pool out.

The fallback where ONNX Runtime is not installed (``engine/models/runtime.py`` decides), and the reference
the ONNX graph is held to.
"""

from __future__ import annotations

import numpy as np
import torch

from engine.models.musicnn import load_musicnn


class TorchMusicnn:
    """MusiCNN's temporal mean pool: float32 (B, 187, 96) log-mel patches -> (B, 753).

    torch's thread count belongs to the process, not to a model: setting it here is what a scan
    worker, one process per core, needs.
    """

    def __init__(self, threads: int, model: str = "MSD_musicnn"):
        torch.set_num_threads(threads)
        self._net = load_musicnn(model)

    def __call__(self, patches: np.ndarray) -> np.ndarray:
        with torch.inference_mode():
            return self._net(torch.from_numpy(np.ascontiguousarray(patches, dtype=np.float32))).mean_pool.numpy()
