"""The audio and render threads under load: latest wins, a bounded decode cache, one stretch per
sound and tempo, copies that follow edits, and the warm-up signal. Offscreen, on the tiny library of
tests/test_desktop.py."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # before the QApplication exists

import threading
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from PySide6.QtCore import Qt

from engine.config import DESKTOP
from desktop.audio import player as audio_player
from desktop.audio.player import AudioPlayer
from desktop.audio.stretch_renderer import StretchRenderer
from desktop.audio.tempo_lock import TempoLock
from desktop.main_window import MainWindow
from tests.conftest import SR, click_track, tone, write
from tests.test_desktop import WAIT_MS, isolated_settings, latest_answer, open_window, tempo_library  # noqa: F401
from tests.test_desktop_tempo import played  # noqa: F401


@pytest.fixture
def decodes(monkeypatch) -> list[tuple[str, float]]:
    """Every (file name, tau) the audio thread decodes or stretches."""
    calls: list[tuple[str, float]] = []
    real = audio_player.stretched_audio

    def counted(path, tau, cfg):
        calls.append((Path(path).name, tau))
        return real(path, tau, cfg)

    monkeypatch.setattr(audio_player, "stretched_audio", counted)
    return calls


def frames(path: Path) -> int:
    return sf.info(path).frames


def test_arrowing_through_rows_decodes_the_newest_waveform_only_and_play_goes_first(
        qtbot, tempo_library, played, monkeypatch):
    library_dir, folder = tempo_library
    held = threading.Event()
    decodes = []
    real = audio_player.stretched_audio

    def slow(path, tau, cfg):  # the first file takes long to decode (a long file would)
        decodes.append((Path(path).name, tau))
        held.wait(WAIT_MS / 1000)
        return real(path, tau, cfg)

    monkeypatch.setattr(audio_player, "stretched_audio", slow)
    window = open_window(qtbot, library_dir)
    heard = []
    window.player.waveform_ready.connect(lambda wave: heard.append(("waveform", Path(wave.path).name)))
    window.player.playing.connect(lambda playback: heard.append(("play", Path(playback.path).name)))
    window.set_query(str(folder / "kick.wav"))
    qtbot.waitUntil(lambda: bool(decodes), timeout=WAIT_MS)  # the audio thread is busy with it
    view = window.track_table.view
    for _ in range(5):
        qtbot.keyClick(view, Qt.Key.Key_Down)
    assert Path(window.query()).name == "pattern_125bpm.wav"
    qtbot.keyClick(view, Qt.Key.Key_Space)
    held.set()
    qtbot.waitUntil(lambda: ("waveform", "pattern_125bpm.wav") in heard and bool(played), timeout=WAIT_MS)

    assert decodes == [("kick.wav", 1.0), ("pattern_125bpm.wav", 1.0)]  # the four rows passed over: never
    assert heard == [("waveform", "kick.wav"), ("play", "pattern_125bpm.wav"), ("waveform", "pattern_125bpm.wav")]
    assert played == [(frames(folder / "pattern_125bpm.wav"), SR)]


@pytest.mark.parametrize("budget_seconds, decoded", [(1.5, ["a", "b", "a"]), (2.5, ["a", "b"])])
def test_decoded_previews_are_kept_up_to_a_byte_budget(qtbot, tmp_path, decodes, budget_seconds, decoded):
    """Two one-second sounds: a budget of one and a half holds one of them, two and a half both."""
    paths = {name: str(write(tmp_path / f"{name}.wav", tone(220 * (i + 1), 1.0))) for i, name in enumerate("ab")}
    player = AudioPlayer(replace(DESKTOP, decoded_cache_bytes=int(budget_seconds * SR * 4)))  # float32
    player.start_thread("audio")
    try:
        for name in ("a", "b", "a"):
            with qtbot.waitSignal(player.waveform_ready, timeout=WAIT_MS):
                player.load_waveform(paths[name])
    finally:
        player.end_thread()
    assert [Path(name).stem for name, _tau in decodes] == decoded


def test_the_tempo_locked_preview_plays_the_copy_made_for_dragging(qtbot, tempo_library, played, decodes, tmp_path):
    library_dir, folder = tempo_library
    quick = replace(DESKTOP, settle_seconds=0.05)
    window = open_window(qtbot, library_dir, cache_dir=tmp_path / "stretched", cfg=quick)
    window.query_panel.tempo_lock.click()
    latest_answer(qtbot, window, lambda: window.set_query(str(folder / "pattern_100bpm.wav")))
    latest_answer(qtbot, window, lambda: window.knob.set_target_bpm(145))  # the 150 BPM loops are within 6 %
    loop = str(folder / "pattern_150bpm.wav")
    qtbot.waitUntil(lambda: window.tempo_lock.copy_of(loop) is not None, timeout=WAIT_MS)

    window.toggle_play(loop)
    qtbot.waitUntil(lambda: window.playing() is not None, timeout=WAIT_MS)
    assert played[-1][0] == pytest.approx(frames(Path(loop)) * 150 / 145, rel=0.01)  # at 145 BPM
    assert window.playing().tau == pytest.approx(145 / 150)  # the play head moves in the file's own time
    assert [d for d in decodes if d[1] != 1.0] == []  # stretched once, by the render thread


@pytest.fixture
def renderer(tmp_path):
    worker = StretchRenderer(tmp_path / "stretched")
    worker.start_thread("render")
    yield worker
    worker.end_thread()


def locked_at_125(renderer: StretchRenderer) -> TempoLock:
    """Every file taken as a 100 BPM loop, the knob at 125 BPM."""
    lock = TempoLock(renderer, lambda _path: 100.0)
    lock.set_enabled(True)
    lock.target_bpm = 125.0
    return lock


def test_a_sample_edited_in_place_gets_a_new_stretched_copy(qtbot, tmp_path, renderer):
    loop = str(write(tmp_path / "loop_100bpm.wav", click_track(100, 2.4, pitch=600)))
    lock = locked_at_125(renderer)
    lock.prepare([loop])
    qtbot.waitUntil(lambda: lock.copy_of(loop) is not None, timeout=WAIT_MS)
    first = lock.copy_of(loop)

    stamp = os.stat(loop).st_mtime_ns
    write(Path(loop), click_track(100, 2.4, pitch=2500))  # the same length, another sound
    os.utime(loop, ns=(stamp, stamp + 1_000_000_000))  # saved a second later, whatever the clock's grain
    assert lock.copy_of(loop) is None  # the copy of the old sound is not handed out
    assert lock.drag_file(loop) is None  # made again, first
    qtbot.waitUntil(lambda: lock.copy_of(loop) is not None, timeout=WAIT_MS)
    second = lock.copy_of(loop)
    assert second != first
    assert not np.array_equal(sf.read(second)[0], sf.read(first)[0])


def test_a_copy_that_failed_is_tried_again_once_the_library_changes(qtbot, tmp_path, renderer):
    loop = tmp_path / "loop_100bpm.wav"
    loop.write_text("not audio yet\n" * 50)
    lock = locked_at_125(renderer)
    messages = []
    lock.not_ready.connect(messages.append)
    with qtbot.waitSignal(renderer.failed, timeout=WAIT_MS):
        lock.prepare([str(loop)])
    write(loop, click_track(100, 2.4))  # the musician replaced the broken file
    assert lock.drag_file(str(loop)) is None and messages[-1].startswith("No stretched copy of loop_100bpm.wav")

    lock.retry_failed()  # the window calls it on every new catalog
    assert lock.drag_file(str(loop)) is None and messages[-1].startswith("Stretching loop_100bpm.wav")
    qtbot.waitUntil(lambda: lock.copy_of(str(loop)) is not None, timeout=WAIT_MS)


def test_a_new_catalog_lets_failed_copies_be_tried_again(qtbot, tempo_library, monkeypatch):
    window = open_window(qtbot, tempo_library[0])
    retried = []
    monkeypatch.setattr(window.tempo_lock, "retry_failed", lambda: retried.append(True))
    with qtbot.waitSignal(window.catalog_shown, timeout=WAIT_MS):
        window.library_worker.refresh()
    assert retried


def test_the_audio_thread_says_when_librosa_is_warmed_up(qtbot, tempo_library):
    """Heard by whoever connects right after the window is made (the GUI-stall benchmark does)."""
    window = MainWindow(tempo_library[0], index_workers=1)
    qtbot.addWidget(window)
    with qtbot.waitSignal(window.player.warmed_up, timeout=WAIT_MS) as warmed:
        pass
    assert warmed.args[0] > 0
