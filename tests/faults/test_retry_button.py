"""Issue 14, case 8 (the GUI): Retry under Problems tries every failed file again, changed or not."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # before the QApplication exists

from desktop.main_window import MainWindow
from tests.conftest import click_track, write
from tests.faults.test_retry_failed import failing
from tests.test_desktop import isolated_settings  # noqa: F401  (autouse: the user's settings stay untouched)

WAIT_MS = 30_000


def test_retry_under_problems_tries_the_failed_files_again(qtbot, tmp_path, monkeypatch):
    folder = tmp_path / "samples"
    write(folder / "good.wav", click_track(100, 2.0))
    write(folder / "flaky.wav", click_track(120, 2.0, seed=1))
    window = MainWindow(tmp_path / "home", index_workers=1)
    qtbot.addWidget(window)
    with qtbot.waitSignal(window.catalog_shown, timeout=WAIT_MS):
        pass
    assert not window.problems.retry.isEnabled()  # nothing to retry

    failing(monkeypatch)  # the decoder refuses flaky.wav this time
    with qtbot.waitSignal(window.indexing_finished, timeout=WAIT_MS) as finished:
        window.add_folder(str(folder))
    assert finished.args[0].counts == {"indexed": 1, "failed": 1}
    flaky = str((folder / "flaky.wav").resolve())
    qtbot.waitUntil(lambda: window.track_table.model.rowCount() == 1, timeout=WAIT_MS)  # the library lists it
    assert window.tabs.tabText(1) == "Problems (1)"
    assert window.errors_panel.reason_for(flaky) and window.problems.retry.isEnabled()

    monkeypatch.undo()  # it would read now, but the file did not change: a rescan keeps the failure
    with qtbot.waitSignal(window.indexing_finished, timeout=WAIT_MS) as finished:
        window.rescan_action.trigger()
    assert finished.args[0].counts == {"unchanged": 2}

    with qtbot.waitSignal(window.indexing_finished, timeout=WAIT_MS) as finished:
        window.problems.retry.click()
    assert finished.args[0].counts == {"unchanged": 1, "indexed": 1}
    qtbot.waitUntil(lambda: window.tabs.tabText(1) == "Problems (0)", timeout=WAIT_MS)
    qtbot.waitUntil(lambda: window.track_table.model.rowCount() == 2, timeout=WAIT_MS)
    assert not window.problems.retry.isEnabled()
