"""Issue 14, case 2: a drive unplugged, its mount point left empty, and a scan marked every file of the folder
removed: analyses, BPM corrections and favourites gone, everything analysed again when it came back. Now a
folder that vanished, or is suddenly empty or unreadable, is offline: nothing is removed, its files are listed
as offline (and not played, see test_offline_folders_desktop.py) until it is back. A file is removed only when
its folder is there and readable and the file is gone. Removing a folder is an action of its own
(Library.remove_folder, ``sbf remove FOLDER``, Remove folder in the app), and what the user made is kept by
content hash for when the files come back. The app greys out the files of an offline folder and refuses to
play them, saying why."""

from __future__ import annotations

import json
import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # before the QApplication exists
import shutil
from pathlib import Path

import pytest

from engine.analysis.embedding import MusicnnEmbedder
from engine.errors import SbfError
from engine.library.facade import Library
from engine.library.scan import FolderOffline
from sbf import cli
from tests.conftest import click_track, write
from tests.faults.conftest import outcomes, refuse_listing
from tests.test_desktop import WAIT_MS, isolated_settings, open_window  # noqa: F401


class CountingEmbedder:
    """Two constant patches per file, counting the files it embeds (the scan runs in this process)."""

    id, version, dimension, sample_rate = "counting", "1", 4, MusicnnEmbedder.sample_rate

    def __init__(self) -> None:
        self.embedded = 0

    def embed(self, audio):
        import numpy as np
        self.embedded += 1
        return np.full((2, self.dimension), float(len(audio) % 97), np.float32)


@pytest.fixture
def drive(tmp_path) -> Path:
    """A sample folder on a 'drive': three loops in two folders."""
    folder = tmp_path / "mnt" / "drive" / "Samples"
    write(folder / "break_120bpm.wav", click_track(120, 3.0))
    write(folder / "kit" / "hat_140bpm.wav", click_track(140, 2.0, pitch=3000))
    write(folder / "kit" / "tom_90bpm.wav", click_track(90, 3.0, pitch=200))
    return folder


@pytest.fixture
def library(tmp_path):
    lib = Library(tmp_path / "lib", embedder=CountingEmbedder())
    yield lib
    lib.close()


def user_made(lib: Library, folder: Path) -> None:
    lib.correct_tempo(folder / "break_120bpm.wav", bpm=60.0)
    lib.lock_tempo(folder / "break_120bpm.wav")
    assert lib.store.set_favourite(str(folder / "kit" / "hat_140bpm.wav"), True)


def assert_user_data_kept(lib: Library, folder: Path) -> None:
    state = lib.tempo(folder / "break_120bpm.wav")
    assert (state.bpm, state.source, state.locked) == (60.0, "user", True)
    assert {Path(t.path).name for t in lib.tracks() if t.favourite} == {"hat_140bpm.wav"}


@pytest.mark.parametrize("unplug", ["vanished", "empty mount point"])
def test_an_unplugged_drive_is_offline_and_nothing_is_removed_or_analysed_again(library, drive, tmp_path, unplug):
    list(library.index(drive, workers=1))
    user_made(library, drive)
    embedded = library.embedder.embedded
    away = tmp_path / "away"
    shutil.move(drive, away)
    if unplug == "empty mount point":
        drive.mkdir()

    with pytest.raises(FolderOffline, match="offline") as offline:
        list(library.index(drive, workers=1))
    assert "Nothing was removed" in str(offline.value)
    assert library.info().files_ok == 3
    assert set(library.offline_folders()) == {str(drive)}
    assert library.info().offline == library.offline_folders()
    assert all(t.offline for t in library.tracks()) and len(library.tracks()) == 3

    if unplug == "empty mount point":
        drive.rmdir()
    shutil.move(away, drive)  # plugged back in
    assert library.offline_folders() == {}
    assert not any(t.offline for t in library.tracks())
    assert outcomes(library.index(drive, workers=1)) == {"unchanged": 3}
    assert library.embedder.embedded == embedded  # nothing analysed again
    assert_user_data_kept(library, drive)


def test_a_drive_mounted_inside_another_added_folder_is_offline_when_its_parent_is_scanned(library, tmp_path):
    outer = tmp_path / "Music"
    write(outer / "loop.wav", click_track(120, 3.0))
    mount = outer / "External"
    write(mount / "a.wav", click_track(100, 3.0))
    write(mount / "b.wav", click_track(90, 3.0))
    for folder in (outer, mount):
        list(library.index(folder, workers=1))
    shutil.move(mount, tmp_path / "away")
    mount.mkdir()  # unplugged: its mount point left empty inside the outer folder
    assert outcomes(library.index(outer, workers=1)) == {"unchanged": 1}
    assert len(library.tracks()) == 3 and set(library.offline_folders()) == {str(mount)}


def test_an_unreadable_folder_is_offline(library, drive, monkeypatch):
    list(library.index(drive, workers=1))
    refuse_listing(monkeypatch, drive)
    with pytest.raises(FolderOffline, match="cannot be read"):
        list(library.index(drive, workers=1))
    assert library.info().files_ok == 3
    assert library.offline_folders() == {str(drive): "it cannot be read (permission denied)"}


def test_a_file_really_gone_from_a_folder_that_is_there_is_removed(library, drive):
    list(library.index(drive, workers=1))
    (drive / "kit" / "tom_90bpm.wav").unlink()
    assert outcomes(library.index(drive, workers=1)) == {"unchanged": 2, "removed": 1}
    shutil.rmtree(drive / "kit")  # a subfolder deleted, the folder itself there: its files are gone
    assert outcomes(library.index(drive, workers=1)) == {"unchanged": 1, "removed": 1}


def test_search_marks_the_results_of_an_offline_folder(tmp_path, drive):
    lib = Library(tmp_path / "lib")
    list(lib.index(drive, workers=1))
    other = write(tmp_path / "here" / "loop_120bpm.wav", click_track(120, 3.0, seed=3))
    list(lib.index(other.parent, workers=1))
    shutil.move(drive, tmp_path / "away")
    results = lib.search(other, k=5)
    assert len(results) == 3 and all(r.offline for r in results)  # listed, greyed out, not playable
    lib.close()


def test_removing_a_folder_on_purpose_keeps_what_the_user_made_for_when_it_is_added_again(library, drive, tmp_path):
    list(library.index(drive, workers=1))
    user_made(library, drive)
    done = library.remove_folder(drive)
    assert (done.folder, done.files, done.inside) == (str(drive), 3, None)
    assert library.info().folders == [] and library.tracks() == []

    moved = tmp_path / "elsewhere"
    shutil.move(drive, moved)  # added back from another place: found by content hash
    list(library.index(moved, workers=1))
    assert_user_data_kept(library, moved)


def test_an_offline_folder_can_be_removed_and_a_folder_not_in_the_library_is_refused(library, drive, tmp_path):
    list(library.index(drive, workers=1))
    shutil.rmtree(drive)  # a drive gone for good
    assert library.remove_folder(drive).files == 3
    with pytest.raises(SbfError, match="not a folder of this library"):
        library.remove_folder(tmp_path / "never added")


def test_sbf_remove_and_info(tmp_path, drive, capsys):
    lib_dir = tmp_path / "lib"
    lib = Library(lib_dir, embedder=CountingEmbedder())
    list(lib.index(drive, workers=1))
    lib.close()
    shutil.move(drive, tmp_path / "away")

    assert cli.main(["info", "--library-dir", str(lib_dir)]) == 0
    assert f"Folder:   {drive}  (offline: it is not there" in capsys.readouterr().out
    assert cli.main(["info", "--json", "--library-dir", str(lib_dir)]) == 0
    assert str(drive) in json.loads(capsys.readouterr().out)["offline"]

    assert cli.main(["remove", str(tmp_path / "nowhere"), "--library-dir", str(lib_dir)]) == 2
    assert "is not a folder of this library" in capsys.readouterr().err
    assert cli.main(["remove", str(drive), "--library-dir", str(lib_dir)]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"Removed {drive} from the library: 3 files.") and "kept" in out
    assert Library(lib_dir).info().folders == []


def test_the_app_greys_out_offline_files_refuses_to_play_them_and_removes_a_folder(qtbot, tmp_path, drive,
                                                                                     monkeypatch):
    from PySide6.QtWidgets import QMessageBox

    from desktop.widgets.file_view import FOREGROUND_ROLE, OFFLINE_COLOUR
    from desktop.widgets.track_table import NAME

    here = tmp_path / "here"
    write(here / "loop_120bpm.wav", click_track(120, 3.0, seed=3))
    lib = Library(tmp_path / "lib")
    for folder in (drive, here):
        list(lib.index(folder, workers=1))
    lib.close()
    shutil.move(drive, tmp_path / "away")  # unplugged

    window = open_window(qtbot, tmp_path / "lib")
    model = window.track_table.model
    grey = {Path(model.path_at(r)).name: model.index(r, NAME).data(FOREGROUND_ROLE) == OFFLINE_COLOUR
            for r in range(model.rowCount())}
    assert grey == {"break_120bpm.wav": True, "hat_140bpm.wav": True, "tom_90bpm.wav": True,
                    "loop_120bpm.wav": False}
    assert "1 folder(s) offline" in window.summary.text()

    played = []
    monkeypatch.setattr(window.player, "play", lambda path, *args: played.append(path))
    window.toggle_play(str(drive / "break_120bpm.wav"))
    assert played == [] and window.statusBar().currentMessage() == (
        f"break_120bpm.wav cannot be played: its folder {drive} is offline, "
        "it is not there (not found: is its drive plugged in?).")
    window.toggle_play(str(here / "loop_120bpm.wav"))
    assert played == [str(here / "loop_120bpm.wav")]

    write(here / "new_90bpm.wav", click_track(90, 3.0, seed=4))
    with qtbot.waitSignal(window.indexing_finished, timeout=WAIT_MS) as rescan:
        window.index((str(drive), str(here)))  # Rescan: the offline folder is said, the other one indexed
    assert rescan.args[0].counts == {"indexed": 1, "unchanged": 1}
    assert "is offline" in rescan.args[0].error and "Nothing was removed" in rescan.args[0].error
    qtbot.waitUntil(lambda: model.rowCount() == 5, timeout=WAIT_MS)

    entries = [a.text() for a in window.remove_menu.actions()]
    assert entries == [str(here), f"{drive}  (offline)"]
    monkeypatch.setattr(QMessageBox, "question", lambda *args: QMessageBox.StandardButton.Yes)
    with qtbot.waitSignal(window.catalog_shown, timeout=WAIT_MS,
                          check_params_cb=lambda catalog: catalog.info.folders == [str(here)]):
        window.remove_menu.actions()[1].trigger()
    assert model.rowCount() == 2
    assert window.statusBar().currentMessage().startswith(f"Removed {drive} from the library (3 files)")
