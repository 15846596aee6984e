"""Issue 14, case 5: a full disk. Reading never needs free space (a library that cannot be opened for
writing opens read-only, and search works); indexing stops with a clear message and resumes later with
nothing lost; caches are written whole or not at all, a failed write is logged and the app goes on in
memory, and a 0-byte or torn cache is noticed and rebuilt."""

from __future__ import annotations

import errno
import json
import logging
import os
import resource
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from engine.errors import SbfError
from engine.library import facade, scan
from engine.library import store as store_module
from engine.library.facade import DB_NAME, Library
from engine.library.store import StoreError
from engine.search.vector_index import HnswIndex
from tests.conftest import click_track, write

ROOT = Path(__file__).resolve().parents[2]


def _disk_full() -> None:
    """In the child: no file may grow (RLIMIT_FSIZE 0), as on a full disk; pipes are not files."""
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # the write fails with EFBIG instead of killing the process
    resource.setrlimit(resource.RLIMIT_FSIZE, (0, 0))


def sbf(*args: str, lib_dir: Path, full: bool) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "sbf", *args, "--library-dir", str(lib_dir)], cwd=ROOT,
                          capture_output=True, text=True, timeout=300, preexec_fn=_disk_full if full else None)


def test_search_works_on_a_full_disk_and_indexing_says_why_it_cannot(lib_dir, samples):
    before = (lib_dir / DB_NAME).read_bytes()
    found = sbf("search", str(samples / "clicks_100bpm.wav"), "-k", "3", "--json", lib_dir=lib_dir, full=True)
    assert found.returncode == 0, found.stderr  # was: "Cannot open the library database ... disk I/O error"
    assert len(json.loads(found.stdout)) == 3
    assert "Traceback" not in found.stderr

    refused = sbf("index", str(samples), lib_dir=lib_dir, full=True)
    assert refused.returncode == 2 and "Traceback" not in refused.stderr
    assert refused.stderr.startswith("sbf: ") and refused.stderr.count("\n") == 1
    assert "open for reading only because the disk it is on is full" in refused.stderr
    corrected = sbf("tempo", str(samples / "tone_a.flac"), "--set", "90", lib_dir=lib_dir, full=True)
    assert corrected.returncode == 2 and "reading only" in corrected.stderr
    assert (lib_dir / DB_NAME).read_bytes() == before

    # Space again: everything is there, nothing is analysed again, the correction is kept.
    again = sbf("index", str(samples), "--json", lib_dir=lib_dir, full=False)
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)["counts"] == {"unchanged": 5}
    lib = Library(lib_dir)
    assert lib.tempo(samples / "clicks_120bpm.wav").bpm == 121
    assert lib.store.read_only is None and lib.check_integrity().ok
    lib.close()


def test_a_disk_filling_up_during_a_scan_stops_it_in_words_and_the_next_scan_goes_on(lib_dir, samples, tmp_path,
                                                                                      monkeypatch):
    folder = tmp_path / "more"
    for i, bpm in enumerate((90, 95, 105, 110, 115)):
        write(folder / f"loop_{i}.wav", click_track(bpm, 3.0, seed=i))
    lib = Library(lib_dir)
    committed = [0]  # files of the folder in the library after the last commit
    real_execute = store_module._Connection.execute

    def full_after_one_batch(self, sql, *args):
        if sql == "COMMIT" and self.in_transaction:
            now = real_execute(self, "SELECT count(*) FROM files WHERE path LIKE ?",
                               (f"{folder.resolve()}{os.sep}%",)).fetchone()[0]
            if committed[0] and now > committed[0]:  # the second batch of files: the disk is full now
                e = sqlite3.OperationalError("database or disk is full")
                e.sqlite_errorcode = 13  # SQLITE_FULL
                raise e
            committed[0] = now
        return real_execute(self, sql, *args)

    monkeypatch.setattr(scan, "BATCH_FILES", 2)
    monkeypatch.setattr(store_module._Connection, "execute", full_after_one_batch)
    with pytest.raises(StoreError) as stopped:
        list(lib.index(folder, workers=1))
    assert "is full" in str(stopped.value) and "Free some space" in str(stopped.value)
    assert "Traceback" not in str(stopped.value)
    monkeypatch.setattr(store_module._Connection, "execute", real_execute)
    kept = {Path(r.path).name for r in lib.store.files() if Path(r.path).parent == folder.resolve()}
    assert len(kept) == 2  # the batch committed before the disk filled up

    events = list(lib.index(folder, workers=1))
    assert sorted(e.outcome for e in events) == ["indexed"] * 3 + ["unchanged"] * 2
    assert lib.check_integrity().ok
    lib.close()


@pytest.mark.parametrize("damage", ["empty", "torn", "garbage"])
def test_a_damaged_vector_cache_is_noticed_and_rebuilt(lib_dir, samples, damage, caplog):
    lib = Library(lib_dir)
    expected = [r.path for r in lib.search(samples / "tone_a.flac", k=4)]
    lib.close()
    (cache,) = lib_dir.glob("vectors-*.npz")
    data = cache.read_bytes()
    cache.write_bytes({"empty": b"", "torn": data[: len(data) // 2], "garbage": os.urandom(len(data))}[damage])

    lib = Library(lib_dir)
    with caplog.at_level(logging.WARNING, logger="engine.library.facade"):
        assert [r.path for r in lib.search(samples / "tone_a.flac", k=4)] == expected  # was: EOFError (empty)
    lib.close()
    assert "damaged" in caplog.text
    with np.load(cache) as saved:  # written again, whole
        assert len(saved["ids"]) == 5


def test_a_cache_that_cannot_be_written_is_logged_and_search_goes_on(lib_dir, samples, monkeypatch, caplog):
    for old in lib_dir.glob("vectors-*.npz"):
        old.unlink()

    def no_space(src, dst):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(facade.os, "replace", no_space)
    lib = Library(lib_dir)
    with caplog.at_level(logging.WARNING, logger="engine.library.facade"):
        results = lib.search(samples / "tone_a.flac", k=4)
    lib.close()
    assert len(results) == 4
    assert "could not write the cache" in caplog.text and "No space left" in caplog.text
    assert [p.name for p in lib_dir.iterdir() if p.name.endswith(".tmp")] == []  # no temporary left behind


def test_a_search_index_that_cannot_be_saved_serves_from_memory(lib_dir, samples, monkeypatch, caplog):
    def no_space(self, path, fingerprint):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(facade, "make_index", lambda n, dim: HnswIndex(dim, capacity=max(n, 1)))
    monkeypatch.setattr(HnswIndex, "save", no_space)
    lib = Library(lib_dir)
    with caplog.at_level(logging.WARNING, logger="engine.library.facade"):
        results = lib.search(samples / "tone_a.flac", k=4)
    lib.close()
    assert len(results) == 4  # was: OSError out of search
    assert "could not save the search index" in caplog.text


def test_a_library_folder_that_cannot_be_made_is_an_error_in_words(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    with pytest.raises(SbfError) as refused:
        Library(blocker / "lib")
    assert "Cannot open the library database" in str(refused.value)
