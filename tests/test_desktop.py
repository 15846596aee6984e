"""The desktop app as a musician uses it: the tempo knob, drag and drop, indexing, previews, errors.

Runs offscreen (no display) on tiny generated libraries; the engine work happens on the app's own
worker threads, exactly as in use.
"""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # before the QApplication exists

import shutil
import sys
from pathlib import Path

import pytest
import sounddevice
from PySide6.QtCore import QPointF, QSettings, Qt
from PySide6.QtGui import QDropEvent, QImage

from desktop.file_drag import file_mime_data
from desktop.formatting import bpm_text
from desktop.main_window import MainWindow
from desktop.messages import IndexOutcome
from desktop.widgets.tempo_knob import TempoKnob
from desktop.widgets.track_table import BPM, FAVOURITE
from sbf import cli
from engine.analysis.embedding import MusicnnEmbedder
from engine.library.facade import Library
from tests.conftest import click_track, write, write_patterns

WAIT_MS = 30_000


@pytest.fixture(autouse=True)
def isolated_settings(tmp_path, monkeypatch):
    """Nothing a test does reaches the real user's settings, library or cache."""
    for fmt in (QSettings.Format.NativeFormat, QSettings.Format.IniFormat):
        QSettings.setPath(fmt, QSettings.Scope.UserScope, str(tmp_path / "settings"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv("SBF_LIBRARY_DIR", str(tmp_path / "home"))


@pytest.fixture(scope="module")
def tempo_library(tmp_path_factory):
    """One pattern at 100, 125 and 150 BPM, another pattern at those tempi, and a one-shot; indexed."""
    root = tmp_path_factory.mktemp("desktop")
    folder = root / "samples"
    write_patterns(folder, (100, 125, 150))
    write(folder / "kick.wav", click_track(120, 0.3))
    lib = Library(root / "lib")
    list(lib.index(folder, workers=1))
    lib.close()
    return root / "lib", folder


def open_window(qtbot, library_dir: Path, **options) -> MainWindow:
    window = MainWindow(library_dir, index_workers=1, **options)
    qtbot.addWidget(window)  # closed (and its threads ended) after the test
    with qtbot.waitSignal(window.catalog_shown, timeout=WAIT_MS):
        pass
    return window


def latest_answer(qtbot, window: MainWindow, action):
    """Run ``action`` and wait for the answer to the newest request it caused."""
    answers = []
    window.results_shown.connect(answers.append)
    action()
    qtbot.waitUntil(lambda: bool(answers) and answers[-1].request.seq == window.latest_request(), timeout=WAIT_MS)
    window.results_shown.disconnect(answers.append)
    return answers[-1]


def names(answer) -> list[str]:
    return [Path(r.path).name for r in answer.results]


def widen(qtbot, window: MainWindow):
    """Click Widen over the results (shown when the BPM window holds too few files) and wait for the answer."""
    bar = window.results_view.window_bar
    assert not bar.isHidden(), "no Widen offered"
    return latest_answer(qtbot, window, bar.widen.click)


def test_turning_the_knob_moves_the_results_to_the_target_tempo(qtbot, tempo_library):
    library_dir, folder = tempo_library
    window = open_window(qtbot, library_dir)
    latest_answer(qtbot, window, lambda: window.set_query(str(folder / "pattern_100bpm.wav")))
    assert window.query_panel.details.text().startswith("100 BPM")

    answer = latest_answer(qtbot, window, lambda: window.knob.set_target_bpm(125))
    assert window.knob.readout.text() == "100 → 125 BPM  (×1.25)"
    assert answer.request.mode == "target" and answer.request.ratio == pytest.approx(1.25)
    assert names(answer)[0] == "pattern_125bpm.wav"

    def turn_through_every_notch():  # as fast as a hand can: each move is a request, the last one wins
        for bpm in range(126, 151):
            window.knob.dial.setValue(bpm)

    answer = latest_answer(qtbot, window, turn_through_every_notch)
    assert names(answer)[0] == "pattern_150bpm.wav"
    assert window.results_view.model.index(0, 1).data() == "pattern_150bpm.wav"

    answer = latest_answer(qtbot, window, lambda: window.set_query(str(folder / "pattern_125bpm.wav")))
    assert window.knob.readout.text() == "125 → 150 BPM  (×1.20)"  # the next file, at the same tempo
    assert names(answer)[0] == "pattern_150bpm.wav"


def test_results_and_the_query_drag_out_as_urls_of_existing_files(qtbot, tempo_library):
    library_dir, folder = tempo_library
    window = open_window(qtbot, library_dir)
    latest_answer(qtbot, window, lambda: window.set_query(str(folder / "pattern_100bpm.wav")))
    model = window.results_view.model
    mime = model.mimeData([model.index(0, 1), model.index(1, 1), model.index(1, 3)])
    paths = [url.toLocalFile() for url in mime.urls()]
    assert len(paths) == 2 and all(Path(p).is_file() for p in paths)
    assert all(url.scheme() == "file" for url in mime.urls())
    query_urls = window.query_panel.name.mime_data().urls()
    assert [u.toLocalFile() for u in query_urls] == [str((folder / "pattern_100bpm.wav").resolve())]
    proxy = window.track_table.proxy
    assert Path(proxy.mimeData([proxy.index(0, 1)]).urls()[0].toLocalFile()).is_file()


def test_a_file_dropped_from_outside_becomes_the_query(qtbot, tempo_library, tmp_path):
    library_dir, folder = tempo_library
    outside = shutil.copy(folder / "pattern_125bpm.wav", tmp_path / "my_loop.wav")
    window = open_window(qtbot, library_dir)
    mime = file_mime_data([str(outside)])
    drop = QDropEvent(QPointF(5, 5), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                      Qt.KeyboardModifier.NoModifier)
    answer = latest_answer(qtbot, window, lambda: window.query_panel.dropEvent(drop))
    assert window.query() == str(Path(outside).resolve())
    assert answer.query_bpm == pytest.approx(125, rel=0.04)
    assert names(answer)[0] == "pattern_125bpm.wav"  # itself, as the library holds it
    tempo = bpm_text(answer.query_bpm)
    assert window.query_panel.details.text().startswith(f"{tempo} BPM")
    assert window.knob.readout.text().startswith(f"{tempo} → {tempo} BPM")  # the knob now moves in BPM


def test_arrows_move_the_query_space_previews_and_the_filter_narrows_the_list(qtbot, tempo_library, monkeypatch):
    library_dir, folder = tempo_library
    played = []
    monkeypatch.setattr(sounddevice, "play", lambda samples, sr: played.append((len(samples), sr)))
    window = open_window(qtbot, library_dir)
    view = window.track_table.view
    window.set_query(str(folder / "kick.wav"))
    qtbot.keyClick(view, Qt.Key.Key_Down)
    assert Path(window.query()).name == "other_100bpm.wav"  # sorted by name
    qtbot.keyClick(view, Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: bool(played), timeout=WAIT_MS)
    assert played == [(int(240 / 100 * 3 * 22050), 22050)]  # the whole file at its own rate

    qtbot.keyClicks(window.track_table.filter, "pattern")
    shown = [window.track_table.proxy.index(r, 1).data() for r in range(window.track_table.proxy.rowCount())]
    assert shown == ["pattern_100bpm.wav", "pattern_125bpm.wav", "pattern_150bpm.wav"]
    window.track_table.view.sortByColumn(BPM, Qt.SortOrder.DescendingOrder)
    assert window.track_table.proxy.index(0, 1).data() == "pattern_150bpm.wav"


def test_a_favourite_is_kept_in_the_library(qtbot, tempo_library):
    library_dir, folder = tempo_library
    window = open_window(qtbot, library_dir)
    proxy = window.track_table.proxy
    window.track_table.view.clicked.emit(proxy.index(0, FAVOURITE))
    assert proxy.index(0, FAVOURITE).data() == "★"
    window.close()
    lib = Library(library_dir)
    try:
        marked = [t for t in lib.store.tracks(MusicnnEmbedder.id, MusicnnEmbedder.version) if t.favourite]
    finally:
        lib.close()
    assert [Path(t.path).name for t in marked] == [proxy.index(0, 1).data()]


def test_a_missing_audio_device_is_a_message_not_a_crash(qtbot, tempo_library, monkeypatch):
    library_dir, folder = tempo_library

    def no_device(*_args, **_kwargs):
        raise sounddevice.PortAudioError("Error querying device -1")

    monkeypatch.setattr(sounddevice, "play", no_device)
    window = open_window(qtbot, library_dir)
    window.toggle_play(str(folder / "pattern_100bpm.wav"))
    qtbot.waitUntil(lambda: "No audio output" in window.statusBar().currentMessage(), timeout=WAIT_MS)
    answer = latest_answer(qtbot, window, lambda: window.set_query(str(folder / "pattern_100bpm.wav")))
    assert answer.results  # the rest works


@pytest.fixture
def folder_to_index(tmp_path) -> Path:
    """Six short loops and a text file posing as audio."""
    folder = tmp_path / "new"
    for i, bpm in enumerate((90, 100, 110, 120, 130, 140)):
        write(folder / f"loop_{i}_{bpm}bpm.wav", click_track(bpm, 2.0, pitch=400 + 200 * i))
    (folder / "notes.wav").write_text("this is not audio\n" * 50)
    return folder


def run_index(qtbot, window: MainWindow, folder: Path, on_progress=None) -> tuple[IndexOutcome, list]:
    events = []
    window.index_progress_shown.connect(events.append)
    if on_progress:
        window.index_progress_shown.connect(on_progress)
    with qtbot.waitSignal(window.indexing_finished, timeout=WAIT_MS) as finished:
        window.add_folder(str(folder))
    window.index_progress_shown.disconnect(events.append)
    if on_progress:
        window.index_progress_shown.disconnect(on_progress)
    return finished.args[0], events


def test_indexing_shows_progress_and_can_be_cancelled(qtbot, tmp_path, folder_to_index):
    window = open_window(qtbot, tmp_path / "lib")
    assert window.banner.isVisibleTo(window)  # first run: the demo library is offered
    # Tiny files index faster than a click: run indexing in place (the job layer's synchronous
    # mode), so that Cancel is clicked on the first file's progress before the next file is analysed.
    window.index_worker.lane.synchronous = True
    seen = []

    def cancel_after_the_first_file(_event):
        panel = window.index_panel
        seen.append((panel.isVisibleTo(window), panel.bar.value(), panel.bar.maximum()))
        panel.cancel.click()

    outcome, events = run_index(qtbot, window, folder_to_index, cancel_after_the_first_file)
    assert seen == [(True, 1, 7)]  # shown: one of seven files done
    assert outcome.cancelled and outcome.counts == {"indexed": 1}
    assert not window.index_panel.isVisibleTo(window)
    qtbot.waitUntil(lambda: window.track_table.model.rowCount() == 1, timeout=WAIT_MS)  # kept and listed

    outcome, _ = run_index(qtbot, window, folder_to_index)  # carries on where it stopped
    assert outcome.counts == {"unchanged": 1, "indexed": 5, "failed": 1} and not outcome.cancelled


def test_a_corrupt_file_shows_up_in_the_errors_panel(qtbot, tmp_path, folder_to_index):
    window = open_window(qtbot, tmp_path / "lib")
    outcome, _ = run_index(qtbot, window, folder_to_index)
    assert outcome.counts == {"indexed": 6, "failed": 1}
    bad = str(folder_to_index / "notes.wav")
    assert window.errors_panel.reason_for(bad)
    qtbot.waitUntil(lambda: window.track_table.model.rowCount() == 6, timeout=WAIT_MS)
    assert window.errors_panel.reason_for(bad)  # still listed once the library lists it
    assert window.tabs.tabText(1) == "Problems (1)"


def test_sbf_gui_screenshot_saves_the_window_with_a_query_and_its_neighbours(qtbot, tempo_library, tmp_path):
    library_dir, folder = tempo_library
    shot = tmp_path / "shot.png"
    status = cli.main(["gui", "--library-dir", str(library_dir), "--screenshot", str(shot),
                       "--query", str(folder / "pattern_100bpm.wav"), "--bpm", "150"])
    assert status == 0
    image = QImage(str(shot))
    assert image.width() >= 800 and image.height() >= 500


def test_a_long_session_of_knob_turning_leaks_nothing(qtbot):
    """Every knob move emits a signal; PySide6 6.12.0 on Python 3.11 lost a reference to True on each
    emit and aborted the app after a few thousand moves (hence the pin below 6.12)."""
    knob = TempoKnob()
    qtbot.addWidget(knob)
    knob.set_query_bpm(120)
    moves = []
    knob.changed.connect(moves.append)
    before = sys.getrefcount(True)
    for i in range(3000):
        knob.dial.setValue(60 + i % 180)
    assert len(moves) >= 2990
    assert abs(sys.getrefcount(True) - before) < 100


def test_librosas_warm_up_runs_on_the_audio_thread_not_before_the_window_shows(qtbot, tempo_library, monkeypatch):
    """On the first start after installing, numba compiles for 10 s or more: the window must not wait."""
    import threading

    from desktop.audio import player as audio_player

    ran_on = []
    monkeypatch.setattr(audio_player, "preload_audio_code", lambda: ran_on.append(threading.current_thread()))
    open_window(qtbot, tempo_library[0])
    qtbot.waitUntil(lambda: bool(ran_on), timeout=WAIT_MS)
    assert ran_on[0] is not threading.main_thread()
