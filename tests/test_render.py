"""Stretched copies for the tempo-locked preview and the stretched drag: right length, cached, safe."""

from __future__ import annotations

import os

import librosa
import numpy as np
import pytest
import soundfile as sf

from engine.audio.decode import AudioError, content_hash
from engine.config import LIMITS
from engine.audio.stretched import RenderError, load_stretched, render_stretched, stretched_audio
from tests.conftest import SR, click_track, write


@pytest.fixture
def loop(tmp_path):
    """Four seconds at 120 BPM: eight beats."""
    return write(tmp_path / "samples" / "Break_120bpm.wav", click_track(120, 4.0))


@pytest.mark.parametrize("tau", [1.25, 0.8])
def test_a_faster_tempo_is_shorter_and_at_that_tempo(loop, tau):
    samples, sr = stretched_audio(loop, tau)
    assert sr == SR and samples.dtype == np.float32
    assert len(samples) / sr == pytest.approx(4.0 / tau, rel=0.01)
    assert librosa.feature.tempo(y=samples, sr=sr)[0] == pytest.approx(120 * tau, rel=0.04)


def test_tau_one_is_the_file_itself(loop):
    samples, sr = stretched_audio(loop, 1.0)
    np.testing.assert_allclose(samples, sf.read(loop, dtype="float32")[0], atol=1e-4)


def test_a_render_is_named_for_its_tempo_and_made_once(loop, tmp_path):
    cache = tmp_path / "cache"
    first = render_stretched(loop, 128 / 120, cache, label="128 BPM")
    assert first.name == "Break_120bpm @ 128 BPM.wav"
    assert first.is_relative_to(cache) and not first.is_relative_to(loop.parent)
    info = sf.info(first)
    assert info.samplerate == SR and info.duration == pytest.approx(4.0 * 120 / 128, rel=0.01)
    stamp = first.stat().st_mtime_ns
    renamed = loop.rename(loop.with_name("renamed.wav"))
    again = render_stretched(renamed, 128 / 120, cache, label="128 BPM")
    assert again.parent == first.parent and first.stat().st_mtime_ns == stamp  # same sound: not rendered again
    other = render_stretched(renamed, 1.5, cache)
    assert other.name == "renamed @ x1.50.wav" and other.parent != first.parent
    assert not [p for p in cache.rglob("*") if p.name.startswith(".rendering-")]  # no temporary file left


def test_an_edited_sound_gets_a_new_copy(loop, tmp_path):
    cache = tmp_path / "cache"
    first = render_stretched(loop, 1.25, cache)
    write(loop, click_track(90, 4.0))
    second = render_stretched(loop, 1.25, cache)
    assert second.parent != first.parent


def test_a_broken_file_is_a_clear_error(tmp_path):
    bad = tmp_path / "notes.wav"
    bad.write_text("this is not audio\n" * 50)
    with pytest.raises(AudioError, match="notes.wav: "):
        render_stretched(bad, 1.5, tmp_path / "cache")
    assert not (tmp_path / "cache").exists() or not any((tmp_path / "cache").rglob("*.wav"))


def test_a_ratio_must_be_positive(loop, tmp_path):
    for tau in (0.0, -1.0, float("nan")):
        with pytest.raises(ValueError, match="positive"):
            render_stretched(loop, tau, tmp_path / "cache")


def test_a_cache_that_cannot_be_written_is_a_render_error(loop, tmp_path):
    cache = tmp_path / "cache"
    cache.write_text("a file where the cache folder should be")
    with pytest.raises(RenderError, match="cannot write the stretched copy"):
        render_stretched(loop, 1.5, cache)


def test_an_edit_the_content_hash_does_not_sample_still_gets_a_new_copy(tmp_path):
    """The content hash reads only the start, middle and end of a large file (it is for pairing moved
    files); an edit in place between those regions changes the modification time, and so the copy."""
    chunk = LIMITS.hash_chunk_bytes
    seconds = 4 * chunk / 4 / SR  # 32-bit PCM (no PEAK chunk to change): over three chunks, sampled
    audio = click_track(120, seconds)
    path = tmp_path / "long_120bpm.wav"
    sf.write(path, audio, SR, subtype="PCM_32")
    size = path.stat().st_size
    unread = (chunk + (size - chunk) // 2) // 2 // 4  # a sample between the start and middle regions the hash reads
    first = render_stretched(path, 1.25, tmp_path / "cache")
    hash_before = content_hash(path)
    stamp = path.stat().st_mtime_ns

    audio[unread - 100 : unread + 100] = 0.9  # a loud blip, the same length: the file's size stays
    sf.write(path, audio, SR, subtype="PCM_32")
    os.utime(path, ns=(stamp, stamp + 1_000_000_000))  # saved a second later, whatever the clock's grain
    assert content_hash(path) == hash_before and path.stat().st_size == size  # the hash cannot tell
    second = render_stretched(path, 1.25, tmp_path / "cache")
    assert second.parent != first.parent
    assert not np.array_equal(sf.read(second, dtype="float32")[0], sf.read(first, dtype="float32")[0])


def test_a_copy_reads_back_as_it_was_written(loop, tmp_path):
    copy = render_stretched(loop, 0.8, tmp_path / "cache")
    samples, sr = load_stretched(copy)
    expected, _ = stretched_audio(loop, 0.8)
    assert sr == SR and samples.dtype == np.float32
    np.testing.assert_array_equal(samples, expected)
    copy.unlink()
    with pytest.raises(AudioError, match="stretched copy is gone"):
        load_stretched(copy)
