"""The tempo classifier: it reads a tempo block, survives a save/load, and refuses a foreign track space."""

from __future__ import annotations

import numpy as np
import pytest

from engine.config import INFERENCE, TEMPO_BLOCK
from engine.models.track_space import TrackSpace
from engine.models.tempo_classifier import LearnedBelief, TempoClassifier, TempoClassifierConfig, TempoClassifierMismatch
from engine.training.tempo_classifier import fit

SMALL = TempoClassifierConfig(hidden=64, dropout=0.0)


def synthetic(rng: np.random.Generator, n: int, dim: int = 16) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Track means (n, dim) of noise, tempo blocks (n, n_bins) with a peak at each file's tempo, BPM (n,)."""
    bpm = np.exp(rng.uniform(np.log(60.0), np.log(200.0), n))
    position = TEMPO_BLOCK.bins_per_octave * np.log2(bpm / TEMPO_BLOCK.bpm_min)
    bins = np.arange(TEMPO_BLOCK.n_bins)
    blocks = 0.6 * np.exp(-0.5 * (bins[None, :] - position[:, None]) ** 2) + 0.02 * rng.random((n, TEMPO_BLOCK.n_bins))
    return rng.normal(size=(n, dim)), blocks, bpm


@pytest.fixture(scope="module")
def space_and_data():
    rng = np.random.default_rng(0)
    means, blocks, bpm = synthetic(rng, 600)
    space = TrackSpace.fit(means, blocks, "synthetic/1")
    return space, space.vector(means[:, None, :], blocks), bpm


@pytest.fixture(scope="module")
def trained(space_and_data):
    space, vectors, bpm = space_and_data
    return fit(space, lambda epoch, rng: (vectors, bpm), SMALL, epochs=60, seed=0)


def test_reads_tempo_from_the_block_on_unseen_files(space_and_data, trained):
    space, _, _ = space_and_data
    means, blocks, bpm = synthetic(np.random.default_rng(1), 200)
    estimate, probabilities = trained(space.vector(means[:, None, :], blocks))
    assert probabilities.shape == (200, SMALL.n_classes)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-5)
    within = np.abs(np.log(estimate / bpm)) <= np.log(1.04)
    assert within.mean() >= 0.9


def test_untrained_classifier_does_not_read_tempo(space_and_data):
    """The check above can fail: without training the answers are nowhere near the labels."""
    space, vectors, bpm = space_and_data
    estimate, _ = TempoClassifier.untrained(space, SMALL)(vectors)
    assert (np.abs(np.log(estimate / bpm)) <= np.log(1.04)).mean() < 0.3


def test_save_load_round_trip(tmp_path, space_and_data, trained, monkeypatch):
    monkeypatch.setenv(INFERENCE.backend_env, "torch")  # the runtime it was trained on: the same to float rounding
    space, vectors, _ = space_and_data
    path = tmp_path / "clf.safetensors"
    trained.save(path, {"trained_on": "synthetic"})
    loaded = TempoClassifier.load(space, path)
    assert loaded.cfg == SMALL
    assert loaded.about["trained_on"] == "synthetic"
    bpm_a, p_a = trained(vectors[:5])
    bpm_b, p_b = loaded(vectors[:5])
    np.testing.assert_allclose(p_a, p_b, rtol=1e-6)
    single_bpm, single_p = loaded(vectors[0])
    assert single_bpm == pytest.approx(bpm_b[0]) and single_p.shape == (SMALL.n_classes,)


def test_refuses_another_track_space(tmp_path, space_and_data, trained):
    space, _, _ = space_and_data
    path = tmp_path / "clf.safetensors"
    trained.save(path)
    other = space.with_block_weight(space.block_weight * 2)
    with pytest.raises(TempoClassifierMismatch, match="retrain"):
        TempoClassifier.load(other, path)


def test_classes_span_30_to_300_bpm_in_sixteenths_of_an_octave():
    centres = TempoClassifierConfig().centres()
    assert centres[0] == pytest.approx(30.0) and 280 < centres[-1] <= 300.0
    np.testing.assert_allclose(np.diff(np.log2(centres)), 1 / 16)


@pytest.mark.parametrize("believed", [90.0, 180.0])
def test_the_classifiers_vote_settles_an_octave_the_sound_cannot(believed):
    """Clicks at 180 BPM are also periodic at 90: the classifier's belief picks the octave."""
    from engine.analysis.tempo import estimate_tempo, signal_evidence
    from tests.conftest import SR, click_track

    clicks = click_track(180.0, 10.0)
    signal = signal_evidence(clicks, SR)
    centres = TempoClassifierConfig().centres()
    belief = LearnedBelief(centres, (np.abs(np.log(centres / believed)) < 0.02).astype(float))
    estimate = estimate_tempo(10.0, signal, learned=belief)
    assert abs(np.log(estimate.bpm / believed)) < np.log(1.04)


def test_a_scan_asks_the_shipped_classifier_only_for_its_own_embedder():
    from engine.analysis.pipeline import learned_tempo
    from engine.analysis.embedding import MusicnnEmbedder

    space = TrackSpace.load()
    patches, block = np.zeros((2, MusicnnEmbedder.dimension), np.float32), np.zeros(space.block_bins, np.float32)

    class Other:
        id, version = "another-model", "1"

    belief = learned_tempo(MusicnnEmbedder, patches, block)
    assert belief is not None and belief.probabilities.sum() == pytest.approx(1.0, abs=1e-5)
    assert learned_tempo(Other, patches, block) is None
