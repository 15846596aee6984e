"""The desktop app's BPM window: "at this tempo" lists files near the knob's tempo, says when there are
too few and widens on request; ``sbf gui --results-json`` writes what the window lists.
Offscreen, on a tiny generated library."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # before the QApplication exists

import json
from pathlib import Path

import pytest

from desktop.widgets.results_view import BPM, NAME
from sbf import cli
from engine.library.facade import Library
from engine.search.session import DEFAULT_WINDOW
from tests.conftest import click_track, write, write_patterns
from tests.test_desktop import isolated_settings, latest_answer, open_window, widen  # noqa: F401

ONE_SHOTS = {"kick.wav", "hat.wav"}
LOOPS = 6


@pytest.fixture(scope="module")
def gate_library(tmp_path_factory):
    """Two patterns at 90, 120 and 180 BPM each, and two one-shots; indexed."""
    root = tmp_path_factory.mktemp("gate")
    folder = root / "samples"
    write_patterns(folder, (90, 120, 180))
    write(folder / "kick.wav", click_track(120, 0.3, pitch=80))
    write(folder / "hat.wav", click_track(120, 0.2, pitch=6000, seed=1))
    lib = Library(root / "lib")
    list(lib.index(folder, workers=1))
    lib.close()
    return root / "lib", folder


def listed(window) -> list[tuple[str, float | None]]:
    """(name, BPM) of each row of the results, as the list shows them."""
    model = window.results_view.model
    return [(model.index(row, NAME).data(), None if model.index(row, BPM).data() == "—" else
             float(model.index(row, BPM).data())) for row in range(model.rowCount())]


def assert_all_near(rows: list[tuple[str, float | None]], bpm: float) -> None:
    assert rows, f"nothing listed at {bpm} BPM"
    for name, shown in rows:
        assert shown is not None and abs(shown / bpm - 1) <= 0.06, f"{name} at {shown} BPM listed at {bpm} BPM"


def test_turning_the_knob_lists_only_files_near_its_tempo_and_never_a_one_shot(qtbot, gate_library):
    library_dir, folder = gate_library
    window = open_window(qtbot, library_dir)
    shown = []
    window.results_shown.connect(shown.append)
    latest_answer(qtbot, window, lambda: window.set_query(str(folder / "pattern_90bpm.wav")))

    def turn(start: int, stop: int):
        return lambda: [window.knob.dial.setValue(bpm) for bpm in range(start, stop + 1)]

    answer = latest_answer(qtbot, window, turn(91, 120))
    assert answer.request.mode == "target"
    assert_all_near(listed(window), 120)
    assert {"pattern_120bpm.wav", "other_120bpm.wav"} <= {name for name, _ in listed(window)}

    latest_answer(qtbot, window, turn(121, 180))
    assert window.knob.readout.text() == "90 → 180 BPM  (×2.00)"
    assert_all_near(listed(window), 180)
    assert {"pattern_180bpm.wav", "other_180bpm.wav"} <= {name for name, _ in listed(window)}
    assert not ONE_SHOTS & {Path(r.path).name for a in shown for r in a.results if a.request.mode == "target"}


def test_too_few_files_near_the_tempo_are_said_and_widen_lists_more(qtbot, gate_library):
    library_dir, folder = gate_library
    window = open_window(qtbot, library_dir)
    bar = window.results_view.window_bar
    latest_answer(qtbot, window, lambda: window.set_query(str(folder / "pattern_90bpm.wav")))
    assert bar.isHidden()  # "similar": no BPM window

    answer = latest_answer(qtbot, window, lambda: window.knob.set_target_bpm(120))
    first = listed(window)
    assert not bar.isHidden()
    assert bar.message.text() == answer.window.message() == f"Only {len(first)} files near 120 BPM (within 6 %)"
    assert bar.widen.text() == "Widen to 12 %"

    answer = widen(qtbot, window)
    assert answer.request.bpm_window == 12.0 and answer.window.percent == 12.0
    assert "within 12 %" in bar.message.text()
    while bar.widen.text() != "Any tempo":
        answer = widen(qtbot, window)
    assert answer.window.percent == 50.0  # the widest window a tempo has
    answer = widen(qtbot, window)
    assert answer.request.bpm_window is None and answer.window is None
    assert bar.isHidden()
    names = {name for name, _ in listed(window)}
    assert len(names) == LOOPS - 1 > len(first)  # every other loop, the query left out
    assert not ONE_SHOTS & names

    answer = latest_answer(qtbot, window, lambda: window.knob.set_target_bpm(100))
    assert answer.request.bpm_window is None  # kept while the knob turns
    answer = latest_answer(qtbot, window, lambda: window.set_query(str(folder / "pattern_120bpm.wav")))
    assert answer.request.bpm_window == DEFAULT_WINDOW and answer.window.percent == 6.0  # a new query: as before


def test_a_one_shot_at_a_tempo_is_refused_in_the_engines_words(qtbot, gate_library):
    library_dir, folder = gate_library
    window = open_window(qtbot, library_dir)
    latest_answer(qtbot, window, lambda: window.set_query(str(folder / "kick.wav")))
    answer = latest_answer(qtbot, window, lambda: window.knob.set_mode("target"))
    assert answer.error and "kick.wav has no tempo" in answer.error
    assert window.results_view.summary.text() == answer.error
    assert window.results_view.model.rowCount() == 0 and window.results_view.window_bar.isHidden()


def read_results(path: Path) -> list[dict]:
    rows = json.loads(path.read_text())
    assert all(set(row) == {"path", "bpm", "score", "tau"} for row in rows)
    return rows


def test_sbf_gui_results_json_writes_the_list_the_window_shows(qtbot, gate_library, tmp_path):
    library_dir, folder = gate_library
    shot, listed_json = tmp_path / "shot.png", tmp_path / "results.json"
    status = cli.main(["gui", "--library-dir", str(library_dir), "--screenshot", str(shot),
                       "--query", str(folder / "pattern_90bpm.wav"), "--bpm", "180", "--results-json", str(listed_json)])
    assert status == 0 and shot.is_file()
    rows = read_results(listed_json)
    assert {"pattern_180bpm.wav", "other_180bpm.wav"} <= {Path(row["path"]).name for row in rows}
    assert all(abs(row["bpm"] / 180 - 1) <= 0.06 and row["tau"] == pytest.approx(2.0) for row in rows)
    assert [row["score"] for row in rows] == sorted((row["score"] for row in rows), reverse=True)

    status = cli.main(["gui", "--library-dir", str(library_dir), "--query", str(folder / "pattern_90bpm.wav"),
                       "--mode", "similar", "--results-json", str(listed_json)])
    assert status == 0
    rows = read_results(listed_json)
    assert len(rows) == LOOPS - 1 + len(ONE_SHOTS)  # the whole library but the query
    assert {Path(row["path"]).name for row in rows if row["bpm"] is None} == ONE_SHOTS


def test_sbf_gui_results_json_fails_with_the_engines_refusal(qtbot, gate_library, tmp_path, capsys):
    library_dir, folder = gate_library
    listed_json = tmp_path / "results.json"
    status = cli.main(["gui", "--library-dir", str(library_dir), "--query", str(folder / "hat.wav"),
                       "--mode", "target", "--results-json", str(listed_json)])
    assert status == 2
    assert read_results(listed_json) == []
    assert "hat.wav has no tempo" in capsys.readouterr().err
