"""The track space: each part normalised on its own, so the tempo block weighs the same on any material."""

from __future__ import annotations

import json

import numpy as np
import pytest
from safetensors.numpy import save_file

from engine.models.track_space import TrackSpace


def fitted(weight: float = 1.5) -> TrackSpace:
    rng = np.random.default_rng(0)
    return TrackSpace.fit(rng.standard_normal((200, 12)).astype(np.float32),
                          np.abs(rng.standard_normal((200, 70))).astype(np.float32), "synthetic/1", weight, "test data")


def test_the_block_weighs_the_same_on_material_far_from_the_fitted_statistics():
    space = fitted(1.5)
    rng = np.random.default_rng(1)
    block = np.abs(rng.standard_normal(70)).astype(np.float32) * space.block_norm / np.sqrt(70)
    block *= space.block_norm / np.linalg.norm(block)  # a typical block
    near = rng.standard_normal((3, 12)).astype(np.float32)
    far = 4.0 * near + 3.0  # produced music: twice as far from the renders' mean, and more
    for patches in (near, far):
        z, b = space.split(space.vector(patches, block))
        assert np.linalg.norm(z) == pytest.approx(1.0, rel=1e-5)
        assert np.linalg.norm(b) == pytest.approx(1.5, rel=1e-5)


def test_the_identity_names_the_calibration_and_changes_with_it(tmp_path):
    space = fitted()
    path = tmp_path / "space.safetensors"
    space.save(path)
    again = TrackSpace.load(path)
    assert again.fingerprint == space.fingerprint and "test data" in again.identity
    assert space.with_block_weight(2.0).fingerprint != space.fingerprint


def test_a_space_of_the_old_layout_is_refused_with_the_way_out(tmp_path):
    path = tmp_path / "old.safetensors"
    about = {"block_norm": 0.66, "block_weight": 1.0, "embedder": "synthetic/1", "block_bins": 70}
    save_file({"mean": np.zeros(12, np.float32), "std": np.ones(12, np.float32), "keep": np.arange(12)},
              str(path), metadata={"about": json.dumps(about)})
    with pytest.raises(ValueError, match="measure_track_vector"):
        TrackSpace.load(path)
