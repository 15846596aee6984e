"""Audio I/O: every format decodes to the right mono signal, and every kind of bad file is refused in words."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
import soundfile as sf

from engine.audio import decode as audio
from engine.audio.decode import (
    AudioError,
    FileVanished,
    content_hash,
    format_duration,
    is_audio_path,
    load_mono,
    probe,
)
from engine.config import AudioLimits

SR_IN = 44_100
SR_OUT = 16_000
TONE_HZ = 440.0

# (file name, soundfile format, subtype, lossy)
FORMATS = [
    ("tone.wav", "WAV", "PCM_16", False),
    ("tone.flac", "FLAC", "PCM_16", False),
    ("tone.aiff", "AIFF", "PCM_16", False),
    ("tone.ogg", "OGG", "VORBIS", True),
    ("tone.mp3", "MP3", "MPEG_LAYER_III", True),
]


def stereo_tone(seconds: float = 2.0) -> np.ndarray:
    """440 Hz at amplitude 0.6 left and 0.2 right: the mean of the channels has amplitude 0.4."""
    t = np.arange(int(seconds * SR_IN)) / SR_IN
    tone = np.sin(2 * np.pi * TONE_HZ * t)
    return np.stack([0.6 * tone, 0.2 * tone], axis=1).astype(np.float32)


def ramp(seconds: float, sr: int) -> np.ndarray:
    """Mono signal whose value tells where in the file it was read from."""
    return np.linspace(-0.9, 0.9, int(seconds * sr), dtype=np.float32)


@pytest.fixture
def wav_20s(tmp_path):
    path = tmp_path / "ramp.wav"
    sf.write(path, ramp(20.0, SR_OUT), SR_OUT, subtype="FLOAT")
    return path


@pytest.fixture
def tone_wav(tmp_path):
    path = tmp_path / "tone.wav"
    sf.write(path, stereo_tone(), SR_IN, subtype="PCM_16")
    return path


def reason_of(call, *args, **kwargs) -> str:
    with pytest.raises(AudioError) as caught:
        call(*args, **kwargs)
    return caught.value.reason


@pytest.mark.parametrize(("name", "fmt", "subtype", "lossy"), FORMATS, ids=[f[1] for f in FORMATS])
def test_each_format_decodes_to_mono_16k(tmp_path, name, fmt, subtype, lossy):
    path = tmp_path / name
    try:
        sf.write(path, stereo_tone(), SR_IN, format=fmt, subtype=subtype)
    except sf.LibsndfileError as err:
        pytest.skip(f"this libsndfile cannot write {fmt}: {err}")

    info = probe(path)
    assert (info.format, info.subtype, info.sample_rate, info.channels) == (fmt, subtype, SR_IN, 2)
    assert info.size_bytes == path.stat().st_size
    assert info.duration_s == pytest.approx(2.0, abs=0.05 if lossy else 1e-9)

    decoded = load_mono(path)
    samples = decoded.samples
    assert (decoded.sample_rate, samples.dtype, samples.ndim, decoded.excerpted) == (SR_OUT, np.float32, 1, False)
    assert decoded.duration_s == pytest.approx(2.0, abs=0.05 if lossy else 1e-9)
    assert len(samples) == pytest.approx(2 * SR_OUT, abs=0.05 * SR_OUT if lossy else 0)
    spectrum = np.abs(np.fft.rfft(samples))
    assert np.fft.rfftfreq(len(samples), 1 / SR_OUT)[spectrum.argmax()] == pytest.approx(TONE_HZ, abs=1.0)
    # Mean of 0.6 and 0.2 amplitude channels: a sine of amplitude 0.4, RMS 0.4 / sqrt(2).
    body = samples[SR_OUT // 4 : -SR_OUT // 4]  # away from codec priming and resampler edges
    assert np.sqrt(np.mean(body**2)) == pytest.approx(0.4 / np.sqrt(2), rel=0.1 if lossy else 0.01)
    assert not decoded.is_silent


def test_channels_are_averaged_not_picked(tmp_path):
    path = tmp_path / "phase.wav"
    tone = stereo_tone()[:, 0]
    sf.write(path, np.stack([tone, -tone], axis=1), SR_IN, subtype="FLOAT")
    decoded = load_mono(path)
    assert decoded.is_silent  # opposite polarities cancel in the mean
    assert len(decoded.samples) == 2 * SR_OUT


def test_digital_silence_is_returned_and_flagged(tmp_path):
    path = tmp_path / "silence.wav"
    sf.write(path, np.zeros(SR_IN, dtype=np.int16), SR_IN, subtype="PCM_16")
    decoded = load_mono(path)
    assert decoded.is_silent
    assert len(decoded.samples) == SR_OUT


def test_reading_in_small_blocks_changes_nothing(tone_wav):
    whole = load_mono(tone_wav).samples
    blocky = load_mono(tone_wav, limits=AudioLimits(decode_block_samples=1000)).samples
    np.testing.assert_array_equal(blocky, whole)


def test_long_file_is_read_as_evenly_spread_slices(wav_20s):
    limits = AudioLimits(excerpt_slice_seconds=0.5)
    decoded = load_mono(wav_20s, sr=SR_OUT, max_seconds=2.0, limits=limits)
    assert decoded.excerpted
    assert decoded.duration_s == pytest.approx(20.0)
    # 4 slices of 0.5 s, each centred in its quarter of the file: at 2.5, 7.5, 12.5 and 17.5 s.
    source = ramp(20.0, SR_OUT)
    half = SR_OUT // 4
    expected = np.concatenate([source[int(c * SR_OUT) - half : int(c * SR_OUT) + half] for c in (2.5, 7.5, 12.5, 17.5)])
    np.testing.assert_array_equal(decoded.samples, expected)


def test_long_file_excerpt_is_resampled(tmp_path):
    path = tmp_path / "long.flac"
    sf.write(path, np.tile(stereo_tone(1.0), (6, 1)), SR_IN)
    decoded = load_mono(path, max_seconds=2.0, limits=AudioLimits(excerpt_slice_seconds=0.5))
    assert decoded.excerpted
    assert len(decoded.samples) == 2 * SR_OUT
    assert decoded.duration_s == pytest.approx(6.0)


def test_file_within_budget_is_read_whole(wav_20s):
    decoded = load_mono(wav_20s, max_seconds=30.0)
    assert not decoded.excerpted
    np.testing.assert_array_equal(decoded.samples, ramp(20.0, SR_OUT))


def test_empty_file(tmp_path):
    path = tmp_path / "kick_03.wav"
    path.touch()
    with pytest.raises(AudioError) as caught:
        probe(path)
    assert str(caught.value) == "kick_03.wav: empty file (0 bytes)"
    assert caught.value.path == path


def test_text_file_named_wav(tmp_path):
    path = tmp_path / "loop.wav"
    path.write_text("These are my lyrics, not a loop.\n" * 20)
    assert reason_of(probe, path) == "not an audio file or an unsupported format"
    assert reason_of(load_mono, path) == "not an audio file or an unsupported format"


@pytest.mark.parametrize("keep", ["half", "header"])
def test_truncated_wav(tone_wav, keep):
    data = tone_wav.read_bytes()
    tone_wav.write_bytes(data[: len(data) // 2] if keep == "half" else data[:44])
    assert reason_of(probe, tone_wav) == "file is truncated or damaged"
    assert reason_of(load_mono, tone_wav) == "file is truncated or damaged"


def test_unfinalised_wav_header_is_accepted(tone_wav):
    # Recorders writing to a pipe or killed mid-take leave 0xFFFFFFFF as the data size: the audio is all there.
    data = bytearray(tone_wav.read_bytes())
    size_at = data.index(b"data") + 4
    data[size_at : size_at + 4] = b"\xff\xff\xff\xff"
    tone_wav.write_bytes(data)
    assert probe(tone_wav).duration_s == pytest.approx(2.0)


def test_truncated_aiff(tmp_path):
    path = tmp_path / "take.aiff"
    sf.write(path, stereo_tone(), SR_IN, subtype="PCM_24")
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    assert reason_of(probe, path) == "file is truncated or damaged"


def test_truncated_flac_is_caught_when_decoding(tmp_path):
    path = tmp_path / "take.flac"
    sf.write(path, stereo_tone(), SR_IN)
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    probe(path)  # FLAC's header states the length of the stream, not of the file
    assert reason_of(load_mono, path) == "file is truncated or damaged"


def test_wav_with_no_frames(tmp_path):
    path = tmp_path / "blank.wav"
    sf.write(path, np.zeros((0, 2)), SR_IN)
    assert reason_of(probe, path) == "contains no audio (0 samples)"


def test_too_short(tmp_path):
    path = tmp_path / "tick.wav"
    sf.write(path, np.ones(160, dtype=np.float32), SR_OUT)  # 10 ms
    assert reason_of(probe, path) == "too short (0.01 s): less than the 0.05 s minimum"


def test_too_long(wav_20s):
    with pytest.raises(AudioError) as caught:
        probe(wav_20s, limits=AudioLimits(max_file_seconds=10.0))
    assert str(caught.value) == "ramp.wav: 20 s long: longer than the 10 s limit"
    assert reason_of(load_mono, wav_20s, limits=AudioLimits(max_file_seconds=10.0)).endswith("the 10 s limit")


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0.02, "0.02 s"), (12.5, "12.5 s"), (200, "3 min 20 s"), (180, "3 min"), (3 * 3600 + 12 * 60, "3 h 12 min"), (4 * 3600, "4 h")],
)
def test_format_duration(seconds, text):
    assert format_duration(seconds) == text


def test_nan_samples_are_refused(tmp_path):
    path = tmp_path / "broken.wav"
    samples = ramp(1.0, SR_OUT)
    samples[100] = np.nan
    sf.write(path, samples, SR_OUT, subtype="FLOAT")
    assert reason_of(load_mono, path).startswith("contains invalid samples")


def test_folder_named_like_audio(tmp_path):
    (tmp_path / "x.wav").mkdir()
    assert reason_of(probe, tmp_path / "x.wav") == "is a folder, not a file"


def test_not_an_audio_file_name(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("120 BPM")
    assert reason_of(probe, path) == "not an audio file type (.txt)"
    assert is_audio_path("KICK.WAV") and is_audio_path("pad.Aif") and not is_audio_path("notes.txt")


def test_unreadable_file(tone_wav):
    tone_wav.chmod(0)
    try:
        with open(tone_wav, "rb"):
            pytest.skip("running as root (or on a file system without permissions): chmod 000 does not stop reading")
    except PermissionError:
        pass
    finally:
        tone_wav.chmod(0o644)
    tone_wav.chmod(0)
    try:
        assert reason_of(probe, tone_wav) == "permission denied: cannot read the file"
    finally:
        tone_wav.chmod(0o644)


def test_permission_error_is_reported_in_words(tone_wav, monkeypatch):
    # Root reads through chmod 000, so the test above may skip; the mapping itself must still hold.
    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(audio, "open", refuse, raising=False)
    assert reason_of(probe, tone_wav) == "permission denied: cannot read the file"
    assert reason_of(content_hash, tone_wav) == "permission denied: cannot read the file"


def test_file_vanishing_between_probe_and_load(tone_wav):
    probe(tone_wav)
    tone_wav.unlink()
    with pytest.raises(FileVanished) as caught:
        load_mono(tone_wav)
    assert str(caught.value) == "tone.wav: file vanished during the scan"
    with pytest.raises(FileVanished):
        content_hash(tone_wav)


def test_errors_survive_pickling_to_a_worker_process(tmp_path):
    for err in (AudioError(tmp_path / "a.wav", "empty file (0 bytes)"), FileVanished(tmp_path / "b.wav")):
        copy = pickle.loads(pickle.dumps(err))
        assert (type(copy), copy.path, copy.reason, str(copy)) == (type(err), err.path, err.reason, str(err))


def test_renamed_file_keeps_its_hash(tone_wav):
    before = content_hash(tone_wav)
    moved = tone_wav.parent / "sub" / "renamed.wav"
    moved.parent.mkdir()
    tone_wav.rename(moved)
    assert content_hash(moved) == before
    assert len(before) == 32


def test_changed_content_changes_the_hash(tone_wav):
    before = content_hash(tone_wav)
    data = bytearray(tone_wav.read_bytes())
    data[1000] ^= 0xFF
    tone_wav.write_bytes(data)
    assert content_hash(tone_wav) != before


def test_hash_tells_lengths_apart_when_the_sampled_bytes_match(tmp_path):
    path = tmp_path / "silence.wav"
    path.write_bytes(bytes(100))
    short = content_hash(path, chunk_bytes=4)
    path.write_bytes(bytes(104))
    assert content_hash(path, chunk_bytes=4) != short


def test_hash_reads_only_start_middle_and_end(tmp_path):
    path = tmp_path / "long.wav"
    data = bytearray(range(100))  # chunks of 4 bytes at offsets 0, 48 and 96
    path.write_bytes(data)
    before = content_hash(path, chunk_bytes=4)
    data[20] ^= 0xFF  # outside the sampled regions: the documented blind spot
    path.write_bytes(data)
    assert content_hash(path, chunk_bytes=4) == before
    for offset in (0, 50, 99):
        changed = bytearray(data)
        changed[offset] ^= 0xFF
        path.write_bytes(changed)
        assert content_hash(path, chunk_bytes=4) != before
