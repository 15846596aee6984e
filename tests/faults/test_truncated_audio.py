"""Issue 14, case 4: a truncated file is decoded from the frames libsndfile really decoded, never from the
memory it did not fill; one cut well short of what its header announces is listed as failed, and saying so
is the same on every run."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest
import soundfile as sf

from engine.audio.decode import AudioError, load_mono
from engine.library.facade import Library
from tests.conftest import SR, click_track, write

pytestmark = pytest.mark.skipif("MP3" not in sf.available_formats(), reason="this libsndfile cannot write MP3")


def mp3(path, seconds: float = 6.0):
    """A complete MP3 (LAME's Xing header announces its exact length)."""
    sf.write(path, click_track(120, seconds) * 0.8, SR, format="MP3")
    return path


def cut(src, dst, keep: float):
    """A copy of ``src`` holding its first ``keep`` share of bytes: a half-finished download."""
    data = src.read_bytes()
    dst.write_bytes(data[: int(len(data) * keep)])
    return dst


def decodable_frames(path) -> int:
    with sf.SoundFile(path) as sound:
        return len(sound.read(dtype="float32"))  # read() keeps only what was decoded


def test_a_truncated_mp3_announces_more_than_it_holds(tmp_path):
    # The premise: the header still promises the whole file, so reading by the header overruns.
    short = cut(mp3(tmp_path / "full.mp3"), tmp_path / "short.mp3", 0.4)
    with sf.SoundFile(short) as sound:
        announced = sound.frames
    assert decodable_frames(short) < 0.6 * announced


def test_a_file_cut_well_short_fails_with_the_same_reason_every_time(tmp_path):
    short = cut(mp3(tmp_path / "full.mp3"), tmp_path / "short.mp3", 0.4)
    reasons = set()
    for _ in range(3):
        with pytest.raises(AudioError) as failed:
            load_mono(short)
        reasons.add(failed.value.reason)
    assert len(reasons) == 1
    reason = reasons.pop()
    assert reason.startswith("file is truncated: only ") and "of its 6 s could be decoded" in reason


def test_a_file_cut_at_its_very_end_is_analysed_from_what_decoded_identically_every_run(tmp_path):
    full = mp3(tmp_path / "full.mp3")
    nearly = cut(full, tmp_path / "nearly.mp3", 0.995)
    frames = decodable_frames(nearly)
    with sf.SoundFile(nearly) as sound:
        assert frames < sound.frames  # the header promises more than is there
        rate = sound.samplerate
    runs = [load_mono(nearly, sr=rate) for _ in range(3)]
    for run in runs:
        assert len(run.samples) == frames  # not the header's count: nothing made up
        assert np.array_equal(run.samples, runs[0].samples)
        assert run.duration_s == pytest.approx(frames / rate)


def test_a_complete_mp3_decodes_whole(tmp_path):
    full = mp3(tmp_path / "full.mp3")
    with sf.SoundFile(full) as sound:
        rate, announced = sound.samplerate, sound.frames
    assert len(load_mono(full, sr=rate).samples) == announced == decodable_frames(full)


def test_a_long_truncated_file_read_in_slices_fails_too(tmp_path):
    # A file longer than the decode budget is read in slices across the length its header announces.
    full = mp3(tmp_path / "full.mp3", seconds=12.0)
    short = cut(full, tmp_path / "short.mp3", 0.5)
    with pytest.raises(AudioError, match="file is truncated: only "):
        load_mono(short, max_seconds=4.0)
    assert len(load_mono(full, max_seconds=4.0).samples) > 0


def test_a_scan_lists_the_truncated_file_and_indexes_the_rest(tmp_path):
    folder = tmp_path / "samples"
    folder.mkdir()
    cut(mp3(tmp_path / "full.mp3"), folder / "download.mp3", 0.4)
    write(folder / "good.wav", click_track(100, 3.0))
    lib = Library(tmp_path / "lib")
    try:
        events = {e.path.rsplit("/", 1)[-1]: e for e in lib.index(folder, workers=1)}
        assert Counter(e.outcome for e in events.values()) == {"indexed": 1, "failed": 1}
        assert events["download.mp3"].reason.startswith("file is truncated: only ")
        assert [f.error for f in lib.failed()] == [events["download.mp3"].reason]
    finally:
        lib.close()
