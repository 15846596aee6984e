"""The PyTorch port reproduces the original TensorFlow MusiCNN (reference outputs made once with TF)."""

import hashlib
from pathlib import Path

import numpy as np
import pytest
import torch

from engine.analysis.mel import log_mel
from engine.models.torch_musicnn import load_musicnn, weights_path
from engine.models.tf_checkpoint import CheckpointError, read_checkpoint

FIXTURE = Path(__file__).parent / "fixtures" / "musicnn_reference.npz"
TOLERANCE = 1e-4


@pytest.fixture(scope="module")
def reference():
    return dict(np.load(FIXTURE))


def test_log_mel_matches_librosa_reference(reference):
    mel = log_mel(reference["audio"])
    assert mel.shape == reference["mel"].shape
    np.testing.assert_allclose(mel, reference["mel"], atol=TOLERANCE)


def test_loud_audio_stays_finite():
    mel = log_mel(np.ones(16000, dtype=np.float32) * 1.0)
    assert np.isfinite(mel).all()


@pytest.mark.parametrize("model", ["MSD_musicnn", "MTT_musicnn"])
def test_port_matches_tensorflow(reference, model):
    net = load_musicnn(model)
    mel = log_mel(reference["audio"])
    patches = torch.from_numpy(np.stack([mel[s : s + 187] for s in range(0, len(mel) - 186, 187)]))
    with torch.inference_mode():
        out = net(patches)
    for name in ("mean_pool", "penultimate", "tags"):
        np.testing.assert_allclose(getattr(out, name).numpy(), reference[f"{model}/{name}"], atol=TOLERANCE, err_msg=name)
    # max_pool reaches ~100: compare relative to its scale
    np.testing.assert_allclose(out.max_pool.numpy(), reference[f"{model}/max_pool"], rtol=1e-5, atol=TOLERANCE)


def test_every_patch_is_computed(reference):
    """Upstream's penultimate output repeats patch 0; ours must differ between different patches."""
    net = load_musicnn()
    mel = torch.from_numpy(log_mel(reference["audio"]))
    with torch.inference_mode():
        out = net(torch.stack([mel[:187], mel[187:374]]))
    assert not torch.allclose(out.penultimate[0], out.penultimate[1], atol=1e-3)


def test_shipped_weights_are_reproduced_bit_for_bit_from_the_wheel(tmp_path):
    from scripts.convert_musicnn_weights import MODELS, convert

    for model in MODELS:
        made = convert(model, tmp_path)
        assert hashlib.sha256(made.read_bytes()).digest() == hashlib.sha256(weights_path(model).read_bytes()).digest()


def test_checkpoint_reader_rejects_garbage(tmp_path):
    (tmp_path / "x.index").write_bytes(b"not a checkpoint" * 10)
    with pytest.raises(CheckpointError):
        read_checkpoint(tmp_path / "x")
