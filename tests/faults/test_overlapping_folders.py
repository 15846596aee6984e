"""Issue 14, case 10: indexing a subfolder of a folder already added analysed it again (and the next scan of
the outer folder once more), and two indexers on one library did the work twice. Now a file is analysed once
whichever added folders overlap, and a second indexer waits for the first, saying so, then finds the work
done."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # before the QApplication exists

import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from engine.analysis.embedding import MusicnnEmbedder
from engine.library.facade import Library
from engine.library.scan import WAITING, ScanEvent, Scanner, index_lock
from engine.library.store import Store
from tests.conftest import click_track, write
from tests.faults.conftest import outcomes


class CountingEmbedder:
    """Two constant patches per file, counting the files it embeds (the scans run in this process)."""

    id, version, dimension, sample_rate = "counting", "1", 4, MusicnnEmbedder.sample_rate

    def __init__(self) -> None:
        self.embedded: list[int] = []
        self._lock = threading.Lock()

    def embed(self, audio):
        with self._lock:
            self.embedded.append(len(audio))
        return np.full((2, self.dimension), float(len(audio) % 97), np.float32)


@pytest.fixture
def packs(tmp_path) -> Path:
    """Samples/ with one loop, and Samples/Pack/ with two more."""
    outer = tmp_path / "Samples"
    write(outer / "break_120bpm.wav", click_track(120, 3.0))
    write(outer / "Pack" / "hat_140bpm.wav", click_track(140, 2.0, pitch=3000))
    write(outer / "Pack" / "tom_90bpm.wav", click_track(90, 3.0, pitch=200))
    return outer


@pytest.mark.parametrize("first", ["outer", "inner"])
def test_overlapping_folders_analyse_each_file_once(tmp_path, packs, first):
    inner = packs / "Pack"
    embedder = CountingEmbedder()
    lib = Library(tmp_path / "lib", embedder=embedder)
    order = [packs, inner, packs, inner] if first == "outer" else [inner, packs, inner, packs]
    for folder in order:
        list(lib.index(folder, workers=1))
    assert len(embedder.embedded) == 3  # once per file, however the folders overlap
    assert len(lib.store.files()) == 3
    assert lib.info().folders == [str(packs), str(inner)]
    assert {Path(t.path).name: Path(t.root).name for t in lib.tracks()} == {
        "break_120bpm.wav": "Samples", "hat_140bpm.wav": "Pack", "tom_90bpm.wav": "Pack"}  # the innermost folder

    assert lib.remove_folder(inner).inside == str(packs)  # the outer folder still holds its files
    assert len(lib.store.files()) == 3 and lib.info().folders == [str(packs)]
    assert outcomes(lib.index(packs, workers=1)) == {"unchanged": 3}
    assert len(embedder.embedded) == 3
    lib.close()


def test_a_second_indexer_waits_for_the_first_then_finds_the_work_done(tmp_path, packs):
    embedder = CountingEmbedder()
    db = tmp_path / "lib" / "library.sqlite3"
    first = Scanner(Store(db), embedder, workers=1).scan(packs)
    started = next(first)  # the first scan holds the library now
    assert started.outcome != "waiting"

    seen, waited = [], threading.Event()

    def second() -> None:  # another indexer on the same library, with a connection of its own
        for event in Scanner(Store(db), embedder, workers=1).scan(packs):
            seen.append(event)
            waited.set()

    thread = threading.Thread(target=second)
    thread.start()
    assert waited.wait(timeout=60)
    assert (seen[0].outcome, seen[0].reason) == ("waiting", WAITING)
    rest = list(first)
    thread.join(timeout=60)
    assert not thread.is_alive()
    assert outcomes([started, *rest]) == {"indexed": 3}
    assert outcomes(e for e in seen if e.outcome != "waiting") == {"unchanged": 3}
    assert len(embedder.embedded) == 3  # the work was done once


def test_an_indexer_in_another_process_holds_the_library_until_it_ends_however_it_ends(tmp_path, packs):
    lib_dir = tmp_path / "lib"
    lib_dir.mkdir()
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time; from engine.library.scan import index_lock; "
         f"assert index_lock({str(lib_dir)!r}).acquire(); print('held', flush=True); time.sleep(120)"],
        stdout=subprocess.PIPE, text=True, cwd=Path(__file__).resolve().parents[2])
    try:
        assert holder.stdout.readline().strip() == "held"
        lib = Library(lib_dir, embedder=CountingEmbedder())
        scan = lib.index(packs, workers=1)
        assert next(scan).outcome == "waiting"
        assert not index_lock(lib_dir).acquire()
        holder.kill()  # kill -9: the system lets go of its lock
        holder.wait(timeout=30)
        assert outcomes(e for e in scan if e.outcome != "waiting") == {"indexed": 3}
        lib.close()
    finally:
        holder.kill()
        holder.wait(timeout=30)


def test_sbf_index_says_it_waits(tmp_path, packs, capsys, monkeypatch):
    from engine.library import scan
    from sbf import cli

    (tmp_path / "lib").mkdir()
    other = index_lock(tmp_path / "lib")  # another indexer, which ends while this one waits
    assert other.acquire()

    class Clock:
        monotonic = staticmethod(time.monotonic)

        @staticmethod
        def sleep(seconds):
            other.release()

    monkeypatch.setattr(scan, "time", Clock)
    assert cli.main(["index", str(packs), "--workers", "1", "--library-dir", str(tmp_path / "lib")]) == 0
    captured = capsys.readouterr()
    assert captured.err.count(WAITING) == 1
    assert captured.out.startswith("Indexed 3, unchanged 0,")


def test_the_app_says_it_waits(qtbot):
    from desktop.widgets.index_panel import IndexPanel

    panel = IndexPanel()
    qtbot.addWidget(panel)
    panel.start(("/samples",))
    panel.show_progress(ScanEvent("/samples", "waiting", 0, 0, WAITING))
    assert panel.label.text() == WAITING and panel.bar.maximum() == 0  # busy, no count yet
