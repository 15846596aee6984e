"""Tempo translation f(z, tau): exact on the tempo block, learned on the MusiCNN part."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from engine.models.track_space import TrackSpace
from engine.models.translation import Translator, TranslatorConfig, TranslatorMismatch, shift_tempo_block
from engine.training.translator import fit

K, BINS = 12, 70


@pytest.fixture
def space() -> TrackSpace:
    rng = np.random.default_rng(0)
    return TrackSpace.fit(rng.standard_normal((50, 20)).astype(np.float32),
                          rng.random((50, BINS)).astype(np.float32), "test/1")


def synthetic_corpus(space: TrackSpace, seed: int = 0):
    """Pieces whose MusiCNN part moves along a fixed direction with log2 tau (a known truth)."""
    rng = np.random.default_rng(seed)
    taus = np.array([0.5, 0.7, 0.85, 1.0, 1.2, 1.4, 2.0], np.float32)
    direction = rng.standard_normal(space.musicnn_dim).astype(np.float32)
    base = rng.standard_normal((40, space.musicnn_dim)).astype(np.float32)
    z = np.concatenate([b + np.log2(taus)[:, None] * direction for b in base])
    groups = np.repeat(np.arange(len(base)), len(taus))
    return z, groups, np.tile(taus, len(base)), direction


def test_tau_one_is_identity_and_block_shift_is_exact(space):
    rng = np.random.default_rng(1)
    translator = fit(space, *synthetic_corpus(space)[:3], TranslatorConfig("mlp", hidden=32), epochs=3)
    v = rng.standard_normal((4, space.dimension)).astype(np.float32)
    np.testing.assert_allclose(translator(v, 1.0), v, atol=1e-6)
    out = translator(v, 1.25)
    _, block = space.split(v)
    np.testing.assert_allclose(space.split(out)[1], shift_tempo_block(block, 1.25), atol=1e-6)
    assert translator(v[0], 1.25).shape == v[0].shape
    with pytest.raises(ValueError):
        translator(v, 0.0)


@pytest.mark.parametrize("kind", ["direction", "mlp"])
def test_learns_a_known_tempo_direction(space, kind):
    z, groups, taus, direction = synthetic_corpus(space)
    translator = fit(space, z, groups, taus, TranslatorConfig(kind, hidden=64), epochs=30, lr=2e-2)
    probe = np.concatenate([z[groups == 0][3], np.zeros(BINS, np.float32)])  # piece 0 at tau = 1
    moved, _ = space.split(translator(probe, 2.0))
    truth = z[groups == 0][6]
    untranslated_error = np.linalg.norm(z[groups == 0][3] - truth)
    assert np.linalg.norm(moved - truth) < 0.2 * untranslated_error


def test_save_load_round_trip_and_refuses_another_space(space, tmp_path):
    z, groups, taus, _ = synthetic_corpus(space)
    translator = fit(space, z, groups, taus, TranslatorConfig("mlp", hidden=16), epochs=2)
    path = tmp_path / "t.safetensors"
    translator.save(path)
    v = np.random.default_rng(2).standard_normal(space.dimension).astype(np.float32)
    np.testing.assert_allclose(Translator.load(space, path)(v, 1.4), translator(v, 1.4), atol=1e-6)
    other = dataclasses.replace(space, block_weight=space.block_weight * 2)
    with pytest.raises(TranslatorMismatch, match="retrain"):
        Translator.load(other, path)


def test_public_api_translates_one_vector_or_a_batch():
    import engine
    from engine.models.track_space import TrackSpace

    space = TrackSpace.load()
    rng = np.random.default_rng(3)
    batch = rng.standard_normal((3, space.dimension)).astype(np.float32)
    out = engine.translate(batch, np.array([0.5, 1.0, 2.0]))
    assert out.shape == batch.shape
    np.testing.assert_allclose(out[1], batch[1], atol=1e-6)
    np.testing.assert_allclose(engine.translate(batch[0], 0.5), out[0], atol=1e-6)
