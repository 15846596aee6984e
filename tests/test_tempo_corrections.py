"""The user's word on tempo: x2, /2, x3/2, x2/3, a typed value, lock, reset; and recent queries."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sbf import cli
from engine.library.facade import Library
from engine.library.tempo_state import TempoCorrectionError, corrected_bpm
from tests.conftest import click_track, write


@pytest.fixture(scope="module")
def library(tmp_path_factory) -> tuple[Library, Path]:
    root = tmp_path_factory.mktemp("corrections")
    folder = root / "samples"
    write(folder / "clicks_120bpm.wav", click_track(120, 4.0))
    write(folder / "clicks_100bpm.wav", click_track(100, 4.8))
    write(folder / "blip.wav", click_track(120, 0.3))
    lib = Library(root / "lib")
    list(lib.index(folder, workers=1))
    yield lib, folder
    lib.close()


@pytest.fixture
def lib(library):
    """The shared library with every correction undone, so tests do not depend on their order."""
    lib, folder = library
    yield lib, folder
    for name in ("clicks_120bpm.wav", "clicks_100bpm.wav", "blip.wav"):
        lib.lock_tempo(folder / name, False)
        lib.reset_tempo(folder / name)


@pytest.mark.parametrize("factor", [2.0, 0.5, 1.5, 2 / 3])
def test_a_factor_multiplies_the_current_bpm_and_search_uses_it(lib, factor):
    lib, folder = lib
    path = folder / "clicks_120bpm.wav"
    estimate = lib.tempo(path)
    corrected = lib.correct_tempo(path, factor=factor)
    assert corrected.bpm == pytest.approx(estimate.bpm * factor, abs=0.01)
    assert corrected.source == "user" and corrected.estimated_bpm == estimate.bpm
    found = {r.path: r.bpm for r in lib.search(folder / "clicks_100bpm.wav", k=5)}
    assert found[str(path.resolve())] == corrected.bpm


def test_corrections_compose_and_reset_returns_to_the_estimate(lib):
    lib, folder = lib
    path = folder / "clicks_100bpm.wav"
    estimate = lib.tempo(path).bpm
    lib.correct_tempo(path, factor=2.0)
    assert lib.correct_tempo(path, factor=0.5).bpm == pytest.approx(estimate, abs=0.01)
    assert lib.correct_tempo(path, bpm=93.5).bpm == 93.5
    reset = lib.reset_tempo(path)
    assert reset.bpm == estimate and reset.source != "user"


def test_a_correction_survives_reanalysis(lib, tmp_path):
    lib, folder = lib
    path = folder / "clicks_120bpm.wav"
    lib.correct_tempo(path, bpm=60.0)
    with lib.store.transaction() as db:  # what a new model version does: every analysis is redone
        db.execute("DELETE FROM analyses")
    list(lib.index(folder, workers=1))
    assert lib.tempo(path).bpm == 60.0
    assert lib.tempo(folder / "clicks_100bpm.wav").source != "user"


def test_a_locked_bpm_refuses_corrections_until_unlocked(lib):
    lib, folder = lib
    path = folder / "clicks_120bpm.wav"
    locked = lib.lock_tempo(path)
    assert locked.locked and locked.source == "user"  # the estimate is pinned as the user's value
    for attempt in (lambda: lib.correct_tempo(path, factor=2.0), lambda: lib.reset_tempo(path)):
        with pytest.raises(TempoCorrectionError, match="locked"):
            attempt()
    assert lib.tempo(path).bpm == locked.bpm
    unlocked = lib.lock_tempo(path, False)
    assert not unlocked.locked and unlocked.bpm == locked.bpm
    assert unlocked.source != "user"  # only the lock had pinned the estimate: back to the estimate
    assert lib.correct_tempo(path, factor=2.0).bpm == pytest.approx(2 * locked.bpm, abs=0.01)


def test_unlocking_keeps_a_value_the_user_typed(lib):
    lib, folder = lib
    path = folder / "clicks_100bpm.wav"
    lib.correct_tempo(path, bpm=87.0)
    lib.lock_tempo(path)
    unlocked = lib.lock_tempo(path, False)
    assert (unlocked.bpm, unlocked.source, unlocked.locked) == (87.0, "user", False)


def test_a_file_changed_since_it_was_indexed_is_not_corrected(tmp_path):
    folder = tmp_path / "samples"
    loop = write(folder / "loop.wav", click_track(120, 4.0))
    lib = Library(tmp_path / "lib")
    list(lib.index(folder, workers=1))
    write(loop, click_track(90, 4.0))  # edited in place: its stored hash is no longer its sound's
    with pytest.raises(TempoCorrectionError, match="changed since it was indexed"):
        lib.correct_tempo(loop, bpm=90.0)
    lib.close()


def test_a_one_shot_cannot_be_multiplied_but_can_be_given_a_tempo(lib):
    lib, folder = lib
    shot = folder / "blip.wav"
    assert lib.tempo(shot).bpm is None
    with pytest.raises(TempoCorrectionError, match="no tempo"):
        lib.correct_tempo(shot, factor=2.0)
    with pytest.raises(TempoCorrectionError, match="no tempo"):
        lib.lock_tempo(shot)
    assert lib.correct_tempo(shot, bpm=120.0).bpm == 120.0


def test_out_of_range_values_and_files_outside_the_library_are_refused(lib, tmp_path):
    lib, folder = lib
    with pytest.raises(TempoCorrectionError, match="outside"):
        lib.correct_tempo(folder / "clicks_120bpm.wav", bpm=1000.0)
    with pytest.raises(TempoCorrectionError, match="outside"):
        corrected_bpm(250.0, factor=2.0)
    stranger = write(tmp_path / "stranger.wav", click_track(90, 4.0))
    with pytest.raises(TempoCorrectionError, match="not in this library"):
        lib.correct_tempo(stranger, bpm=90.0)


def test_cli_corrects_locks_and_reports_library_files(lib, capsys):
    lib, folder = lib
    path = folder / "clicks_100bpm.wav"
    args = ["--library-dir", str(lib.library_dir), "--json"]
    estimate = lib.tempo(path).bpm
    assert cli.main(["tempo", str(path), "--times", "3/2", *args]) == 0
    (row,) = json.loads(capsys.readouterr().out)
    assert row["bpm"] == pytest.approx(1.5 * estimate, abs=0.01) and row["source"] == "user"
    assert cli.main(["tempo", str(path), "--set", "87", "--lock", *args]) == 0
    capsys.readouterr()
    assert cli.main(["tempo", str(path), "--double", *args]) == 2  # locked: refused, one line on stderr
    out = capsys.readouterr()
    assert "locked" in out.err and out.err.count("\n") == 1
    assert cli.main(["tempo", str(path), *args]) == 0
    assert json.loads(capsys.readouterr().out)[0]["bpm"] == 87.0
    assert cli.main(["tempo", str(path), "--unlock", "--reset", *args]) == 0
    assert json.loads(capsys.readouterr().out)[0]["bpm"] == estimate


def test_recent_queries_are_newest_first_one_per_file_and_skip_vanished_files(lib, tmp_path):
    lib, folder = lib
    gone = write(tmp_path / "gone.wav", click_track(90, 2.0))
    lib.remember_query(folder / "clicks_100bpm.wav", "similar", None)
    lib.remember_query(gone, "target", 120.0)
    lib.remember_query(folder / "clicks_120bpm.wav", "contour", None)
    lib.remember_query(folder / "clicks_100bpm.wav", "target", 110.0)
    gone.unlink()
    recent = lib.recent_queries()
    assert [(Path(q.path).name, q.mode, q.target_bpm) for q in recent[:2]] == [
        ("clicks_100bpm.wav", "target", 110.0), ("clicks_120bpm.wav", "contour", None)]
    assert all(Path(q.path).exists() for q in recent)
    reopened = Library(lib.library_dir)  # persisted in the library database
    assert [q.path for q in reopened.recent_queries(limit=1)] == [recent[0].path]
    reopened.close()
