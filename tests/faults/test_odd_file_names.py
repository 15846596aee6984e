"""Issue 14, case 1: a file whose name is not valid UTF-8 (a Latin-1 name from an old archive) crashed every
scan of its folder with UnicodeEncodeError in the store, and nothing in the folder was ever indexed. Now it is
indexed: its path is stored byte for byte, shown with a replacement character, and searchable, playable and
draggable: from the library, the command line and the desktop app (whose Qt text would drop the odd byte)."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # before the QApplication exists
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from engine.audio.paths import shown
from engine.library.facade import DB_NAME, Library
from tests.conftest import click_track, write
from tests.faults.conftest import outcomes
from tests.faults.workers_kit import QuickEmbedder
from tests.test_desktop import WAIT_MS, isolated_settings, latest_answer, open_window  # noqa: F401

LATIN1 = "caf\xe9 loop.wav".encode("latin-1")  # b"caf\xe9 loop.wav": not UTF-8
BROKEN = "d\xe9fectueux.wav".encode("latin-1")


def odd_path(folder: Path, name: bytes) -> str:
    """The path as Python's os functions name it: the odd byte as a surrogate escape."""
    return os.fsdecode(os.fsencode(folder) + b"/" + name)


def make_odd(folder: Path, name: bytes, data: bytes) -> str:
    path = odd_path(folder, name)
    try:
        with open(os.fsencode(path), "wb") as f:
            f.write(data)
    except OSError as e:  # a file system that takes only UTF-8 names (macOS) cannot hold one
        pytest.skip(f"this file system refuses names that are not UTF-8 ({e})")
    return path


@pytest.fixture
def archive(tmp_path) -> tuple[Path, str]:
    """A plain loop, the same kind of loop under a Latin-1 name, and a broken file under another."""
    folder = tmp_path / "archive"
    plain = write(folder / "plain_120bpm.wav", click_track(120, 3.0))
    write(tmp_path / "odd.wav", click_track(100, 3.5, pitch=700))
    odd = make_odd(folder, LATIN1, (tmp_path / "odd.wav").read_bytes())
    make_odd(folder, BROKEN, b"not audio\n" * 40)
    assert plain.exists()
    return folder, odd


def test_a_latin1_name_is_indexed_and_kept_byte_for_byte(tmp_path, archive):
    folder, odd = archive
    lib = Library(tmp_path / "lib", embedder=QuickEmbedder())
    assert outcomes(lib.index(folder, workers=1)) == {"indexed": 2, "failed": 1}
    rec = lib.store.file_by_path(odd)
    assert rec is not None and rec.status == "ok" and rec.path == odd
    failed = {f.path for f in lib.failed()}
    assert failed == {odd_path(folder, BROKEN)}
    raw = {r[0] for r in sqlite3.connect(tmp_path / "lib" / DB_NAME).execute("SELECT CAST(path AS BLOB) FROM files")}
    assert os.fsencode(odd) in raw  # the file system's own bytes, not a lossy stand-in
    assert outcomes(lib.index(folder, workers=1)) == {"unchanged": 3}  # and the next scan knows it

    renamed = odd_path(folder, b"caf\xe9 loop (1).wav")
    os.rename(os.fsencode(odd), os.fsencode(renamed))
    assert outcomes(lib.index(folder, workers=1)) == {"unchanged": 2, "renamed": 1}
    assert lib.store.file_by_path(renamed).id == rec.id
    lib.close()


def test_a_rebuild_keeps_the_name_byte_for_byte(tmp_path, archive):
    from engine.library.facade import rebuild_library

    folder, odd = archive
    lib = Library(tmp_path / "lib", embedder=QuickEmbedder())
    list(lib.index(folder, workers=1))
    lib.close()
    rebuild_library(tmp_path / "lib")
    lib = Library(tmp_path / "lib", embedder=QuickEmbedder())
    assert lib.store.file_by_path(odd).status == "ok"
    assert outcomes(lib.index(folder, workers=1)) == {"unchanged": 3}
    lib.close()


def test_it_is_searchable_and_shown_with_a_replacement_character(tmp_path, archive):
    folder, odd = archive
    lib = Library(tmp_path / "lib")
    list(lib.index(folder, workers=1))
    assert lib.query(odd).file_id is not None  # its stored analysis: found by its path
    assert [r.path for r in lib.search(folder / "plain_120bpm.wav", k=5)] == [odd]
    assert [Path(r.path).name for r in lib.search(odd, k=5)] == ["plain_120bpm.wav"]
    assert odd in {t.path for t in lib.tracks()}
    assert shown(odd).endswith("caf\ufffd loop.wav") and shown(odd).encode("utf-8")
    lib.close()


def test_the_command_line_prints_the_name_as_the_bytes_it_is(tmp_path, archive):
    folder, odd = archive
    lib = Library(tmp_path / "lib")
    list(lib.index(folder, workers=1))
    lib.close()

    def sbf(*args: str) -> subprocess.CompletedProcess:
        env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
        return subprocess.run([sys.executable, "-m", "sbf.cli", *args, "--library-dir", str(tmp_path / "lib")],
                              capture_output=True, timeout=300, env=env)

    found = sbf("search", os.fsencode(folder / "plain_120bpm.wav").decode("utf-8"))
    assert found.returncode == 0, found.stderr
    assert b"Traceback" not in found.stderr
    assert os.fsencode(odd) in found.stdout  # what ls prints: a pipe gets a path that opens the file
    assert subprocess.run([sys.executable, "-m", "sbf.cli", "search", odd, "--library-dir", str(tmp_path / "lib")],
                          capture_output=True, timeout=300).returncode == 0  # the odd file as the query


def test_the_app_lists_plays_and_drags_it_by_its_own_bytes(qtbot, tmp_path, archive):
    from PySide6.QtCore import Qt

    from desktop.file_drag import local_path
    from desktop.widgets.track_table import NAME

    folder, odd = archive
    lib = Library(tmp_path / "lib")
    list(lib.index(folder, workers=1))
    lib.close()
    window = open_window(qtbot, tmp_path / "lib")
    table = window.track_table
    row = table.model.row_of(odd)
    assert table.model.index(row, NAME).data() == "caf\ufffd loop.wav"  # shown, not dropped

    answer = latest_answer(qtbot, window, lambda: window.set_query(odd))
    assert window.query() == odd and table.view.current_path() == odd  # selected by its whole path
    assert [r.path for r in answer.results] == [str(folder / "plain_120bpm.wav")]
    assert window.query_panel.name.text() == "caf\ufffd loop.wav"

    with qtbot.waitSignal(table.play_requested, timeout=WAIT_MS) as space:
        qtbot.keyClick(table.view, Qt.Key.Key_Space)
    assert space.args == [odd]  # what the player is handed opens the file
    samples, _rate = window.player._audio(odd, 1.0)
    assert len(samples) > 0

    url = table.model.mimeData([table.model.index(row, NAME)]).urls()[0]
    assert bytes(url.toEncoded()).endswith(b"/caf%E9%20loop.wav")  # a DAW gets the file's own bytes
    assert local_path(url) == odd
    latest_answer(qtbot, window, lambda: window.set_query(str(folder / "plain_120bpm.wav")))
    with qtbot.waitSignal(window.results_view.query_requested, timeout=WAIT_MS) as enter:
        window.results_view.view.setCurrentIndex(window.results_view.model.index(0, NAME))
        qtbot.keyClick(window.results_view.view, Qt.Key.Key_Return)
    assert enter.args == [odd]
