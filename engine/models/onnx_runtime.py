"""The networks on ONNX Runtime: MusiCNN, the translator and the tempo classifier, without torch.

The graphs in ``resources/onnx/`` are exported from the torch modules by ``scripts/export_onnx.py``.
MusiCNN's weights are inside its graph (they define the embedder's version). The translator's and the
tempo classifier's graphs take their weights as inputs instead, so one graph per architecture runs any
weights file of it: the shipped ones, and a translator fine-tuned on a library with the developer
install, read from the same ``.safetensors`` files torch reads.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np
import onnxruntime as ort

from engine.config import INFERENCE, RESOURCES

ONNX_DIR = RESOURCES / "onnx"
MUSICNN_GRAPH = "musicnn_msd_mean_pool.onnx"


def translator_graph(kind: str) -> str:
    """File name of the translator graph of ``kind`` ("direction" or "mlp")."""
    return f"translator_{kind}.onnx"


def tempo_classifier_graph(hidden: bool) -> str:
    """File name of the tempo classifier graph: with a hidden layer, or linear."""
    return f"tempo_classifier_{'mlp' if hidden else 'linear'}.onnx"


def open_session(graph: str, threads: int, onnx_dir: Path = ONNX_DIR) -> ort.InferenceSession:
    """An ONNX Runtime session on the CPU using at most ``threads`` threads for one call.

    Raises
    ------
    FileNotFoundError
        The graph is not there: the installation is incomplete.
    """
    path = onnx_dir / graph
    if not path.exists():
        raise FileNotFoundError(f"Network file missing: {path}. Reinstall, or run scripts/export_onnx.py")
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1  # the graphs are chains: nothing runs side by side
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


class OnnxMusicnn:
    """MusiCNN's temporal mean pool: float32 (B, 187, 96) log-mel patches -> (B, 753)."""

    def __init__(self, threads: int):
        self._session = open_session(MUSICNN_GRAPH, threads)

    def __call__(self, patches: np.ndarray) -> np.ndarray:
        return self._session.run(None, {"mel": np.ascontiguousarray(patches, dtype=np.float32)})[0]


class OnnxWeightsNet:
    """A graph whose weights are inputs named as in the torch module's state dict, bound to ``state``."""

    data_inputs: tuple[str, ...] = ()  # the graph's inputs that are not weights

    def __init__(self, graph: str, state: Mapping[str, np.ndarray], threads: int = INFERENCE.threads):
        self._session = open_session(graph, threads)
        self._weights = {k: np.ascontiguousarray(v, dtype=np.float32) for k, v in state.items()}
        wanted = {i.name for i in self._session.get_inputs()} - set(self.data_inputs)
        if wanted != set(self._weights):
            raise ValueError(f"{graph} needs weights {sorted(wanted)}, the file holds {sorted(self._weights)}")

    def _run(self, **data: np.ndarray) -> np.ndarray:
        feeds = {k: np.ascontiguousarray(v, dtype=np.float32) for k, v in data.items()}
        return self._session.run(None, {**feeds, **self._weights})[0]

    def state_dict(self) -> dict[str, np.ndarray]:
        """The weights, as the torch module's ``state_dict`` names them (for saving)."""
        return dict(self._weights)


class OnnxTranslatorNet(OnnxWeightsNet):
    """The translator's learned part: z (B, K), log2 tau (B,) -> translated z (B, K)."""

    data_inputs = ("z", "log_tau")

    def __init__(self, kind: str, state: Mapping[str, np.ndarray]):
        super().__init__(translator_graph(kind), state)

    def predict(self, z: np.ndarray, log_tau: np.ndarray) -> np.ndarray:
        return self._run(z=z, log_tau=log_tau)


class OnnxTempoNet(OnnxWeightsNet):
    """The tempo classifier's network: track vectors (B, D) -> class probabilities (B, C)."""

    data_inputs = ("vectors",)

    def __init__(self, hidden: bool, state: Mapping[str, np.ndarray]):
        super().__init__(tempo_classifier_graph(hidden), state)

    def predict(self, vectors: np.ndarray) -> np.ndarray:
        return self._run(vectors=vectors)
