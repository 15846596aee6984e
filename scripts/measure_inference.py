"""Time every network on both runtimes, one thread each, as a scan worker runs them.

The figures behind ``InferenceConfig.backend``: which runtime runs the networks. Inputs are
real where it matters (MusiCNN reads the log-mel patches of a demo loop) and random elsewhere; each
line also gives the largest difference between the two runtimes' outputs.

Usage: ``.venv/bin/python -m scripts.measure_inference [--repeats 50]`` (needs torch and onnxruntime).
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

from engine.audio.decode import load_mono
from engine.config import INFERENCE, MEL
from engine.analysis.mel import log_mel
from engine.models.onnx_runtime import OnnxMusicnn, OnnxTempoNet, OnnxTranslatorNet
from engine.models.identity import TEMPO_CLASSIFIER, TRANSLATOR
from engine.models.tempo_classifier import TempoClassifierConfig, TempoClassifierMismatch
from engine.models.tied_weights import load_tied
from engine.models.torch_musicnn import TorchMusicnn
from engine.models.torch_tempo_classifier import TorchTempoNet
from engine.models.torch_translator import MusicnnTranslator
from engine.models.track_space import TrackSpace
from engine.models.translation import TranslatorConfig, TranslatorMismatch

DEMO_LOOP = Path(__file__).resolve().parents[1] / "resources" / "demo" / "full_house_Fm_120bpm.flac"


def per_call_us(run: Callable[[], np.ndarray], repeats: int) -> float:
    """Median of ``repeats`` timed calls after three warm-up calls, in microseconds."""
    for _ in range(3):
        run()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return float(np.median(times) * 1e6)


def compare(name: str, torch_run: Callable[[], np.ndarray], onnx_run: Callable[[], np.ndarray], repeats: int) -> None:
    diff = float(np.abs(torch_run() - onnx_run()).max())
    t, o = per_call_us(torch_run, repeats), per_call_us(onnx_run, repeats)
    print(f"{name:<42} {t:10.1f} {o:10.1f} {t / o:8.2f}x {diff:12.1e}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=50, help="timed calls per line (the median is shown)")
    args = parser.parse_args()
    threads = INFERENCE.threads
    space = TrackSpace.load()
    rng = np.random.default_rng(0)
    print(f"{'network, input':<42} {'torch us':>10} {'onnx us':>10} {'speed-up':>9} {'max |diff|':>12}")

    mel = log_mel(load_mono(DEMO_LOOP, sr=MEL.sample_rate).samples)
    patch = np.ascontiguousarray(mel[None, : MEL.patch_frames])
    torch_net, onnx_net = TorchMusicnn(threads), OnnxMusicnn(threads)
    compare("MusiCNN, one 3 s patch", lambda: torch_net(patch), lambda: onnx_net(patch), args.repeats)

    state, meta = load_tied(TRANSLATOR.weights, space, TranslatorMismatch, "")
    shipped = TranslatorConfig(meta["kind"], int(meta["hidden"]))
    mlp_cfg = TranslatorConfig("mlp")
    mlp = MusicnnTranslator(space.musicnn_dim, mlp_cfg.kind, mlp_cfg.hidden)
    with torch.no_grad():
        for p in mlp.parameters():
            p.normal_(std=0.02)
    translators = {f"translator {shipped.kind} (shipped)": MusicnnTranslator.from_state(space.musicnn_dim, shipped.kind, shipped.hidden,
                                                                                                  state),
                   "translator mlp, hidden 512": mlp}
    state, meta = load_tied(TEMPO_CLASSIFIER.weights, space, TempoClassifierMismatch, "")
    cfg = TempoClassifierConfig(**{k: meta[k] for k in TempoClassifierConfig.__dataclass_fields__})
    classifier = TorchTempoNet.from_state(space.dimension, cfg.n_classes, cfg.hidden, state)
    onnx_classifier = OnnxTempoNet(cfg.hidden > 0, state)
    for batch in (1, 33):  # one knob position; the "at any tempo" grid
        z = rng.standard_normal((batch, space.musicnn_dim)).astype(np.float32)
        log_tau = rng.uniform(-1, 1, batch).astype(np.float32)
        for name, net in translators.items():
            onnx_translator = OnnxTranslatorNet(net.kind, {k: v.numpy() for k, v in net.state_dict().items()})
            compare(f"{name}, batch {batch}", lambda: net.predict(z, log_tau),
                    lambda: onnx_translator.predict(z, log_tau), args.repeats)
        vectors = rng.standard_normal((batch, space.dimension)).astype(np.float32)
        compare(f"tempo classifier, batch {batch}", lambda: classifier.predict(vectors),
                lambda: onnx_classifier.predict(vectors), args.repeats)


if __name__ == "__main__":
    main()
