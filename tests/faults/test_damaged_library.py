"""Issue 14, case 6: a damaged library database. ``sbf info`` runs a quick integrity check and says what
is damaged; search and index end in one sentence, never a traceback; nothing more is written into a
damaged library; ``sbf rebuild`` makes a new one from what can be read and the sample folders, keeping
the user's corrections, locks and favourites, and keeps the damaged file as a backup."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from engine.library.facade import DB_NAME, Library, rebuild_library
from engine.library.store import DamagedLibrary

ROOT = Path(__file__).resolve().parents[2]


def damage(lib_dir: Path, table: str, which: str = "leaf") -> None:
    """Overwrite pages of ``table`` in the library file with garbage, as a bad sector or a torn write would."""
    path = lib_dir / DB_NAME
    db = sqlite3.connect(path)
    size = db.execute("PRAGMA page_size").fetchone()[0]
    pages = [p for p, in db.execute("SELECT pageno FROM dbstat WHERE name = ? AND pagetype = ? ORDER BY pageno",
                                    (table, which))]
    db.close()
    assert pages, f"no {which} page of {table}"
    garbage = np.random.default_rng(len(table)).bytes(size)
    with path.open("r+b") as f:
        f.seek((pages[0] - 1) * size)
        f.write(garbage)


def sbf(*args: str, lib_dir: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "sbf", *args, "--library-dir", str(lib_dir)], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)


def test_info_checks_the_database_and_says_what_is_damaged(lib_dir):
    intact = sbf("info", lib_dir=lib_dir)
    assert intact.returncode == 0 and "Database: intact" in intact.stdout
    damage(lib_dir, "analyses")
    damaged = sbf("info", lib_dir=lib_dir)
    assert damaged.returncode == 1, damaged.stderr  # was: exit 0, all well
    assert "Database: DAMAGED: the analyses of the files" in damaged.stdout and "sbf rebuild" in damaged.stdout
    assert "Traceback" not in damaged.stderr
    report = json.loads(sbf("info", "--json", lib_dir=lib_dir).stdout)["integrity"]
    assert report["ok"] is False and report["damaged"] == ["the analyses of the files (their sound fingerprints and "
                                                           "tempi)"]


@pytest.mark.parametrize("table", ["analyses", "files"])
def test_search_and_index_refuse_in_one_sentence_and_write_nothing(lib_dir, samples, table):
    damage(lib_dir, table)
    before = (lib_dir / DB_NAME).read_bytes()
    for args in (("search", str(samples / "tone_a.flac")), ("index", str(samples), "--workers", "1")):
        done = sbf(*args, lib_dir=lib_dir)
        assert done.returncode == 2, done.stdout  # was: a traceback
        assert done.stderr.startswith("sbf: The library database") and done.stderr.count("\n") == 1
        assert "is damaged" in done.stderr and "sbf rebuild" in done.stderr and "Traceback" not in done.stderr
    assert (lib_dir / DB_NAME).read_bytes() == before
    assert not (lib_dir / f"{DB_NAME}-wal").exists() or not (lib_dir / f"{DB_NAME}-wal").stat().st_size


def test_once_damage_is_seen_every_write_is_refused(lib_dir, samples):
    damage(lib_dir, "analyses")
    lib = Library(lib_dir)
    with pytest.raises(DamagedLibrary):
        lib.search(samples / "tone_a.flac")
    before = (lib_dir / DB_NAME).read_bytes()
    with pytest.raises(DamagedLibrary):
        lib.store.set_favourite(str((samples / "tone_e.flac").resolve()), True)
    with pytest.raises(DamagedLibrary):
        list(lib.index(samples, workers=1))
    lib.remember_query(samples / "tone_a.flac", "similar", None)  # a convenience: skipped, no error
    lib.close()
    assert (lib_dir / DB_NAME).read_bytes() == before


def test_rebuild_keeps_what_the_user_made_and_a_backup(lib_dir, samples):
    damage(lib_dir, "analyses")
    damaged_bytes = (lib_dir / DB_NAME).read_bytes()
    done = sbf("rebuild", "--workers", "1", lib_dir=lib_dir)
    assert done.returncode == 0, done.stderr
    (backup,) = lib_dir.glob(f"{DB_NAME}.damaged-*")
    assert backup.read_bytes() == damaged_bytes and str(backup) in done.stdout
    assert "Scanning" in done.stdout and "Indexed " in done.stdout

    lib = Library(lib_dir)
    assert lib.check_integrity().ok
    assert lib.info().files_ok == 5
    tempo = lib.tempo(samples / "clicks_120bpm.wav")
    assert (tempo.bpm, tempo.source, tempo.locked) == (121, "user", True)
    assert [t.favourite for t in lib.store.tracks(*lib._model()) if t.path.endswith("tone_a.flac")] == [True]
    assert len(lib.search(samples / "tone_a.flac", k=4)) == 4
    lib.close()


def test_a_rebuild_keeps_the_analyses_it_can_read(lib_dir, samples):
    damage(lib_dir, "analyses")
    lib = Library(lib_dir)
    rebuilt = lib.rebuild()
    assert rebuilt.folders == (str(samples.resolve()),)
    assert rebuilt.kept["user_data"] == 2 and 0 < rebuilt.kept["analyses"] < 5 and rebuilt.kept["files"] == 5
    events = list(lib.index(samples, workers=1))
    assert sum(e.outcome == "unchanged" for e in events) == rebuilt.kept["analyses"]  # only what was lost is redone
    lib.close()


def test_with_the_list_of_files_lost_the_users_data_still_comes_back_with_the_files(lib_dir, samples):
    damage(lib_dir, "files")
    rebuilt = rebuild_library(lib_dir)
    assert rebuilt.kept["user_data"] == 2
    lib = Library(lib_dir)
    list(lib.index(samples, workers=1))
    tempo = lib.tempo(samples / "clicks_120bpm.wav")
    assert (tempo.bpm, tempo.locked) == (121, True)
    lib.close()


def test_a_database_damaged_beyond_opening_is_rebuilt_empty_and_says_so(lib_dir):
    with (lib_dir / DB_NAME).open("r+b") as f:
        f.write(b"\0" * 100)  # the header: not a database any more
    refused = sbf("info", lib_dir=lib_dir)
    assert refused.returncode == 2 and "is damaged" in refused.stderr and "Traceback" not in refused.stderr
    done = sbf("rebuild", lib_dir=lib_dir)
    assert done.returncode == 0, done.stderr
    assert "No sample folder could be read" in done.stdout
    assert sbf("info", lib_dir=lib_dir).returncode == 0


def test_the_app_offers_to_rebuild_a_damaged_library_and_does_it(qtbot, lib_dir, samples):
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from desktop.main_window import MainWindow
    from tests.test_desktop import WAIT_MS

    damage(lib_dir, "analyses")
    window = MainWindow(lib_dir, index_workers=1)
    qtbot.addWidget(window)
    qtbot.waitUntil(window.rebuild_action.isVisible, timeout=WAIT_MS)  # was: the list stayed empty, silently
    assert "is damaged" in window.statusBar().currentMessage()

    with qtbot.waitSignal(window.indexing_finished, timeout=WAIT_MS) as finished:
        window.rebuild_action.trigger()
    assert finished.args[0].error is None
    assert list(lib_dir.glob(f"{DB_NAME}.damaged-*"))
    qtbot.waitUntil(lambda: window.track_table.proxy.rowCount() == 5, timeout=WAIT_MS)
    assert not window.rebuild_action.isVisible()
