"""BPM estimation: names, tags, loop length and sound each give the tempo, and one-shots get none."""

from __future__ import annotations

import dataclasses
import json
import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from engine.audio.decode import probe
from engine.config import TEMPO
from engine.analysis.tempo import ONE_SHOT, SignalEvidence, estimate_file_tempo, estimate_tempo, loop_length_fit
from engine.analysis.tempo_tags import FileTags, read_tempo_tags, tempo_from_name
from tests.conftest import SR, click_track, write


def name_tempi(name: str) -> list[float]:
    return [c.bpm for c in tempo_from_name(name)]


@pytest.mark.parametrize(
    ("name", "bpm"),
    [
        ("Break_124bpm.wav", 124),
        ("Funky Drums 124 BPM.wav", 124),
        ("124-Funk Groove.wav", 124),
        ("Drums_124_Am.wav", 124),
        ("BPM128_Kit_Loop.wav", 128),
        ("Pad (92.5 bpm).aiff", 92.5),
        ("Loops/174 BPM/Amen Roller.wav", 174),
    ],
)
def test_tempo_in_a_file_name_is_found(name, bpm):
    assert name_tempi(name) == [bpm]


@pytest.mark.parametrize(
    "name",
    ["TR-808 Kick.wav", "909_Hat.wav", "Vol 2 Snare.wav", "Vol 120 Crash.wav", "Pad 44100.wav", "Keys 2019.wav",
     "Bass A4.wav", "Piano_C#3.wav", "Kick_045.wav", "Sub_100_Hz.wav", "Kick808.wav", "Riser 999 bpm.wav"],
)
def test_numbers_that_are_not_tempi_are_refused(name):
    assert name_tempi(name) == []


def test_an_explicit_bpm_beats_other_numbers_and_scores_higher():
    (found,) = tempo_from_name("Loop_01_808_Kit_140bpm_Cm.wav")
    assert found.bpm == 140 and found.voice == "filename"
    bare = tempo_from_name("Loop_140_Cm.wav")[0]
    assert bare.score < found.score


def add_chunk(path: Path, chunk_id: bytes, body: bytes) -> None:
    """Append a chunk to a RIFF/WAVE file and fix the RIFF size, as a sampler or DAW would."""
    data = bytearray(path.read_bytes()) + chunk_id + struct.pack("<I", len(body)) + body + b"\0" * (len(body) & 1)
    data[4:8] = struct.pack("<I", len(data) - 8)
    path.write_bytes(bytes(data))


def acid_chunk(tempo: float, beats: int = 8, one_shot: bool = False) -> bytes:
    # flags, root note, two unknowns, number of beats, meter denominator/numerator, tempo
    return struct.pack("<IHHfIHHf", 0x01 if one_shot else 0x02, 60, 0x8000, 0.0, beats, 4, 4, tempo)


def test_acid_chunk_tempo_is_read(tmp_path):
    path = write(tmp_path / "loop.wav", click_track(97.0, 4.0))
    add_chunk(path, b"acid", acid_chunk(97.0))
    tags = read_tempo_tags(path, probe(path))
    assert [(c.bpm, c.voice) for c in tags.candidates] == [(pytest.approx(97.0), "metadata")]
    assert not tags.one_shot
    estimate = estimate_file_tempo(path)
    assert estimate.bpm == pytest.approx(97.0) and estimate.source == "metadata"


def test_acid_one_shot_flag_and_smpl_loop_length_are_read(tmp_path):
    shot = write(tmp_path / "hit.wav", click_track(120.0, 2.0))
    add_chunk(shot, b"acid", acid_chunk(0.0, one_shot=True))
    assert read_tempo_tags(shot, probe(shot)).one_shot
    assert estimate_file_tempo(shot).bpm is None

    looped = write(tmp_path / "with_tail.wav", click_track(120.0, 5.0))
    header = struct.pack("<9I", 0, 0, 0, 60, 0, 0, 0, 1, 0)
    loop = struct.pack("<6I", 0, 0, 0, 4 * SR - 1, 0, 0)  # first 4 s loop, then a 1 s tail
    add_chunk(looped, b"smpl", header + loop)
    assert read_tempo_tags(looped, probe(looped)).loop_seconds == pytest.approx(4.0)


@pytest.mark.parametrize("suffix", [".wav", ".flac", ".aiff", ".ogg"])
def test_bpm_in_a_comment_written_by_libsndfile_is_read(tmp_path, suffix):
    # libsndfile stores the comment as LIST/INFO ICMT, a Vorbis COMMENT or an AIFF annotation
    path = tmp_path / f"groove{suffix}"
    with sf.SoundFile(path, "w", SR, 1) as sound:
        sound.comment = "Dusty groove, 93.5 BPM"
        sound.write(click_track(93.5, 2.0))
    assert [c.bpm for c in read_tempo_tags(path, probe(path)).candidates] == [93.5]


def syncsafe(n: int) -> bytes:
    return bytes((n >> shift) & 0x7F for shift in (21, 14, 7, 0))


def test_id3_tbpm_of_an_mp3_is_read(tmp_path):
    plain = tmp_path / "plain.mp3"
    sf.write(plain, click_track(128.0, 2.0), SR)
    text = b"\x03" + b"128"  # UTF-8 text frame
    frame = b"TBPM" + syncsafe(len(text)) + b"\0\0" + text
    tag = b"ID3\x04\x00\x00" + syncsafe(len(frame) + 20) + frame + b"\0" * 20  # with padding
    tagged = tmp_path / "tagged.mp3"
    tagged.write_bytes(tag + plain.read_bytes())
    assert [c.bpm for c in read_tempo_tags(tagged, probe(tagged)).candidates] == [128.0]


def test_damaged_tags_are_ignored(tmp_path):
    path = write(tmp_path / "odd.wav", click_track(120.0, 2.0))
    add_chunk(path, b"acid", b"\x01\x02")  # too short to hold anything
    add_chunk(path, b"smpl", b"\xff" * 40)
    assert read_tempo_tags(path, probe(path)) == FileTags()


def evidence(peaks: dict[float, float], periodicity: float = 0.5) -> SignalEvidence:
    """Signal evidence with narrow peaks of the given strengths, as an ambiguous groove would give."""
    axis = TEMPO.bpm_min * 2.0 ** (np.arange(0, 2.9, 1 / TEMPO.axis_steps_per_octave))
    strength = sum(s * np.exp(-0.5 * (np.log2(axis / bpm) * 48) ** 2) for bpm, s in peaks.items())
    return SignalEvidence(axis, strength, periodicity)


def test_loop_length_resolves_octave_and_triplet_ambiguities():
    # 4.0 s holds 2 bars at 120 BPM and 1 bar at 60: the prior on bar counts and tempi picks 120
    estimate = estimate_tempo(4.0, evidence({60.0: 1.0, 120.0: 1.0}))
    assert estimate.bpm == pytest.approx(120.0) and estimate.source == "signal+loop-length"
    assert {round(c.bpm) for c in estimate.candidates} == {60, 120}
    # with no tempo prior at all, the bar counts alone still prefer 2 bars at 120 to 1 bar at 60
    flat = dataclasses.replace(TEMPO, prior_octaves=100.0)
    assert estimate_tempo(4.0, evidence({60.0: 1.0, 120.0: 1.0}), cfg=flat).bpm == pytest.approx(120.0)
    # the same sound, 3.0 s long: 1 bar at 80 BPM, 1.5 bars at 120, so 80 wins against the tempo prior
    assert estimate_tempo(3.0, evidence({80.0: 1.0, 120.0: 1.0})).bpm == pytest.approx(80.0)
    assert estimate_tempo(4.0, evidence({80.0: 1.0, 120.0: 1.0})).bpm == pytest.approx(120.0)
    assert loop_length_fit(120.0, 4.0) > 0.9 > 0.1 > loop_length_fit(90.0, 4.0)


def test_signal_peak_is_snapped_to_the_exact_loop_tempo():
    estimate = estimate_tempo(4.0, evidence({119.0: 1.0}))
    assert estimate.bpm == 120.0


@pytest.mark.parametrize("bpm", [95.0, 128.0])
def test_click_loop_tempo_is_found_from_the_sound(tmp_path, bpm):
    path = write(tmp_path / "untitled.wav", click_track(bpm, 4 * 240.0 / bpm))  # four bars, no name, no tags
    estimate = estimate_file_tempo(path)
    assert estimate.bpm == pytest.approx(bpm, rel=0.04)
    assert estimate.source.startswith("signal") and 0 < estimate.confidence <= 1


def test_click_track_that_is_not_a_loop_is_found_too(tmp_path):
    path = write(tmp_path / "take.wav", click_track(113.0, 9.3))
    assert estimate_file_tempo(path).bpm == pytest.approx(113.0, rel=0.04)


@pytest.mark.parametrize("seconds", [0.3, 1.2])
def test_short_one_shot_has_no_tempo_even_with_a_tempo_in_its_name(tmp_path, seconds):
    path = write(tmp_path / "Kick_128bpm.wav", click_track(120.0, seconds))
    estimate = estimate_file_tempo(path)
    assert estimate.bpm is None and estimate.source == ONE_SHOT


def test_one_bar_loop_shorter_than_one_and_a_half_seconds_keeps_its_tempo(tmp_path):
    path = write(tmp_path / "Roll_170bpm.wav", click_track(170.0, 240.0 / 170.0))  # 1.41 s
    assert estimate_file_tempo(path).bpm == 170.0


def test_a_single_hit_with_a_long_tail_has_no_tempo(tmp_path):
    t = np.arange(int(2.5 * SR)) / SR
    crash = (np.random.default_rng(1).standard_normal(t.size) * np.exp(-t * 2.0)).astype(np.float32)
    assert estimate_file_tempo(write(tmp_path / "crash.wav", crash)).bpm is None


def test_the_name_wins_when_the_sound_agrees_up_to_an_octave(tmp_path):
    path = write(tmp_path / "Groove_64bpm.wav", click_track(128.0, 7.5))
    estimate = estimate_file_tempo(path)
    assert estimate.bpm == 64.0 and estimate.source == "filename"


def test_cli_tempo_json_has_four_fields_and_null_bpm_for_a_one_shot(tmp_path):
    loop = write(tmp_path / "Break_124bpm.wav", click_track(124.0, 4 * 240.0 / 124))
    shot = write(tmp_path / "blip.wav", click_track(120.0, 0.3))
    broken = tmp_path / "broken.wav"
    broken.write_text("not audio\n" * 40)
    out = subprocess.run([sys.executable, "-m", "sbf.cli", "tempo", str(loop), str(broken), str(shot), "--json",
                          "--library-dir", str(tmp_path / "lib")], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    rows = json.loads(out.stdout)
    assert [set(r) for r in rows] == [{"path", "bpm", "confidence", "source"}] * 2
    assert rows[0]["bpm"] == 124.0 and rows[0]["source"] == "filename"
    assert rows[1]["bpm"] is None and rows[1]["source"] == ONE_SHOT
    assert out.stderr.count("\n") == 1 and "broken.wav" in out.stderr and "Traceback" not in out.stderr


def test_cli_tempo_exits_2_when_no_file_can_be_read(tmp_path):
    out = subprocess.run([sys.executable, "-m", "sbf.cli", "tempo", str(tmp_path / "missing.wav"),
                          "--library-dir", str(tmp_path / "lib")], capture_output=True, text=True, timeout=300)
    assert out.returncode == 2 and out.stderr == f"sbf: {tmp_path / 'missing.wav'}: no such file\n"


def test_cli_tempo_reuses_the_stored_tempo_block_of_a_library_file(tmp_path, sample_folder, monkeypatch, capsys):
    from engine.analysis import tempo
    from sbf import cli
    from engine.library.facade import Library

    lib = Library(tmp_path / "lib")
    list(lib.index(sample_folder, workers=1))
    lib.close()

    def recompute(*_):
        raise AssertionError("the tempo block of an indexed file was computed again")

    monkeypatch.setattr(tempo, "compute_tempo_block", recompute)
    query = sample_folder / "clicks_120bpm.wav"
    assert cli.main(["tempo", str(query), "--json", "--library-dir", str(tmp_path / "lib")]) == 0
    (row,) = json.loads(capsys.readouterr().out)
    assert row["bpm"] == 120.0
