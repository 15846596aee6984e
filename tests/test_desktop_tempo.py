"""The desktop app and tempo: BPM correction, one-shots at a tempo, the waveform, the tempo-locked
preview and the stretched drag. Offscreen, on the tiny library of tests/test_desktop.py."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # before the QApplication exists

import shutil
from dataclasses import replace
from pathlib import Path

import pytest
import soundfile as sf
import sounddevice
from PySide6.QtCore import QPoint, Qt

from engine.config import DESKTOP
from desktop.widgets.track_table import BPM, SOURCE
from tests.test_desktop import (WAIT_MS, isolated_settings, latest_answer, names, open_window,  # noqa: F401
                                tempo_library, widen)

SR = 22050


@pytest.fixture
def own_library(tempo_library, tmp_path):
    """A copy of the indexed library that a test may correct tempi in (the samples are shared)."""
    library_dir, folder = tempo_library
    shutil.copytree(library_dir, tmp_path / "lib")
    return tmp_path / "lib", folder


@pytest.fixture
def played(monkeypatch) -> list[tuple[int, int]]:
    """What reached the sound card: (samples, sample rate) per play."""
    calls: list[tuple[int, int]] = []
    monkeypatch.setattr(sounddevice, "play", lambda samples, sr: calls.append((len(samples), sr)))
    monkeypatch.setattr(sounddevice, "stop", lambda: None)
    return calls


def frames(path: Path) -> int:
    return sf.info(path).frames


def row_of(window, name: str) -> int:
    model = window.track_table.model
    return next(r for r in range(model.rowCount()) if Path(model.path_at(r)).name == name)


def corrected(qtbot, window, action):
    """Run a correction and wait until the window shows it and has searched with it."""
    with qtbot.waitSignal(window.tempo_shown, timeout=WAIT_MS) as shown:
        action()
    answer = latest_answer(qtbot, window, lambda: None)
    return shown.args[0], answer


def test_doubling_the_bpm_updates_the_list_the_knob_and_the_results(qtbot, own_library):
    library_dir, folder = own_library
    window = open_window(qtbot, library_dir)
    editor = window.query_panel.tempo_editor
    latest_answer(qtbot, window, lambda: window.set_query(str(folder / "pattern_100bpm.wav")))
    qtbot.waitUntil(editor.isEnabled, timeout=WAIT_MS)  # the library has told its tempo state
    latest_answer(qtbot, window, lambda: window.knob.set_target_bpm(125))

    state, answer = corrected(qtbot, window, editor.factor_buttons["x2"].click)
    assert (state.bpm, state.source, state.estimated_bpm) == (pytest.approx(200), "user", pytest.approx(100))
    row = row_of(window, "pattern_100bpm.wav")
    assert window.track_table.model.index(row, BPM).data() == "200"
    assert window.track_table.model.index(row, SOURCE).data() == "user"
    assert window.query_panel.details.text().startswith("200 BPM (yours; estimated 100)")
    assert window.knob.readout.text() == "200 → 125 BPM  (×0.62)"  # the project's tempo stays on the knob
    assert answer.query_bpm == pytest.approx(200) and answer.request.ratio == pytest.approx(125 / 200)
    assert names(answer)[0] == "pattern_125bpm.wav"

    editor.typed.setText("100")
    state, _ = corrected(qtbot, window, lambda: qtbot.keyClick(editor.typed, Qt.Key.Key_Return))
    assert state.bpm == pytest.approx(100) and window.knob.readout.text() == "100 → 125 BPM  (×1.25)"
    state, _ = corrected(qtbot, window, editor.reset.click)
    assert state.source != "user" and window.query_panel.details.text().startswith("100 BPM (from filename)")

    state, _ = corrected(qtbot, window, editor.lock.click)
    assert state.locked and editor.lock.text() == "Unlock" and "locked" in window.query_panel.details.text()
    editor.factor_buttons["/2"].click()
    qtbot.waitUntil(lambda: window.statusBar().currentMessage().startswith("Tempo not changed"), timeout=WAIT_MS)
    assert window.statusBar().currentMessage() == "Tempo not changed: the BPM of pattern_100bpm.wav is locked; unlock it first."
    assert window.knob.query_bpm() == pytest.approx(100)


def test_corrections_the_library_refuses_are_explained(qtbot, own_library):
    library_dir, folder = own_library
    window = open_window(qtbot, library_dir)
    editor = window.query_panel.tempo_editor
    status = window.statusBar()
    latest_answer(qtbot, window, lambda: window.set_query(str(folder / "kick.wav")))
    qtbot.waitUntil(editor.isEnabled, timeout=WAIT_MS)
    editor.factor_buttons["x2"].click()
    qtbot.waitUntil(lambda: "no tempo to multiply" in status.currentMessage(), timeout=WAIT_MS)
    editor.typed.setText("900")
    qtbot.keyClick(editor.typed, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: "outside 40-300 BPM" in status.currentMessage(), timeout=WAIT_MS)
    assert window.track_table.track_at_path(str(folder / "kick.wav")).bpm is None  # nothing changed


def test_a_file_from_outside_the_library_has_no_bpm_buttons(qtbot, tempo_library, tmp_path):
    library_dir, folder = tempo_library
    outside = shutil.copy(folder / "pattern_125bpm.wav", tmp_path / "my_loop.wav")
    window = open_window(qtbot, library_dir)
    latest_answer(qtbot, window, lambda: window.set_query(str(outside)))
    assert not window.query_panel.tempo_editor.isEnabled()


def test_one_shots_are_left_out_at_a_tempo(qtbot, tempo_library):
    library_dir, folder = tempo_library
    window = open_window(qtbot, library_dir)
    answer = latest_answer(qtbot, window, lambda: window.set_query(str(folder / "pattern_100bpm.wav")))
    assert "kick.wav" in names(answer)  # "similar": a one-shot can sound like a loop
    answer = latest_answer(qtbot, window, lambda: window.knob.set_target_bpm(125))
    assert "kick.wav" not in names(answer)
    while window.results_view.window_bar.widen.text() != "Any tempo":
        widen(qtbot, window)
    answer = widen(qtbot, window)
    assert answer.window is None  # no BPM window left
    assert "kick.wav" not in names(answer)
    assert len(answer.results) == 5  # every other loop is there
    assert "one-shots left out" in window.results_view.summary.text()


def test_the_waveform_plays_from_a_click_and_its_play_head_moves(qtbot, tempo_library, played):
    library_dir, folder = tempo_library
    query = folder / "pattern_100bpm.wav"
    window = open_window(qtbot, library_dir)
    window.show()
    latest_answer(qtbot, window, lambda: window.set_query(str(query)))
    waveform = window.waveform
    qtbot.waitUntil(waveform.has_waveform, timeout=WAIT_MS)
    assert waveform.duration() == pytest.approx(frames(query) / SR)
    assert waveform.playhead() is None

    qtbot.mouseClick(waveform, Qt.MouseButton.LeftButton, pos=QPoint(waveform.width() // 2, waveform.height() // 2))
    qtbot.waitUntil(lambda: window.playing() is not None, timeout=WAIT_MS)
    assert played[-1][0] == pytest.approx(frames(query) / 2, abs=SR * 0.05)  # from the middle on
    first = waveform.playhead()
    assert first == pytest.approx(waveform.duration() / 2, abs=0.1)
    qtbot.waitUntil(lambda: waveform.playhead() > first + 0.1, timeout=WAIT_MS)  # it moves
    assert window.query_panel.play.text() == "Stop"

    latest_answer(qtbot, window, lambda: window.set_query(str(folder / "other_100bpm.wav")))
    qtbot.waitUntil(lambda: waveform.playhead() is None, timeout=WAIT_MS)  # another query: not what plays
    assert window.query_panel.play.text() == "Play"


def test_the_tempo_locked_preview_plays_loops_at_the_knob_tempo(qtbot, tempo_library, played, tmp_path):
    library_dir, folder = tempo_library
    window = open_window(qtbot, library_dir, cache_dir=tmp_path / "stretched")
    latest_answer(qtbot, window, lambda: window.set_query(str(folder / "pattern_100bpm.wav")))
    latest_answer(qtbot, window, lambda: window.knob.set_target_bpm(125))
    window.query_panel.tempo_lock.click()

    def play(name: str) -> int:
        before = len(played)
        window.toggle_play(str(folder / name))
        qtbot.waitUntil(lambda: len(played) > before, timeout=WAIT_MS)
        window.toggle_play(str(folder / name))  # stop again
        return played[-1][0]

    assert play("pattern_150bpm.wav") == pytest.approx(frames(folder / "pattern_150bpm.wav") * 150 / 125, rel=0.01)
    assert play("pattern_100bpm.wav") == pytest.approx(frames(folder / "pattern_100bpm.wav") * 100 / 125, rel=0.01)
    assert play("pattern_125bpm.wav") == frames(folder / "pattern_125bpm.wav")  # already at 125 BPM
    assert play("kick.wav") == frames(folder / "kick.wav")  # a one-shot plays as it is
    window.query_panel.tempo_lock.click()
    assert play("pattern_150bpm.wav") == frames(folder / "pattern_150bpm.wav")  # off: as it is


def test_with_the_tempo_lock_a_drag_hands_out_a_copy_at_the_knob_tempo(qtbot, tempo_library, tmp_path):
    library_dir, folder = tempo_library
    cache = tmp_path / "stretched"
    before = sorted(folder.iterdir())
    slow = replace(DESKTOP, settle_seconds=3600.0)  # the knob never rests: nothing is made ahead at 150 BPM
    window = open_window(qtbot, library_dir, cache_dir=cache, cfg=slow)
    latest_answer(qtbot, window, lambda: window.set_query(str(folder / "pattern_100bpm.wav")))
    window.query_panel.tempo_lock.click()  # makes the copies at 100 BPM ahead (a few at most: most are as is)
    latest_answer(qtbot, window, lambda: window.knob.set_target_bpm(150))
    widen(qtbot, window)
    answer = widen(qtbot, window)  # within 24 % of 150 BPM: the 125 BPM loops too
    model = window.results_view.model
    row = {Path(r.path).name: i for i, r in enumerate(answer.results)}

    assert model.mimeData([model.index(row["pattern_125bpm.wav"], 1)]) is None  # not made yet: no drag
    assert window.statusBar().currentMessage().startswith("Stretching pattern_125bpm.wav to 150 BPM")
    qtbot.waitUntil(lambda: window.tempo_lock.copy_of(str(folder / "pattern_125bpm.wav")) is not None, timeout=WAIT_MS)

    urls = model.mimeData([model.index(row["pattern_125bpm.wav"], 1)]).urls()
    copy = Path(urls[0].toLocalFile())
    assert copy.name == "pattern_125bpm @ 150 BPM.wav" and copy.is_relative_to(cache)
    assert frames(copy) == pytest.approx(frames(folder / "pattern_125bpm.wav") * 125 / 150, rel=0.01)
    same = model.mimeData([model.index(row["pattern_150bpm.wav"], 1)]).urls()
    assert same[0].toLocalFile() == str(folder / "pattern_150bpm.wav")  # already at the tempo: the file itself

    assert window.query_panel.name.mime_data() is None
    qtbot.waitUntil(lambda: window.query_panel.name.mime_data() is not None, timeout=WAIT_MS)
    assert Path(window.query_panel.name.mime_data().urls()[0].toLocalFile()).name == "pattern_100bpm @ 150 BPM.wav"
    assert sorted(folder.iterdir()) == before  # nothing written beside the samples


def test_the_tempo_lock_makes_the_copies_ahead_once_the_knob_rests(qtbot, tempo_library, tmp_path):
    library_dir, folder = tempo_library
    quick = replace(DESKTOP, settle_seconds=0.05)
    window = open_window(qtbot, library_dir, cache_dir=tmp_path / "stretched", cfg=quick)
    window.query_panel.tempo_lock.click()
    latest_answer(qtbot, window, lambda: window.set_query(str(folder / "pattern_100bpm.wav")))
    answer = latest_answer(qtbot, window, lambda: window.knob.set_target_bpm(140))
    loops = [r.path for r in answer.results]
    qtbot.waitUntil(lambda: all(window.tempo_lock.copy_of(p) for p in loops), timeout=WAIT_MS)
    model = window.results_view.model
    dragged = [Path(model.mimeData([model.index(i, 1)]).urls()[0].toLocalFile()) for i in range(model.rowCount())]
    assert all(p.name.endswith(" @ 140 BPM.wav") and p.is_file() for p in dragged)
