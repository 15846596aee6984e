"""Issue 17: the tempo estimate's tempogram (most of its cost) is computed only when the estimate needs it.

A file that the tempo block already shows to be a one-shot (no periodic onsets, nothing declared) is
settled without it; every other file gets the very same evidence, and so the very same estimate.
"""

from __future__ import annotations

import pickle

import numpy as np
import pytest

from engine.analysis import tempo as tempo_module
from engine.analysis.tempo import ONE_SHOT, SignalEvidence, estimate_tempo, signal_evidence
from tests.conftest import SR, click_track


def crash(seconds: float = 2.5) -> np.ndarray:
    """A single noisy hit with a long tail: longer than a beat, but one onset only."""
    t = np.arange(int(seconds * SR)) / SR
    return (np.random.default_rng(1).standard_normal(t.size) * np.exp(-t * 2.0)).astype(np.float32)


@pytest.fixture
def tempogram_calls(monkeypatch):
    calls = []
    original = tempo_module._mean_tempogram

    def counted(*args, **kwargs):
        calls.append(1)
        return original(*args, **kwargs)

    monkeypatch.setattr(tempo_module, "_mean_tempogram", counted)
    return calls


def test_a_one_shot_is_settled_without_the_tempogram(tempogram_calls):
    signal = signal_evidence(crash(), SR)
    estimate = estimate_tempo(2.5, signal)
    assert estimate.bpm is None and estimate.source == ONE_SHOT
    assert not signal.computed and tempogram_calls == []


def test_a_loop_computes_it_once_and_gets_what_an_eager_computation_gives(tempogram_calls):
    audio = click_track(124.0, 4 * 240.0 / 124.0)
    lazy = signal_evidence(audio, SR)
    estimate = estimate_tempo(audio.size / SR, lazy)
    assert lazy.computed and len(tempogram_calls) == 1
    eager = SignalEvidence(lazy.bpm, signal_evidence(audio, SR).strength, lazy.periodicity)
    assert estimate == estimate_tempo(audio.size / SR, eager)
    assert estimate.bpm == pytest.approx(124.0, rel=0.04)
    lazy.strength
    assert len(tempogram_calls) == 2  # the second signal_evidence above; the first one's is kept


def test_a_declared_tempo_still_reads_the_sound(tempogram_calls):
    from engine.analysis.tempo_tags import TempoCandidate

    audio = click_track(128.0, 7.5)
    signal = signal_evidence(audio, SR)
    estimate = estimate_tempo(7.5, signal, declared=[TempoCandidate(64.0, 1.0, "filename")])
    assert estimate.bpm == 64.0 and signal.computed and len(tempogram_calls) == 1


def test_evidence_can_still_be_given_as_arrays():
    axis = np.geomspace(10, 1200, 50)
    evidence = SignalEvidence(axis, np.zeros_like(axis), 0.0)
    assert evidence.computed and evidence.strength.shape == axis.shape


def test_evidence_pickles_with_its_strength():
    audio = click_track(124.0, 4 * 240.0 / 124.0)
    lazy = signal_evidence(audio, SR)
    copy = pickle.loads(pickle.dumps(lazy))
    assert copy.computed and lazy.computed and copy.periodicity == lazy.periodicity
    np.testing.assert_array_equal(copy.strength, lazy.strength)
    np.testing.assert_array_equal(copy.bpm, lazy.bpm)
