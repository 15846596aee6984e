"""The networks on ONNX Runtime give what the torch modules give, and one explicit choice picks the runtime."""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

import librosa
import numpy as np
import pytest
import torch

from engine.audio.decode import load_mono
from engine.config import INFERENCE, MEL
from engine.analysis import embedding as embedder_module
from engine.analysis.embedding import MusicnnEmbedder
from engine.analysis.mel import log_mel
from engine.models import runtime, torch_musicnn
from engine.models.onnx_runtime import OnnxMusicnn, OnnxTempoNet, OnnxTranslatorNet
from engine.models.runtime import BackendUnavailable, inference_backend
from engine.models.tempo_classifier import TempoClassifier, TempoClassifierConfig
from engine.models.torch_musicnn import TorchMusicnn
from engine.models.torch_tempo_classifier import TorchTempoNet, network
from engine.models.torch_translator import MusicnnTranslator
from engine.models.track_space import TrackSpace
from engine.models.translation import Translator
from tests.conftest import click_track

TOLERANCE = 1e-4
DEMO_LOOP = Path(__file__).resolve().parents[1] / "resources" / "demo" / "lofi_drums_70bpm.flac"  # 6.9 s: two patches


@pytest.fixture(scope="module")
def demo_mel() -> np.ndarray:
    return log_mel(load_mono(DEMO_LOOP, sr=MEL.sample_rate).samples)


def torch_log_mel(audio: np.ndarray) -> np.ndarray:
    """The front end as it was computed with torch.stft before it moved to librosa.stft."""
    spec = torch.stft(torch.from_numpy(audio), MEL.n_fft, MEL.hop_length, window=torch.hann_window(MEL.n_fft),
                      center=True, pad_mode="constant", return_complex=True)
    basis = torch.from_numpy(librosa.filters.mel(sr=MEL.sample_rate, n_fft=MEL.n_fft, n_mels=MEL.n_mels))
    return torch.log10(10000.0 * (basis @ spec.abs().square()) + 1.0).T.numpy()


@pytest.mark.parametrize("audio", [click_track(128, 4.0, sr=MEL.sample_rate),
                                   np.random.default_rng(0).uniform(-1, 1, 3 * MEL.sample_rate).astype(np.float32)],
                         ids=["clicks", "loud-noise"])
def test_the_numpy_front_end_matches_torch_stft(audio):
    mel = log_mel(audio)
    assert mel.dtype == np.float32 and mel.flags.c_contiguous
    np.testing.assert_allclose(mel, torch_log_mel(audio), atol=TOLERANCE)


def test_musicnn_graph_matches_torch_on_random_and_real_patches(demo_mel):
    onnx_net, torch_net = OnnxMusicnn(INFERENCE.threads), TorchMusicnn(INFERENCE.threads)
    random = np.random.default_rng(1).uniform(0, 4, (3, MEL.patch_frames, MEL.n_mels)).astype(np.float32)
    real = np.stack([demo_mel[s : s + MEL.patch_frames] for s in (0, MEL.patch_frames)])
    for patches in (random, real):
        out = onnx_net(patches)
        assert out.shape == (len(patches), torch_musicnn.POOL_DIM)
        np.testing.assert_allclose(out, torch_net(patches), atol=TOLERANCE)
    assert not np.allclose(onnx_net(real[:1]), onnx_net(real[1:]), atol=1e-3)  # each patch is its own


def test_one_embedder_whatever_the_runtime(monkeypatch):
    """Same id and version on both runtimes, so their vectors must agree: a library analysed with one
    is searched with the other."""
    audio = load_mono(DEMO_LOOP, sr=MEL.sample_rate).samples
    vectors = {}
    for backend in ("torch", "onnx"):
        monkeypatch.setenv(INFERENCE.backend_env, backend)
        vectors[backend] = MusicnnEmbedder().embed(audio)
    assert vectors["onnx"].shape == (2, torch_musicnn.POOL_DIM)
    np.testing.assert_allclose(vectors["onnx"], vectors["torch"], atol=TOLERANCE)
    assert embedder_module.POOL_DIM == torch_musicnn.POOL_DIM


def random_state(module: torch.nn.Module, seed: int) -> dict[str, np.ndarray]:
    gen = torch.Generator().manual_seed(seed)
    return {k: (0.1 * torch.randn(v.shape, generator=gen)).numpy() for k, v in module.state_dict().items()}


@pytest.mark.parametrize("kind,dim,hidden", [("direction", 212, 512), ("direction", 7, 512), ("mlp", 212, 512),
                                             ("mlp", 9, 24)])
def test_translator_graphs_run_any_weights_of_their_kind_as_torch_does(kind, dim, hidden):
    state = random_state(MusicnnTranslator(dim, kind, hidden), seed=dim)
    rng = np.random.default_rng(dim)
    z, log_tau = rng.standard_normal((5, dim)).astype(np.float32), rng.uniform(-1, 1, 5).astype(np.float32)
    out = OnnxTranslatorNet(kind, state).predict(z, log_tau)
    np.testing.assert_allclose(out, MusicnnTranslator.from_state(dim, kind, hidden, state).predict(z, log_tau), atol=TOLERANCE)
    assert np.abs(out - z).max() > 0.01  # the weights did something


def test_the_shipped_translator_and_classifier_agree_across_runtimes(monkeypatch):
    space = TrackSpace.load()
    v = np.random.default_rng(4).standard_normal((6, space.dimension)).astype(np.float32)
    taus = np.array([0.5, 0.8, 1.0, 1.25, 1.6, 2.0])
    out = {}
    for backend in ("torch", "onnx"):
        monkeypatch.setenv(INFERENCE.backend_env, backend)
        out[backend] = Translator.load(space)(v, taus), TempoClassifier.load(space)(v)
    np.testing.assert_allclose(out["onnx"][0], out["torch"][0], atol=TOLERANCE)
    np.testing.assert_allclose(out["onnx"][1][0], out["torch"][1][0], rtol=1e-4)  # BPM
    np.testing.assert_allclose(out["onnx"][1][1], out["torch"][1][1], atol=TOLERANCE)  # probabilities


@pytest.mark.parametrize("hidden", [256, 0])
def test_tempo_classifier_graphs_match_torch(hidden):
    cfg = TempoClassifierConfig(hidden=hidden)
    state = random_state(network(30, cfg.n_classes, hidden, cfg.dropout), seed=hidden)
    vectors = np.random.default_rng(hidden).standard_normal((4, 30)).astype(np.float32)
    p = OnnxTempoNet(hidden > 0, state).predict(vectors)
    assert p.shape == (4, cfg.n_classes)
    np.testing.assert_allclose(p.sum(axis=1), 1.0, rtol=1e-5)
    np.testing.assert_allclose(p, TorchTempoNet.from_state(30, cfg.n_classes, hidden, state).predict(vectors), atol=TOLERANCE)


def test_a_graph_refuses_weights_of_another_architecture():
    with pytest.raises(ValueError, match="needs weights"):
        OnnxTranslatorNet("mlp", {"direction": np.zeros(5, np.float32)})


def test_the_runtime_is_chosen_never_guessed_from_what_is_imported(monkeypatch):
    monkeypatch.delenv(INFERENCE.backend_env, raising=False)
    assert "torch" in sys.modules  # imported by this test module, as by a training script
    assert {inference_backend(n) for n in runtime.NETWORKS} == {"onnx"}  # the configured one, loaded torch or not
    torch_config = dataclasses.replace(INFERENCE, backend="torch")
    assert inference_backend("translator", torch_config) == "torch"
    monkeypatch.setenv(INFERENCE.backend_env, "onnx")
    assert inference_backend("musicnn", torch_config) == "onnx"  # the environment wins over the config
    monkeypatch.setenv(INFERENCE.backend_env, "torch")
    assert {inference_backend(n) for n in runtime.NETWORKS} == {"torch"}
    monkeypatch.setenv(INFERENCE.backend_env, "tensorflow")
    with pytest.raises(BackendUnavailable, match="onnx, torch"):
        inference_backend("musicnn")


def test_a_runtime_that_is_not_installed_is_named_in_words(monkeypatch):
    monkeypatch.setattr(runtime, "_installed", lambda module: module != "torch")
    monkeypatch.setenv(INFERENCE.backend_env, "torch")
    with pytest.raises(BackendUnavailable, match=r"PyTorch is not installed.*similar-but-faster\[training\].*"
                                                 f"unset {INFERENCE.backend_env}"):
        inference_backend("musicnn")
    monkeypatch.setattr(runtime, "_installed", lambda module: module != "onnxruntime")
    monkeypatch.delenv(INFERENCE.backend_env)
    with pytest.raises(BackendUnavailable, match="ONNX Runtime, which runs the networks, is not installed"):
        inference_backend("tempo_classifier")
