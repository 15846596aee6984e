"""MusiCNN (Pons & Serra 2019) ported to PyTorch, inference only: the reference its ONNX graph is held to.

``scripts/export_onnx.py`` exports it to the graph ONNX Runtime runs; :class:`TorchMusicnn` runs it
itself where torch is the chosen runtime (``engine/models/runtime.py``).

The network reads 3 s log-mel patches (187 frames x 96 bands) and has three parts:

- front end: two timbral convolutions (7 x 38 and 7 x 67 time-frequency kernels, 204 filters each) and
  three temporal ones (128, 64, 32 frames x 1 band, 51 filters each), each max-pooled over frequency;
- mid end: three 1-d convolutions of 64 filters with residual connections;
- back end: max and mean over time of all 753 front- and mid-end channels, a 200-unit dense layer
  (the "penultimate" features) and 50 sigmoid tag outputs.

Every layer mirrors ``musicnn/models.py`` from the ``musicnn`` 0.1.0 wheel, including the order
ReLU -> batch norm -> pool, TensorFlow's "same" padding (one frame more after than before for even
kernels) and the interleaved (max, mean) flattening before the dense layers. Batch norms run in
inference mode with TensorFlow's epsilon of 1e-3. Unlike upstream's ``penultimate`` output, which
repeats the first patch, every patch is computed.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import load_file
from torch import nn
from torch.nn import functional as F

from engine.models.identity import MUSICNN

BN_EPSILON = 1e-3  # tf.compat.v1.layers.batch_normalization default
TIMBRAL_KERNELS = (38, 67)  # int(0.4 * 96), int(0.7 * 96) mel bands
TEMPORAL_KERNELS = (128, 64, 32)  # frames
TIMBRAL_FILTERS, TEMPORAL_FILTERS, MIDEND_FILTERS, BACKEND_UNITS, N_TAGS = 204, 51, 64, 200, 50
FRONTEND_CHANNELS = 2 * TIMBRAL_FILTERS + 3 * TEMPORAL_FILTERS  # 561
POOL_DIM = FRONTEND_CHANNELS + 3 * MIDEND_FILTERS  # 753


@dataclass(frozen=True)
class MusicnnOutputs:
    """Per-patch outputs; B patches.

    mean_pool, max_pool : (B, 753) temporal mean and max of the front- and mid-end channels
    penultimate : (B, 200) the dense layer before the tags
    tags : (B, 50) tag probabilities (sigmoid)
    """

    mean_pool: torch.Tensor
    max_pool: torch.Tensor
    penultimate: torch.Tensor
    tags: torch.Tensor


class _BatchNorm(nn.Module):
    """Inference batch norm over dimension 1, stored as TensorFlow stores it."""

    def __init__(self, channels: int):
        super().__init__()
        for name in ("gamma", "beta", "moving_mean", "moving_variance"):
            self.register_buffer(name, torch.zeros(channels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        shape = (1, -1) + (1,) * (x.dim() - 2)
        scale = self.gamma * torch.rsqrt(self.moving_variance + BN_EPSILON)
        shift = self.beta - self.moving_mean * scale
        return x * scale.view(shape) + shift.view(shape)


class Musicnn(nn.Module):
    """The MSD/MTT ``musicnn`` architecture (792,079 parameters)."""

    def __init__(self):
        super().__init__()
        self.input_bn = _BatchNorm(1)
        self.timbral = nn.ModuleList(nn.Conv2d(1, TIMBRAL_FILTERS, (7, k)) for k in TIMBRAL_KERNELS)
        self.timbral_bn = nn.ModuleList(_BatchNorm(TIMBRAL_FILTERS) for _ in TIMBRAL_KERNELS)
        self.temporal = nn.ModuleList(nn.Conv2d(1, TEMPORAL_FILTERS, (k, 1)) for k in TEMPORAL_KERNELS)
        self.temporal_bn = nn.ModuleList(_BatchNorm(TEMPORAL_FILTERS) for _ in TEMPORAL_KERNELS)
        self.midend = nn.ModuleList(
            nn.Conv1d(c, MIDEND_FILTERS, 7, padding=3) for c in (FRONTEND_CHANNELS, MIDEND_FILTERS, MIDEND_FILTERS)
        )
        self.midend_bn = nn.ModuleList(_BatchNorm(MIDEND_FILTERS) for _ in range(3))
        self.pool_bn = _BatchNorm(2 * POOL_DIM)
        self.dense = nn.Linear(2 * POOL_DIM, BACKEND_UNITS)
        self.dense_bn = _BatchNorm(BACKEND_UNITS)
        self.tags = nn.Linear(BACKEND_UNITS, N_TAGS)

    def features(self, mel: torch.Tensor) -> torch.Tensor:
        """Front- and mid-end channels over time.

        Parameters
        ----------
        mel : (B, 187, 96) log-mel patches (time, band)

        Returns
        -------
        (B, 753, 187) channels x frames
        """
        x = self.input_bn(mel.unsqueeze(1))  # (B, 1, T, F)
        front = []
        timbral_in = F.pad(x, (0, 0, 3, 3))  # time-only padding; frequency is pooled away
        for conv, bn in zip(self.timbral, self.timbral_bn):
            front.append(bn(F.relu(conv(timbral_in))).amax(dim=3))
        for conv, bn, k in zip(self.temporal, self.temporal_bn, TEMPORAL_KERNELS):
            padded = F.pad(x, (0, 0, (k - 1) // 2, k // 2))  # TensorFlow "same"
            front.append(bn(F.relu(conv(padded))).amax(dim=3))
        frontend = torch.cat(front, dim=1)  # (B, 561, T)
        mid = [self.midend_bn[0](F.relu(self.midend[0](frontend)))]
        for conv, bn in zip(self.midend[1:], self.midend_bn[1:]):
            mid.append(bn(F.relu(conv(mid[-1]))) + mid[-1])
        return torch.cat([frontend, *mid], dim=1)

    def forward(self, mel: torch.Tensor) -> MusicnnOutputs:
        feats = self.features(mel)
        max_pool, mean_pool = feats.amax(dim=2), feats.mean(dim=2)
        flat = torch.stack([max_pool, mean_pool], dim=2).flatten(1)  # (max0, mean0, max1, ...)
        penultimate = self.dense_bn(F.relu(self.dense(self.pool_bn(flat))))
        return MusicnnOutputs(mean_pool, max_pool, penultimate, torch.sigmoid(self.tags(penultimate)))


def tf_to_torch_state(tf_vars: dict) -> dict[str, torch.Tensor]:
    """Map the checkpoint's variables (numpy, TF layout) onto :class:`Musicnn`'s state dict.

    TensorFlow names layers by creation order (``conv2d``, ``conv2d_1``, ...); the order below is the
    order in which ``musicnn/models.py`` builds them.
    """
    convs = ["timbral.0", "timbral.1", "temporal.0", "temporal.1", "temporal.2", "midend.0", "midend.1", "midend.2"]
    bns = ["input_bn", "timbral_bn.0", "timbral_bn.1", "temporal_bn.0", "temporal_bn.1", "temporal_bn.2",
           "midend_bn.0", "midend_bn.1", "midend_bn.2", "pool_bn", "dense_bn"]
    state = {}
    for i, name in enumerate(convs):
        tf_name = "conv2d" if i == 0 else f"conv2d_{i}"
        kernel = torch.from_numpy(tf_vars[f"{tf_name}/kernel"])  # (kt, kf, in, out)
        if name.startswith("midend"):
            kernel = kernel[:, :, 0, :].permute(2, 1, 0)  # full-height 2-d conv == 1-d conv over time
        else:
            kernel = kernel.permute(3, 2, 0, 1)
        state[f"{name}.weight"] = kernel.contiguous()
        state[f"{name}.bias"] = torch.from_numpy(tf_vars[f"{tf_name}/bias"])
    for i, name in enumerate(bns):
        tf_name = "batch_normalization" if i == 0 else f"batch_normalization_{i}"
        for var in ("gamma", "beta", "moving_mean", "moving_variance"):
            state[f"{name}.{var}"] = torch.from_numpy(tf_vars[f"{tf_name}/{var}"])
    for name, tf_name in (("dense", "dense"), ("tags", "dense_1")):
        state[f"{name}.weight"] = torch.from_numpy(tf_vars[f"{tf_name}/kernel"]).T.contiguous()
        state[f"{name}.bias"] = torch.from_numpy(tf_vars[f"{tf_name}/bias"])
    return state


WEIGHTS_DIR = MUSICNN.weights.parent  # also holds the MTT weights, converted alike


def weights_path(model: str = MUSICNN.weights.stem, weights_dir: Path = WEIGHTS_DIR) -> Path:
    return weights_dir / f"{model}.safetensors"


def load_musicnn(model: str = MUSICNN.weights.stem, weights_dir: Path = WEIGHTS_DIR) -> Musicnn:
    """The network with shipped weights, in inference mode (safetensors: no pickle is ever loaded)."""
    path = weights_path(model, weights_dir)
    if not path.exists():
        raise FileNotFoundError(f"MusiCNN weights missing: {path}. Reinstall, or run {MUSICNN.made_by}")
    net = Musicnn()
    net.load_state_dict(load_file(str(path)), strict=True)
    return net.eval()


class TorchMusicnn:
    """MusiCNN's temporal mean pool on torch, called as the embedder calls any runtime:
    float32 (B, 187, 96) log-mel patches -> (B, 753).

    torch's thread count belongs to the process, not to a model: setting it here is what a scan
    worker, one process per core, needs.
    """

    def __init__(self, threads: int, model: str = MUSICNN.weights.stem):
        torch.set_num_threads(threads)
        self._net = load_musicnn(model)

    def __call__(self, patches: np.ndarray) -> np.ndarray:
        with torch.inference_mode():
            return self._net(torch.from_numpy(np.ascontiguousarray(patches, dtype=np.float32))).mean_pool.numpy()
