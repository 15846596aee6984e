"""The tempo block: a click track peaks at its tempo, and a tempo change is a shift of the block."""

from __future__ import annotations

import librosa
import numpy as np
import pytest
import soundfile as sf

from engine.config import TEMPO_BLOCK
from engine.analysis.tempo_block import compute_tempo_block
from engine.models.translation import shift_tempo_block
from tests.conftest import click_track, tone, write

SR = 16_000  # what the pipeline passes
GRID = np.array(TEMPO_BLOCK.bpm_grid())
BIN_120 = 32  # 30 * 2 ** (32 / 16) = 120 BPM exactly


def cosine(a: np.ndarray, b: np.ndarray) -> float:
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))


def bin_of(bpm: float) -> float:
    return TEMPO_BLOCK.bins_per_octave * np.log2(bpm / TEMPO_BLOCK.bpm_min)


def drum_loop(bpm: float, seconds: float, sr: int = SR) -> np.ndarray:
    """Low kick on beats 1 and 3, a snare-pitched click on 2 and 4, quieter hi-hat clicks on eighths."""
    beat = 60.0 / bpm
    n = int(round(seconds * sr))
    kick = librosa.clicks(times=np.arange(0, seconds, 2 * beat), sr=sr, length=n, click_freq=80, click_duration=0.15)
    snare = librosa.clicks(times=np.arange(beat, seconds, 2 * beat), sr=sr, length=n, click_freq=1500, click_duration=0.08)
    hats = librosa.clicks(times=np.arange(0, seconds, beat / 2), sr=sr, length=n, click_freq=7000, click_duration=0.03)
    noise = 0.01 * np.random.default_rng(0).standard_normal(n)
    return (0.5 * (kick + snare + 0.4 * hats) + noise).astype(np.float32)


@pytest.fixture(scope="module")
def click_blocks() -> dict[int, np.ndarray]:
    """Blocks of 20 s click tracks rendered at 120 and 150 BPM (not stretched from one another)."""
    return {bpm: compute_tempo_block(click_track(bpm, 20.0, SR), SR) for bpm in (120, 150)}


def test_click_track_peaks_at_its_tempo_and_at_whole_beat_multiples(click_blocks):
    block = click_blocks[120]
    assert block.shape == (TEMPO_BLOCK.n_bins,) and block.dtype == np.float32
    assert np.argmax(block) == BIN_120
    # Clicks only on the beat: the autocorrelation also peaks at lags of 2, 3 and 4 beats (60, 40 and
    # 30 BPM), never at a fraction of the beat, so nothing faster than 120 BPM lights up.
    lit = np.flatnonzero(block > 0.05 * block.max())
    allowed = [bin_of(bpm) for bpm in (120, 60, 40, 30)]
    assert all(min(abs(i - a) for a in allowed) <= 1 for i in lit)
    assert np.all(block[GRID > 127] < 0.05 * block.max())


def test_tempo_change_is_a_shift_of_the_block(click_blocks):
    b120, b150 = click_blocks[120], click_blocks[150]
    steps = np.arange(-10.0, 10.0, 0.05)
    aligned = [cosine(shift_tempo_block(b120, 2.0 ** (s / TEMPO_BLOCK.bins_per_octave)), b150) for s in steps]
    assert abs(steps[int(np.argmax(aligned))] - TEMPO_BLOCK.shift_steps(1.25)) < 0.25

    shifted = shift_tempo_block(b120, 1.25)
    assert cosine(shifted, b150) > 0.8
    assert cosine(shifted, b150) > cosine(b120, b150) + 0.5


def test_shift_moves_values_towards_faster_tempi():
    block = np.zeros(TEMPO_BLOCK.n_bins, dtype=np.float32)
    block[BIN_120] = 1.0
    assert np.argmax(shift_tempo_block(block, 2.0)) == BIN_120 + TEMPO_BLOCK.bins_per_octave
    assert np.argmax(shift_tempo_block(block, 0.5)) == BIN_120 - TEMPO_BLOCK.bins_per_octave
    half_step = shift_tempo_block(block, 2.0 ** (0.5 / TEMPO_BLOCK.bins_per_octave))
    np.testing.assert_allclose(half_step[BIN_120 : BIN_120 + 2], [0.5, 0.5])


@pytest.mark.parametrize("first", [2.0 ** (5 / 16), 2.0 ** (-5 / 16)])
def test_whole_step_shift_and_back_returns_the_block_away_from_the_edges(click_blocks, first):
    block = click_blocks[150]
    back = shift_tempo_block(shift_tempo_block(block, first), 1.0 / first)
    interior = slice(0, -5) if first > 1 else slice(5, None)  # the 5 bins pushed off the grid are lost
    np.testing.assert_allclose(back[interior], block[interior], atol=1e-6)


def test_fractional_shift_and_back_only_blurs_slightly(click_blocks):
    block = click_blocks[120]
    back = shift_tempo_block(shift_tempo_block(block, 1.25), 0.8)
    interior = slice(0, -6)
    assert cosine(back[interior], block[interior]) > 0.95
    assert np.argmax(back) == np.argmax(block)


def test_shift_works_on_batches_with_one_tau_per_item():
    rng = np.random.default_rng(0)
    blocks = rng.random((2, 3, TEMPO_BLOCK.n_bins)).astype(np.float32)
    taus = np.array([0.7, 1.0, 1.6])
    out = shift_tempo_block(blocks, taus)
    assert out.shape == (2, 3, TEMPO_BLOCK.n_bins) and out.dtype == np.float32
    for i in range(2):
        for j in range(3):
            np.testing.assert_allclose(out[i, j], shift_tempo_block(blocks[i, j], taus[j]), atol=1e-6)
    np.testing.assert_allclose(out[:, 1], blocks[:, 1], atol=1e-6)  # tau 1 changes nothing

    one_block_many_tempi = shift_tempo_block(blocks[0, 0], np.array([[0.5], [2.0]]))
    assert one_block_many_tempi.shape == (2, 1, TEMPO_BLOCK.n_bins)
    assert shift_tempo_block(blocks, np.array([[0.5], [2.0]])).shape == (2, 3, TEMPO_BLOCK.n_bins)


@pytest.mark.parametrize(
    "audio",
    [
        pytest.param(np.zeros(10 * SR, dtype=np.float32), id="silence"),
        pytest.param(click_track(120, 0.2, SR), id="0.2 s blip"),
        pytest.param(tone(220, 5.0, SR), id="steady tone"),
    ],
)
def test_no_tempo_evidence_gives_a_zero_block(audio):
    block = compute_tempo_block(audio, SR)
    assert block.shape == (TEMPO_BLOCK.n_bins,) and block.dtype == np.float32
    assert np.all(block == 0.0)


@pytest.mark.parametrize("bpm", [120, 150])
def test_a_one_bar_loop_has_the_clear_peak_of_a_long_render(tmp_path, bpm):
    """2 s at 120 BPM; 1.6 s at 150 BPM is shorter than the 2 s lag of 30 BPM, which must wrap round the loop."""
    path = write(tmp_path / f"loop_{bpm}bpm.wav", drum_loop(bpm, 240.0 / bpm), SR)  # 16-bit, as on disk
    loop, sr = sf.read(path, dtype="float32")
    block = compute_tempo_block(loop, sr)

    peak = int(round(bin_of(bpm)))
    assert np.argmax(block) == peak
    # Kick to kick is two beats and hats are on eighths, so octaves of the tempo are periodic too;
    # every tempo off that ladder stays well below the peak.
    octaves = [peak + k * TEMPO_BLOCK.bins_per_octave for k in (-2, -1, 0, 1)]
    off_ladder = [i for i in range(TEMPO_BLOCK.n_bins) if min(abs(i - o) for o in octaves) > 1]
    assert block[off_ladder].max() < block[peak] / 3
    long_render = compute_tempo_block(drum_loop(bpm, 20.0), SR)
    assert cosine(block, long_render) > 0.97


def test_block_ignores_gain_and_sample_rate():
    reference = compute_tempo_block(click_track(150, 10.0, SR), SR)
    quiet = compute_tempo_block(0.01 * click_track(150, 10.0, SR), SR)
    np.testing.assert_allclose(quiet, reference, atol=1e-3)
    at_44k = compute_tempo_block(click_track(150, 10.0, 44_100), 44_100)
    assert cosine(at_44k, reference) > 0.98


def test_bad_inputs_are_refused_in_words():
    with pytest.raises(ValueError, match="mono"):
        compute_tempo_block(np.zeros((2, 4 * SR), dtype=np.float32), SR)
    with pytest.raises(ValueError, match="positive"):
        shift_tempo_block(np.zeros(TEMPO_BLOCK.n_bins), 0.0)
    with pytest.raises(ValueError, match="70 values"):
        shift_tempo_block(np.zeros(12), 1.5)
