"""Scanning a folder into the library: incremental, rename-aware, robust to bad files and kills."""

from __future__ import annotations

import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from engine.library.facade import Library
from engine.library.scan import ScanError
from tests.conftest import click_track, tone, write


def outcomes(events) -> Counter:
    return Counter(e.outcome for e in events)


@pytest.fixture
def library(tmp_path):
    lib = Library(tmp_path / "lib")
    yield lib
    lib.close()


def test_first_scan_indexes_everything_and_reports_progress(library, sample_folder):
    events = list(library.index(sample_folder, workers=1))
    assert outcomes(events) == {"indexed": 6}
    assert [e.done for e in events] == list(range(1, 7))
    assert all(e.total == 6 for e in events)
    assert library.info().files_ok == 6


def test_rescan_skips_unchanged_files_and_picks_up_changes(library, sample_folder):
    list(library.index(sample_folder, workers=1))
    assert outcomes(library.index(sample_folder, workers=1)) == {"unchanged": 6}

    write(sample_folder / "tone_a.flac", tone(440, 3.2))  # edited in place
    write(sample_folder / "new_loop.wav", click_track(90, 4.0))
    (sample_folder / "tone_e.flac").unlink()
    result = outcomes(library.index(sample_folder, workers=1))
    assert result == {"unchanged": 4, "indexed": 2, "removed": 1}
    paths = {Path(f.path).name for f in library.store.files()}
    assert "tone_e.flac" not in paths and "new_loop.wav" in paths


def test_renamed_and_moved_files_keep_their_analysis(library, sample_folder):
    list(library.index(sample_folder, workers=1))
    before = library.store.file_by_path(str((sample_folder / "clicks_120bpm.wav").resolve()))
    (sample_folder / "moved").mkdir()
    os.rename(sample_folder / "clicks_120bpm.wav", sample_folder / "moved" / "renamed.wav")
    events = list(library.index(sample_folder, workers=1))
    assert outcomes(events) == {"unchanged": 5, "renamed": 1}
    after = library.store.file_by_path(str((sample_folder / "moved" / "renamed.wav").resolve()))
    assert after.id == before.id and after.content_hash == before.content_hash


def test_touched_file_with_same_content_is_not_reanalysed(library, sample_folder):
    list(library.index(sample_folder, workers=1))
    target = sample_folder / "tone_a.flac"
    os.utime(target, ns=(time.time_ns(), time.time_ns() + 10**9))
    assert outcomes(library.index(sample_folder, workers=1)) == {"unchanged": 6}


def test_bad_files_are_recorded_with_reasons_and_never_stop_a_scan(library, broken_folder):
    events = list(library.index(broken_folder, workers=1))
    result = outcomes(events)
    assert result == {"indexed": 1, "failed": 4}
    failed = {Path(f.path).name: f.error for f in library.failed()}
    assert set(failed) == {"empty.wav", "text.wav", "truncated.wav", "garbage.mp3"}
    assert "empty" in failed["empty.wav"]
    assert all(reason and "Traceback" not in reason for reason in failed.values())
    # Failed files are not retried until they change, and do not stop later scans.
    assert outcomes(library.index(broken_folder, workers=1)) == {"unchanged": 5}


def test_missing_folder_is_an_error_and_removes_nothing(library, sample_folder, tmp_path):
    list(library.index(sample_folder, workers=1))
    moved_away = tmp_path / "unplugged"
    shutil.move(sample_folder, moved_away)
    with pytest.raises(ScanError, match="not found"):
        list(library.index(sample_folder, workers=1))
    assert library.info().files_ok == 6


def test_scan_never_writes_into_the_sample_folder(library, sample_folder):
    before = sorted((p, p.stat().st_mtime_ns) for p in sample_folder.rglob("*"))
    list(library.index(sample_folder, workers=1))
    assert sorted((p, p.stat().st_mtime_ns) for p in sample_folder.rglob("*")) == before


def test_two_worker_processes_give_the_same_vectors_as_one(tmp_path, sample_folder):
    one, two = Library(tmp_path / "one"), Library(tmp_path / "two")
    list(one.index(sample_folder, workers=1))
    assert outcomes(two.index(sample_folder, workers=2)) == {"indexed": 6}
    a = {Path(x.path).name: x.patches for x in one.store.analyses("musicnn-msd", "1")}
    b = {Path(x.path).name: x.patches for x in two.store.analyses("musicnn-msd", "1")}
    assert a.keys() == b.keys()
    for name in a:
        assert abs(a[name] - b[name]).max() < 1e-4, name


def test_kill_9_during_a_scan_then_resume_loses_and_duplicates_nothing(tmp_path):
    folder = tmp_path / "many"
    for i in range(40):
        write(folder / f"loop_{i:02d}.wav", click_track(80 + 2 * i, 3.0, seed=i))
    lib_dir = tmp_path / "lib"
    cmd = [sys.executable, "-m", "sbf.cli", "index", str(folder), "--library-dir", str(lib_dir), "--workers", "1"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    db = lib_dir / "library.sqlite3"
    deadline = time.monotonic() + 120
    committed = 0
    while time.monotonic() < deadline and proc.poll() is None:
        if db.exists():
            try:
                with sqlite3.connect(db) as con:
                    committed = con.execute("SELECT COUNT(*) FROM files").fetchone()[0]
            except sqlite3.OperationalError:
                committed = 0
            if committed > 0:
                break
        time.sleep(0.05)
    assert proc.poll() is None, "the scan finished before it could be killed: make the folder larger"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert 0 < committed < 40

    lib = Library(lib_dir)
    events = list(lib.index(folder, workers=1))
    counts = outcomes(events)
    assert counts["unchanged"] >= committed and counts["unchanged"] + counts["indexed"] == 40
    rows = lib.store.files()
    assert len(rows) == 40 and len({r.path for r in rows}) == 40
    assert len(lib.store.analyses("musicnn-msd", "1")) == 40
    lib.close()


def test_a_full_disk_during_a_commit_changes_nothing_and_says_so(library, sample_folder, monkeypatch):
    from engine.library.store import StoreError

    list(library.index(sample_folder, workers=1))
    write(sample_folder / "new.wav", click_track(95, 3.0))
    real_put = library.store.put_analysis

    def disk_full(db, *args, **kwargs):
        real_put(db, *args, **kwargs)
        raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr(library.store, "put_analysis", disk_full)
    with pytest.raises(StoreError, match="disk is full.*nothing was changed"):
        list(library.index(sample_folder, workers=1))
    monkeypatch.undo()
    assert library.store.file_by_path(str((sample_folder / "new.wav").resolve())) is None
    assert library.info().files_ok == 6
    assert outcomes(library.index(sample_folder, workers=1)) == {"unchanged": 6, "indexed": 1}


def test_the_estimators_other_readings_are_kept_and_an_older_library_reads_the_estimate_alone(library, sample_folder):
    list(library.index(sample_folder, workers=1))
    model = library._model()
    beliefs = library.store.tempo_beliefs(*model)
    by_name = {Path(p).name: beliefs[i] for i, p in library.store.paths_by_id().items()}
    loop = by_name["clicks_120bpm.wav"]
    assert loop[0][0] == library.tempo(sample_folder / "clicks_120bpm.wav").bpm
    assert by_name["blip.wav"] == ()  # a one-shot has no tempo to be listed at
    library.store.close()
    db = sqlite3.connect(library.library_dir / "library.sqlite3")
    db.execute("ALTER TABLE analyses DROP COLUMN bpm_candidates")
    db.execute("UPDATE meta SET value = '3' WHERE key = 'schema_version'")
    db.commit()
    db.close()
    reopened = Library(library.library_dir)
    old = {Path(reopened.store.paths_by_id()[i]).name: b for i, b in reopened.store.tempo_beliefs(*model).items()}
    assert old["clicks_120bpm.wav"] == ((loop[0][0], 1.0),)
    reopened.close()


def test_a_damaged_tempo_reading_is_read_as_none_not_a_crash(library, sample_folder):
    list(library.index(sample_folder, workers=1))
    with library.store.transaction() as db:
        db.execute("UPDATE analyses SET bpm_candidates = '[[120.0, 1.0]]'")  # text, not float32 pairs
    results = library.search(sample_folder / "clicks_120bpm.wav", k=3, mode="target", target_bpm=100)
    assert [Path(r.path).name for r in results] == ["clicks_100bpm.wav"]
