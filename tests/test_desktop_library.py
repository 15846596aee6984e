"""The desktop app and the library around the query: range filters, recent queries, the window's
state between sessions, and folders watched for new files. Offscreen, on tiny generated libraries."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # before the QApplication exists

import shutil
from dataclasses import replace
from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, QSettings, Qt

from engine.config import DESKTOP
from engine.library.facade import Library
from engine.library.store import Track
from desktop import main_window
from desktop.widgets.track_table import BPM, FAVOURITE, NAME, TrackListDiff, TrackTable
from tests.conftest import click_track, write
from tests.test_desktop import (WAIT_MS, folder_to_index, isolated_settings, latest_answer,  # noqa: F401
                                open_window, run_index, tempo_library)

QUICK = replace(DESKTOP, settle_seconds=0.05, rescan_delay_seconds=0.2)


def shown(window) -> list[str]:
    proxy = window.track_table.proxy
    return sorted(proxy.index(r, NAME).data() for r in range(proxy.rowCount()))


def entries(window) -> list[str]:
    return [a.text() for a in window.recent_menu.actions() if a.isEnabled()]


def test_bpm_and_length_ranges_narrow_the_list(qtbot, tempo_library):
    library_dir, _folder = tempo_library
    window = open_window(qtbot, library_dir)
    table = window.track_table
    everything = shown(window)
    assert len(everything) == 7

    table.bpm_range.set_bounds(110, 160)
    assert shown(window) == ["other_125bpm.wav", "other_150bpm.wav", "pattern_125bpm.wav", "pattern_150bpm.wav"]
    table.bpm_range.set_bounds(None, 110)
    assert shown(window) == ["other_100bpm.wav", "pattern_100bpm.wav"]  # the one-shot has no tempo to be in range
    table.filter.setText("other")
    assert shown(window) == ["other_100bpm.wav"]  # with the text filter
    table.filter.clear()
    table.bpm_range.set_bounds(None, None)
    assert shown(window) == everything  # open again: the one-shot is back

    table.length_range.set_bounds(None, 1.0)
    assert shown(window) == ["kick.wav"]
    table.length_range.set_bounds(4.0, None)  # 100 BPM files last 7.2 s, 125 BPM 5.76 s, 150 BPM 4.8 s
    assert len(shown(window)) == 6 and "kick.wav" not in shown(window)
    table.length_range.set_bounds(5.0, 6.0)
    assert shown(window) == ["other_125bpm.wav", "pattern_125bpm.wav"]


def test_recent_queries_are_kept_in_the_library_and_open_again_where_they_were(qtbot, tempo_library, tmp_path):
    library_dir, folder = tempo_library
    library_dir = Path(shutil.copytree(library_dir, tmp_path / "lib"))
    window = open_window(qtbot, library_dir, cfg=QUICK)
    latest_answer(qtbot, window, lambda: window.set_query(str(folder / "pattern_100bpm.wav")))
    latest_answer(qtbot, window, lambda: window.knob.set_target_bpm(125))
    qtbot.waitUntil(lambda: entries(window) == ["pattern_100bpm.wav  —  at 125 BPM"], timeout=WAIT_MS)
    latest_answer(qtbot, window, lambda: window.set_query(str(folder / "other_150bpm.wav")))
    latest_answer(qtbot, window, lambda: window.knob.set_mode("contour"))
    qtbot.waitUntil(lambda: len(entries(window)) == 2, timeout=WAIT_MS)
    window.close()

    window = open_window(qtbot, library_dir, cfg=QUICK)
    qtbot.waitUntil(lambda: window.recent_menu.queries_shown() == 2, timeout=WAIT_MS)
    assert entries(window) == ["other_150bpm.wav  —  at any tempo", "pattern_100bpm.wav  —  at 125 BPM"]  # newest first

    answer = latest_answer(qtbot, window, window.recent_menu.actions()[1].trigger)
    assert window.query() == str(folder / "pattern_100bpm.wav")
    assert window.knob.readout.text() == "100 → 125 BPM  (×1.25)"
    assert answer.request.mode == "target" and answer.request.ratio == pytest.approx(1.25)


def test_the_window_comes_back_as_it_was_left(qtbot, tempo_library, tmp_path, monkeypatch):
    library_dir, folder = tempo_library
    demo = tmp_path / "demo_samples"
    write(demo / "demo_loop_120bpm.wav", click_track(120, 2.0))
    monkeypatch.setattr(main_window, "DEMO_DIR", demo)
    settings_file = tmp_path / "settings.ini"

    window = open_window(qtbot, library_dir, settings=QSettings(str(settings_file), QSettings.Format.IniFormat))
    window.resize(760, 560)  # within the offscreen screen's 800 x 600, which a restored window is kept to
    window.splitter.setSizes([250, 500])
    sizes = window.splitter.sizes()
    window.knob.set_mode("contour")
    window.query_panel.tempo_lock.click()
    with qtbot.waitSignal(window.indexing_finished, timeout=WAIT_MS):
        window.open_demo()
    window.close()
    assert settings_file.is_file()

    window = main_window.MainWindow(library_dir, index_workers=1,
                                    settings=QSettings(str(settings_file), QSettings.Format.IniFormat))
    qtbot.addWidget(window)
    qtbot.waitUntil(lambda: shown(window) == ["demo_loop_120bpm.wav"], timeout=WAIT_MS)  # the demo library again
    assert window.library_dir() == main_window.demo_library_dir()
    assert (window.width(), window.height()) == (760, 560)
    assert window.splitter.sizes() == sizes
    assert window.knob.mode() == "contour"
    assert window.query_panel.tempo_lock.isChecked() and window.tempo_lock.enabled


def test_a_new_file_in_a_watched_folder_is_indexed(qtbot, tmp_path, folder_to_index):
    window = open_window(qtbot, tmp_path / "lib", cfg=QUICK)
    run_index(qtbot, window, folder_to_index)
    qtbot.waitUntil(lambda: str(folder_to_index) in window.watcher.watched(), timeout=WAIT_MS)

    with qtbot.waitSignal(window.indexing_finished, timeout=WAIT_MS) as finished:
        write(folder_to_index / "drums" / "new_loop_128bpm.wav", click_track(128, 2.0))
    assert finished.args[0].counts.get("indexed") == 1  # the rest is unchanged: only the new file is analysed
    qtbot.waitUntil(lambda: "new_loop_128bpm.wav" in shown(window), timeout=WAIT_MS)
    qtbot.waitUntil(lambda: str(folder_to_index / "drums") in window.watcher.watched(), timeout=WAIT_MS)

    with qtbot.waitSignal(window.indexing_finished, timeout=WAIT_MS) as finished:
        (folder_to_index / "drums" / "new_loop_128bpm.wav").unlink()  # in a subfolder, watched in its turn
    assert finished.args[0].counts.get("removed") == 1
    qtbot.waitUntil(lambda: "new_loop_128bpm.wav" not in shown(window), timeout=WAIT_MS)


def refreshed(qtbot, window):
    """Ask the library thread for the track list again; the catalog shown, and the rows the model
    reported changed (a reset counts as None)."""
    model = window.track_table.model
    rows: list[int | None] = []
    on_changed = lambda first, last, _roles: rows.extend(range(first.row(), last.row() + 1))
    on_reset = lambda: rows.append(None)
    model.dataChanged.connect(on_changed)
    model.modelReset.connect(on_reset)
    with qtbot.waitSignal(window.catalog_shown, timeout=WAIT_MS) as shown_:
        window.library_worker.refresh()
    model.dataChanged.disconnect(on_changed)
    model.modelReset.disconnect(on_reset)
    return shown_.args[0], rows


def test_a_refresh_touches_only_the_changed_row_and_keeps_the_selection(qtbot, tempo_library, tmp_path):
    library_dir, folder = tempo_library
    library_dir = Path(shutil.copytree(library_dir, tmp_path / "lib"))
    window = open_window(qtbot, library_dir)
    table = window.track_table
    table.view.sortByColumn(NAME, Qt.SortOrder.DescendingOrder)
    assert table.select_path(str(folder / "pattern_100bpm.wav"))
    starred = str(folder / "other_125bpm.wav")
    lib = Library(library_dir)  # as another program would: the window's list only learns of it on refresh
    assert lib.store.set_favourite(starred, True)
    lib.close()

    catalog, rows = refreshed(qtbot, window)
    assert not catalog.rows.replace and not catalog.rows.added
    assert [track.path for _row, track, _texts in catalog.rows.changed] == [starred]
    assert rows == [table.model.row_of(starred)]  # that row alone, not a reset
    assert table.model.index(table.model.row_of(starred), FAVOURITE).data() == "★"
    assert table.view.current_path() == str(folder / "pattern_100bpm.wav")
    assert table.proxy.index(0, NAME).data() == "pattern_150bpm.wav"  # still sorted as the musician chose

    catalog, rows = refreshed(qtbot, window)
    assert catalog.rows.changed == () and rows == []  # nothing changed: nothing touched


def test_a_file_gone_from_the_library_replaces_the_list(qtbot, tempo_library, tmp_path):
    library_dir, folder = tempo_library
    library_dir = Path(shutil.copytree(library_dir, tmp_path / "lib"))
    window = open_window(qtbot, library_dir)
    assert window.track_table.select_path(str(folder / "kick.wav"))
    lib = Library(library_dir)
    with lib.store.transaction() as db:
        lib.store.remove(db, [lib.store.file_by_path(str(folder / "other_100bpm.wav")).id])
    lib.close()

    catalog, rows = refreshed(qtbot, window)
    assert catalog.rows.replace and len(catalog.rows.added) == 6
    assert rows == [None]
    assert "other_100bpm.wav" not in shown(window) and len(shown(window)) == 6
    assert window.track_table.view.current_path() == str(folder / "kick.wav")


def listed_track(file_id: int, name: str, bpm: float | None, seconds: float = 2.0) -> Track:
    """A track as the library lists it (no audio needed: only the list is under test)."""
    return Track(file_id, f"/samples/{name}", "/samples", seconds, bpm, None if bpm is None else "filename", False)


# Sorted as text, "90" would come after "120" and "100"; one-shots have no BPM.
UNSORTED = [listed_track(1, "b_120.wav", 120.0), listed_track(2, "kick.wav", None, 0.3),
            listed_track(3, "a_90.wav", 90.0), listed_track(4, "c_100.wav", 100.0, 4.0),
            listed_track(5, "snare.wav", None, 0.2)]


@pytest.fixture
def track_table(qtbot):
    """A shown track list of ``UNSORTED`` and the diff that feeds it, as the library thread would."""
    table = TrackTable()
    qtbot.addWidget(table)
    table.resize(600, 400)
    table.show()
    diff = TrackListDiff()
    table.apply(diff.rows(UNSORTED))
    return table, diff


def listed(table: TrackTable, column: int = NAME) -> list[str]:
    """The column's text, top to bottom, as the musician sees it."""
    return [table.proxy.index(row, column).data() for row in range(table.proxy.rowCount())]


def click_header(qtbot, table: TrackTable, column: int) -> Qt.SortOrder:
    header = table.view.horizontalHeader()
    at = QPoint(header.sectionViewportPosition(column) + header.sectionSize(column) // 2, header.height() // 2)
    qtbot.mouseClick(header.viewport(), Qt.MouseButton.LeftButton, pos=at)
    assert header.sortIndicatorSection() == column
    return header.sortIndicatorOrder()


def test_a_full_load_is_listed_by_name_and_a_header_click_sorts_bpm_as_numbers(qtbot, track_table):
    table, _diff = track_table
    assert listed(table) == ["a_90.wav", "b_120.wav", "c_100.wav", "kick.wav", "snare.wav"]

    orders = {click_header(qtbot, table, BPM): listed(table, BPM) for _ in range(2)}  # a second click flips
    assert orders[Qt.SortOrder.AscendingOrder] == ["—", "—", "90", "100", "120"]  # one-shots before every tempo
    assert orders[Qt.SortOrder.DescendingOrder] == ["120", "100", "90", "—", "—"]
    assert table.proxy.sortColumn() == -1  # the model sorted itself: Qt never compared rows in Python


def test_sorting_and_filters_work_together(qtbot, track_table):
    table, _diff = track_table
    table.view.sortByColumn(BPM, Qt.SortOrder.DescendingOrder)
    table.bpm_range.set_bounds(95, None)
    assert listed(table) == ["b_120.wav", "c_100.wav"]
    table.filter.setText("C_1")  # any case
    assert listed(table) == ["c_100.wav"]
    table.filter.setText("one-shot")  # the Type column's text
    table.bpm_range.set_bounds(None, None)
    assert listed(table) == ["kick.wav", "snare.wav"]
    table.view.sortByColumn(NAME, Qt.SortOrder.DescendingOrder)
    assert listed(table) == ["snare.wav", "kick.wav"]
    table.filter.clear()
    table.length_range.set_bounds(1.0, None)
    assert listed(table) == ["c_100.wav", "b_120.wav", "a_90.wav"]


def test_the_selection_survives_sorting_and_a_refresh(qtbot, track_table):
    table, diff = track_table
    assert table.select_path("/samples/c_100.wav")
    table.view.sortByColumn(BPM, Qt.SortOrder.AscendingOrder)
    assert table.view.current_path() == "/samples/c_100.wav"
    assert listed(table)[table.view.currentIndex().row()] == "c_100.wav"

    tempo_fixed = replace(UNSORTED[0], bpm=60.0, bpm_source="user")
    catalog = [tempo_fixed, *UNSORTED[1:], listed_track(6, "d_110.wav", 110.0), listed_track(7, "e_95.wav", 95.0)]
    rows = diff.rows(catalog)
    assert not rows.replace and len(rows.changed) == 1 and len(rows.added) == 2
    table.apply(rows)
    assert table.view.current_path() == "/samples/c_100.wav"
    assert listed(table)[table.view.currentIndex().row()] == "c_100.wav"
    assert listed(table, BPM) == ["—", "—", "60", "90", "95", "100", "110"]  # each where the sort puts it
    table.view.sortByColumn(BPM, Qt.SortOrder.DescendingOrder)
    assert listed(table, BPM) == ["110", "100", "95", "90", "60", "—", "—"]
    assert table.view.current_path() == "/samples/c_100.wav"


def test_a_star_clicked_in_the_list_sorted_by_favourite_moves_its_row_and_names_its_file(qtbot, track_table):
    table, _diff = track_table
    table.view.sortByColumn(FAVOURITE, Qt.SortOrder.DescendingOrder)
    assert listed(table, FAVOURITE) == ["☆"] * 5
    toggled = []
    table.favourite_toggled.connect(lambda path, on: toggled.append((path, on)))
    last = table.proxy.index(4, FAVOURITE)
    table.view.clicked.emit(last)
    assert toggled == [("/samples/snare.wav", True)]
    assert listed(table)[0] == "snare.wav" and listed(table, FAVOURITE) == ["★"] + ["☆"] * 4
