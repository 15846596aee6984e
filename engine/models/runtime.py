"""Which runtime runs each network, PyTorch or ONNX Runtime: decided here and nowhere else.

The torch modules are the single source of truth for every forward pass; ``scripts/export_onnx.py``
exports them to ``resources/onnx/``, and tests hold ONNX Runtime's outputs to torch's within 1e-4.
Measured on one thread of this 2-core CPU (``scripts/measure_inference.py``):

- MusiCNN, the whole cost of indexing: about 14 ms per 3 s patch on ONNX Runtime against 23-32 ms
  on torch, so ONNX Runtime runs it wherever it is installed.
- The translator and the tempo classifier: 6-400 us a call on either runtime (ONNX Runtime about
  twice as fast), lost beside a search's milliseconds; but importing torch takes 0.8 s against
  0.07 s, paid by the first search. So ONNX Runtime runs them too, unless torch is loaded already
  (a training run, a script): then torch does, and what was trained is bit for bit what runs (ONNX
  Runtime agrees to 1e-6, not to the last bit).

The packaged app has no torch at all (it would unpack to 750 MB) and runs everything on ONNX Runtime;
``$SBF_INFERENCE`` forces one runtime for every network (tests, benchmarks). The runtime-specific
modules are imported here, on first use, so that importing the engine costs neither runtime until a
network is needed, and the packaged app never looks for torch.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Mapping
from importlib.util import find_spec
from typing import TYPE_CHECKING

import numpy as np

from engine.config import INFERENCE, InferenceConfig
from engine.errors import ModelError, TrainingError

if TYPE_CHECKING:
    from engine.models.tempo_classifier import TempoClassifierConfig, TempoNet
    from engine.models.translation import TranslatorConfig, TranslatorNet

BACKENDS = ("onnx", "torch")  # in order of preference
_MODULE = {"onnx": "onnxruntime", "torch": "torch"}  # what each needs importable
SMALL_NETWORKS = ("translator", "tempo_classifier")  # microseconds a call: torch runs them once it is loaded
NETWORKS = ("musicnn", *SMALL_NETWORKS)

PatchNetwork = Callable[[np.ndarray], np.ndarray]
"""MusiCNN on a batch of log-mel patches: float32 (B, 187, 96) -> (B, 753) temporal mean pool."""


class BackendUnavailable(ModelError):
    """Neither ONNX Runtime nor PyTorch can be imported, or the one asked for cannot."""


class TrainingUnavailable(TrainingError):
    """Training needs PyTorch, which the packaged app leaves out."""


def inference_backend(network: str, cfg: InferenceConfig = INFERENCE) -> str:
    """"onnx" or "torch" for ``network`` (one of :data:`NETWORKS`): the runtime ``$SBF_INFERENCE``
    names, else the first installed of ONNX Runtime and torch (torch first for the small networks
    when it is loaded already)."""
    if network not in NETWORKS:
        raise ValueError(f"unknown network {network!r}: one of {', '.join(NETWORKS)}")
    forced = os.environ.get(cfg.backend_env, "").strip().lower()
    if forced:
        if forced not in BACKENDS:
            raise BackendUnavailable(f"{cfg.backend_env}={forced!r}: use one of {', '.join(BACKENDS)}")
        if not _installed(_MODULE[forced]):
            raise BackendUnavailable(f"{cfg.backend_env}={forced} but {_MODULE[forced]} is not installed")
        return forced
    order = BACKENDS[::-1] if network in SMALL_NETWORKS and "torch" in sys.modules else BACKENDS
    for backend in order:
        if _installed(_MODULE[backend]):
            return backend
    raise BackendUnavailable("Similar But Faster needs onnxruntime (or torch) to analyse audio: "
                             "pip install onnxruntime, or reinstall the app")


def musicnn_network(threads: int = INFERENCE.threads) -> PatchNetwork:
    """MusiCNN (MSD weights) on the chosen runtime, using at most ``threads`` threads."""
    if inference_backend("musicnn") == "onnx":
        from engine.models.onnx_runtime import OnnxMusicnn

        return OnnxMusicnn(threads)
    from engine.models.torch_runtime import TorchMusicnn

    return TorchMusicnn(threads)


def translator_network(cfg: TranslatorConfig, dim: int, state: Mapping[str, np.ndarray]) -> TranslatorNet:
    """The learned part of a translator of kind "direction" or "mlp" with weights ``state``, on the chosen
    runtime; ``dim`` is the MusiCNN part's dimension K."""
    if inference_backend("translator") == "onnx":
        from engine.models.onnx_runtime import OnnxTranslatorNet

        return OnnxTranslatorNet(cfg.kind, state)
    from engine.training.translator import MusicnnTranslator

    return MusicnnTranslator.from_state(dim, cfg, state)


def tempo_network(cfg: TempoClassifierConfig, dim: int, state: Mapping[str, np.ndarray]) -> TempoNet:
    """A tempo classifier's network with weights ``state`` on the chosen runtime; ``dim``: track vector size."""
    if inference_backend("tempo_classifier") == "onnx":
        from engine.models.onnx_runtime import OnnxTempoNet

        return OnnxTempoNet(cfg.hidden > 0, state)
    from engine.training.tempo_classifier import TorchTempoNet

    return TorchTempoNet.from_state(dim, cfg, state)


def require_training() -> None:
    """Raise :class:`TrainingUnavailable` with the way out when PyTorch is missing (the packaged app)."""
    if not _installed("torch"):
        raise TrainingUnavailable(
            "Fine-tuning the tempo translation needs the developer install of Similar But Faster, which "
            "includes PyTorch: `pip install similar-but-faster` (or, in a checkout of its source, `make setup`), "
            "then run `sbf train translator --library-dir DIR` there. This app then uses the fine-tuned "
            "translation of that library folder as it is.")


def _installed(module: str) -> bool:
    """Whether ``module`` can be found without importing it (a finder that refuses it counts as absent)."""
    try:
        return find_spec(module) is not None
    except ImportError:
        return False
