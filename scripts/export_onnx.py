"""Export the networks from their torch modules to ONNX, for ONNX Runtime (``resources/onnx/``).

The torch modules stay the single source of truth; this script is the only way the graphs are made,
and ``tests/test_onnx_backend.py`` holds ONNX Runtime's outputs to torch's within 1e-4 (on random inputs
and on a demo file), so a graph that drifts from its module fails the tests.

- MusiCNN (MSD weights inside the graph): log-mel patches (B, 187, 96) -> mean pool (B, 753).
- The translator's learned part, one graph per kind ("direction", "mlp"): z (B, K), log_tau (B,) and
  the weights as inputs, named as in the module's state dict -> translated z (B, K).
- The tempo classifier, one graph per variant (with a hidden layer, linear): vectors (B, D) and the
  weights -> class probabilities (B, C).

Batch, K, D, hidden and class counts are all dynamic, so retraining or refitting the track space
needs no new export; only a change to a module's code does.

Usage: ``.venv/bin/python -m scripts.export_onnx [--out resources/onnx]`` (needs the ``dev`` extras:
onnx and onnxscript, which torch's exporter uses).
"""

from __future__ import annotations

import argparse
import warnings
from collections.abc import Mapping
from pathlib import Path

import torch
from torch import nn
from torch.export import Dim

from engine.config import MEL
from engine.models.onnx_runtime import MUSICNN_GRAPH, ONNX_DIR, tempo_classifier_graph, translator_graph
from engine.models.tempo_classifier import TempoClassifierConfig
from engine.models.torch_musicnn import load_musicnn
from engine.models.torch_tempo_classifier import class_probabilities, network
from engine.models.torch_translator import MusicnnTranslator

# Example sizes to trace with; every one of them is exported as a dynamic dimension.
_BATCH, _DIM, _HIDDEN = 3, 12, 16


class _MeanPool(nn.Module):
    """MusiCNN reduced to the output the embedder uses."""

    def __init__(self):
        super().__init__()
        self.net = load_musicnn()

    def forward(self, mel: torch.Tensor) -> torch.Tensor:
        return self.net(mel).mean_pool


class _Probabilities(nn.Module):
    """The tempo network with its softmax: what the classifier's graph computes."""

    def __init__(self, net: nn.Module):
        super().__init__()
        self.net = net

    def forward(self, vectors: torch.Tensor) -> torch.Tensor:
        return class_probabilities(self.net, vectors)


class _WeightsAsInputs(nn.Module):
    """Runs ``module`` with the parameters ``prefix + name`` passed in as its last inputs
    (``torch.func.functional_call``), so the graph carries no weights and serves every weights file of
    the same architecture."""

    def __init__(self, module: nn.Module, prefix: str, names: list[str]):
        super().__init__()
        self.module, self.prefix, self.names = module, prefix, names

    def forward(self, *inputs: torch.Tensor) -> torch.Tensor:
        data, weights = inputs[: -len(self.names)], inputs[-len(self.names) :]
        params = {self.prefix + name: w for name, w in zip(self.names, weights)}
        return torch.func.functional_call(self.module, params, data, strict=True)


def _export(module: nn.Module, args: tuple, names: list[str], output: str, dynamic: tuple, path: Path) -> Path:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the exporter's deprecation and axis-renaming chatter
        torch.onnx.export(module.eval(), args, str(path), input_names=names, output_names=[output],
                          dynamic_shapes=dynamic, dynamo=True, external_data=False, verbose=False)
    return path


def _weights(net: nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in net.state_dict().items()}


def export_musicnn(out_dir: Path) -> Path:
    batch = Dim("batch", min=1)
    example = torch.zeros(_BATCH, MEL.patch_frames, MEL.n_mels)
    return _export(_MeanPool(), (example,), ["mel"], "mean_pool", ({0: batch},), out_dir / MUSICNN_GRAPH)


def export_translator(kind: str, out_dir: Path) -> Path:
    net = MusicnnTranslator(_DIM, kind, _HIDDEN)
    weights = _weights(net)
    batch, dim, hidden = Dim("batch", min=1), Dim("dim", min=2), Dim("hidden", min=2)
    shapes: Mapping[str, dict] = {
        "direction": {0: dim},
        "mlp.0.weight": {0: hidden, 1: dim + 1}, "mlp.0.bias": {0: hidden},
        "mlp.2.weight": {0: hidden, 1: hidden}, "mlp.2.bias": {0: hidden},
        "mlp.4.weight": {0: dim, 1: hidden}, "mlp.4.bias": {0: dim},
    }
    z, log_tau = torch.randn(_BATCH, _DIM), torch.randn(_BATCH)
    module = _WeightsAsInputs(net, "", list(weights))
    dynamic = ({0: batch, 1: dim}, {0: batch}, *(shapes[k] for k in weights))
    return _export(module, (z, log_tau, *weights.values()), ["z", "log_tau", *weights], "translated",
                   (dynamic,), out_dir / translator_graph(kind))


def export_tempo_classifier(hidden: bool, out_dir: Path) -> Path:
    cfg = TempoClassifierConfig(hidden=_HIDDEN if hidden else 0)
    net = network(_DIM, cfg.n_classes, cfg.hidden, cfg.dropout)
    weights = _weights(net)
    batch, dim, hidden_dim, classes = Dim("batch", min=1), Dim("dim", min=2), Dim("hidden", min=2), Dim("classes", min=2)
    shapes = {"1.weight": {0: hidden_dim, 1: dim}, "1.bias": {0: hidden_dim},
              "4.weight": {0: classes, 1: hidden_dim}, "4.bias": {0: classes},
              "weight": {0: classes, 1: dim}, "bias": {0: classes}}
    module = _WeightsAsInputs(_Probabilities(net), "net.", list(weights))
    dynamic = ({0: batch, 1: dim}, *(shapes[k] for k in weights))
    return _export(module, (torch.randn(_BATCH, _DIM), *weights.values()), ["vectors", *weights], "probabilities",
                   (dynamic,), out_dir / tempo_classifier_graph(hidden))


def export_all(out_dir: Path = ONNX_DIR) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    return [export_musicnn(out_dir), *(export_translator(kind, out_dir) for kind in ("direction", "mlp")),
            *(export_tempo_classifier(hidden, out_dir) for hidden in (True, False))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ONNX_DIR, help="folder to write the .onnx files to")
    args = parser.parse_args()
    for path in export_all(args.out):
        print(f"{path}  {path.stat().st_size / 1024:.0f} KiB")


if __name__ == "__main__":
    main()
