"""Issue 14, case 7: a file edited while it is being analysed does not keep the hash or the analysis of its
old content: its size and modification time are checked again once it is analysed, and it is analysed
again when they changed."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
import soundfile as sf

from engine.audio.decode import content_hash
from engine.library import scan
from engine.library.facade import Library
from tests.conftest import SR, click_track, tone, write


@pytest.fixture
def folder(tmp_path) -> Path:
    folder = tmp_path / "samples"
    write(folder / "loop.wav", click_track(100, 3.0))
    write(folder / "edited.wav", tone(220, 2.0))
    return folder


@pytest.fixture
def library(tmp_path):
    lib = Library(tmp_path / "lib")
    yield lib
    lib.close()


def edit(path: Path, seconds: float) -> None:
    """What a sample editor's Save does: new content, another length."""
    sf.write(path, tone(330, seconds), SR)


def editing(monkeypatch, when: str, times: int = 1, seconds: float = 4.0) -> list[str]:
    """Make the analysis of ``edited.wav`` race an edit ``times`` times: ``before`` it is decoded (after the
    scan listed and hashed it) or ``after`` (the analysis read the old content). Returns what it analysed."""
    analysed: list[str] = []
    real = scan.analyse_new

    def analyse_new(path, embedder, analysers):
        analysed.append(Path(path).name)
        if Path(path).name != "edited.wav" or analysed.count("edited.wav") > times:
            return real(path, embedder, analysers)
        n = analysed.count("edited.wav")
        if when == "before":
            edit(Path(path), seconds + n)
            return real(path, embedder, analysers)
        result = real(path, embedder, analysers)
        edit(Path(path), seconds + n)
        return result

    monkeypatch.setattr(scan, "analyse_new", analyse_new)
    return analysed


def stored(library: Library, path: Path):
    return library.store.file_by_path(str(path.resolve()))


@pytest.mark.parametrize("when", ["before", "after"])
def test_a_file_edited_during_its_analysis_is_analysed_again_as_it_is_now(library, folder, monkeypatch, when):
    analysed = editing(monkeypatch, when)
    events = {Path(e.path).name: e.outcome for e in library.index(folder, workers=1)}
    assert events == {"loop.wav": "indexed", "edited.wav": "indexed"}
    rec = stored(library, folder / "edited.wav")
    assert rec.content_hash == content_hash(folder / "edited.wav")  # the hash of what is on disk now
    assert rec.duration == pytest.approx(5.0)  # and the analysis too: the 5 s it holds now
    st = (folder / "edited.wav").stat()
    assert (rec.size, rec.mtime_ns) == (st.st_size, st.st_mtime_ns)
    assert analysed.count("edited.wav") == 2
    monkeypatch.undo()
    assert Counter(e.outcome for e in library.index(folder, workers=1)) == {"unchanged": 2}


def test_a_file_that_keeps_changing_is_left_for_the_next_scan_with_nothing_stored(library, folder, monkeypatch):
    analysed = editing(monkeypatch, "after", times=10)
    events = {Path(e.path).name: (e.outcome, e.reason) for e in library.index(folder, workers=1)}
    assert events["edited.wav"] == ("failed", scan.EDITED)
    assert analysed.count("edited.wav") == scan.EDIT_RETRIES + 1
    assert stored(library, folder / "edited.wav") is None and library.failed() == []
    monkeypatch.undo()
    events = {Path(e.path).name: e.outcome for e in library.index(folder, workers=1)}
    assert events == {"loop.wav": "unchanged", "edited.wav": "indexed"}
    assert stored(library, folder / "edited.wav").content_hash == content_hash(folder / "edited.wav")
