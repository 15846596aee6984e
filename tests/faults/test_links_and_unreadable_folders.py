"""Issue 14, case 11: symlink loops, dangling links and unreadable folders were skipped without a word. Now each
is listed with its reason, as a failed file is (Problems in the app, ``sbf failed``), and what the library knew
inside an unreadable folder is kept."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from engine.library.facade import Library
from engine.library.scan import list_folder
from tests.conftest import click_track, write
from tests.faults.conftest import outcomes, refuse_listing
from tests.faults.workers_kit import QuickEmbedder

pytestmark = pytest.mark.skipif(not hasattr(os, "symlink") or os.name == "nt", reason="needs POSIX links")


@pytest.fixture
def linked(tmp_path) -> Path:
    folder = tmp_path / "Samples"
    write(folder / "loop_120bpm.wav", click_track(120, 2.0))
    write(tmp_path / "elsewhere" / "pad.wav", click_track(90, 2.0, pitch=300))
    (folder / "Kit").mkdir()
    write(folder / "Kit" / "snare.wav", click_track(100, 1.0, pitch=900))
    os.symlink(tmp_path / "elsewhere", folder / "more")  # a link to a folder: followed
    os.symlink(folder, folder / "Kit" / "back")  # a link to a folder that holds it: a loop
    os.symlink(tmp_path / "gone.wav", folder / "dangling.wav")  # leads nowhere
    os.symlink("circle_b.wav", folder / "circle_a.wav")  # a circle of links
    os.symlink("circle_a.wav", folder / "circle_b.wav")
    return folder


def test_links_are_followed_and_the_ones_that_lead_nowhere_are_listed_with_their_reason(tmp_path, linked):
    lib = Library(tmp_path / "lib", embedder=QuickEmbedder())
    assert outcomes(lib.index(linked, workers=1)) == {"indexed": 3, "failed": 4}
    indexed = {str(Path(t.path).relative_to(linked)) for t in lib.tracks()}
    assert indexed == {"loop_120bpm.wav", "Kit/snare.wav", "more/pad.wav"}
    reasons = {str(Path(f.path).relative_to(linked)): f.error for f in lib.failed()}
    assert reasons == {
        "dangling.wav": f"a link to {tmp_path / 'gone.wav'}, which is not there",
        "circle_a.wav": "a link that leads round in a circle (circle_b.wav): nothing to index",
        "circle_b.wav": "a link that leads round in a circle (circle_a.wav): nothing to index",
        "Kit/back": f"a link back to {linked}, which holds it (a loop): not followed",
    }
    assert outcomes(lib.index(linked, workers=1)) == {"unchanged": 7}  # listed once, not again and again

    (linked / "dangling.wav").unlink()
    os.symlink(tmp_path / "elsewhere" / "pad.wav", linked / "dangling.wav")  # the link mended
    assert outcomes(lib.index(linked, workers=1)) == {"indexed": 1, "unchanged": 6}
    assert "dangling.wav" not in {Path(f.path).name for f in lib.failed()}
    lib.close()


def test_an_unreadable_folder_is_listed_and_what_it_held_is_kept(tmp_path, monkeypatch):
    folder = tmp_path / "Samples"
    write(folder / "loop.wav", click_track(120, 2.0))
    write(folder / "Locked" / "a.wav", click_track(100, 2.0))
    write(folder / "Locked" / "b.wav", click_track(90, 2.0))
    lib = Library(tmp_path / "lib", embedder=QuickEmbedder())
    list(lib.index(folder, workers=1))

    refuse_listing(monkeypatch, folder / "Locked")
    assert outcomes(lib.index(folder, workers=1)) == {"unchanged": 1, "failed": 1}
    assert {f.path: f.error for f in lib.failed()} == {
        str(folder / "Locked"): "this folder cannot be read (permission denied), so its files were not looked at"}
    assert len(lib.tracks()) == 3  # not removed: unknown is not gone

    monkeypatch.undo()  # readable again
    assert outcomes(lib.index(folder, workers=1)) == {"unchanged": 3}
    assert lib.failed() == [] and len(lib.tracks()) == 3
    lib.close()


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root reads every folder")
def test_a_folder_without_read_permission_is_listed(tmp_path):
    folder = tmp_path / "Samples"
    write(folder / "Locked" / "a.wav", click_track(100, 2.0))
    os.chmod(folder / "Locked", 0)
    try:
        listing = list_folder(folder)
        assert listing.unreadable == [str(folder / "Locked")]
        assert "permission denied" in listing.problems[str(folder / "Locked")][0]
    finally:
        os.chmod(folder / "Locked", 0o755)
