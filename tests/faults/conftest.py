"""Fixtures shared by the fault tests: one small library with what the user made in it, copied per test."""

import os
import shutil
from collections import Counter
from pathlib import Path

import pytest

from engine.library.facade import Library
from tests.conftest import click_track, tone, write


@pytest.fixture(scope="module")
def samples(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("faults") / "samples"
    write(folder / "clicks_100bpm.wav", click_track(100, 4.8))
    write(folder / "clicks_120bpm.wav", click_track(120, 4.0))
    write(folder / "clicks_140bpm_low.wav", click_track(140, 3.5, pitch=300))
    write(folder / "tone_a.flac", tone(220, 3.2))
    write(folder / "tone_e.flac", tone(330, 3.2))
    return folder


@pytest.fixture(scope="module")
def indexed_once(samples, tmp_path_factory) -> Path:
    """A library of ``samples`` with what the user made: a locked BPM correction and a favourite.
    Made once per module; tests work on copies (:func:`lib_dir`)."""
    lib_dir = tmp_path_factory.mktemp("faults") / "lib"
    lib = Library(lib_dir)
    list(lib.index(samples, workers=1))
    lib.correct_tempo(samples / "clicks_120bpm.wav", bpm=121)
    lib.lock_tempo(samples / "clicks_120bpm.wav")
    assert lib.store.set_favourite(str((samples / "tone_a.flac").resolve()), True)
    lib.close()
    return lib_dir


@pytest.fixture
def lib_dir(indexed_once, tmp_path) -> Path:
    copy = tmp_path / "lib"
    shutil.copytree(indexed_once, copy)
    return copy


def outcomes(events) -> Counter:
    """How many files of a scan ended each way: {"indexed": 3, "failed": 1}."""
    return Counter(e.outcome for e in events)


def refuse_listing(monkeypatch, folder: Path) -> None:
    """``folder`` cannot be listed, as after chmod 000 for a user who is not root (tests here run as root)."""
    real_scandir = os.scandir

    def scandir(path="."):
        if os.fspath(path) == str(folder):
            raise PermissionError(13, "Permission denied", os.fspath(path))
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)
