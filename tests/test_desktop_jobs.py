"""The job layer (desktop/jobs.py): progress, cancel, errors in words, latest wins, and the synchronous
mode; and the window it serves, which reports a runtime that cannot load instead of waiting for it."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # before the QApplication exists

import logging
import shutil
import threading
import time
from pathlib import Path

import pytest

from desktop import jobs
from desktop.jobs import Job, Lane, Worker
from engine.errors import SearchError
from engine.models import runtime
from engine.models.runtime import BackendUnavailable
from tests.conftest import click_track, write
from tests.test_desktop import isolated_settings, latest_answer, names, open_window, tempo_library  # noqa: F401

WAIT_MS = 30_000  # as tests/test_desktop.py


@pytest.fixture
def lane():
    lane = Lane(synchronous=False)
    lane.start("test-lane")
    yield lane
    lane.end()


class Heard:
    """Everything a job reported, in order, as (signal, value)."""

    def __init__(self, job: Job) -> None:
        self.signals: list[tuple[str, object]] = []
        self.threads: set[threading.Thread] = set()
        for name in ("progress", "returned", "failed", "finished"):
            getattr(job, name).connect(lambda value, name=name: self._heard(name, value))

    def _heard(self, name: str, value: object) -> None:
        self.threads.add(threading.current_thread())
        self.signals.append((name, value))

    def of(self, name: str) -> list[object]:
        return [value for signal, value in self.signals if signal == name]


def submitted(qtbot, lane: Lane, job: Job, first: bool = False) -> Heard:
    """Submit ``job`` and wait until it has finished."""
    heard = Heard(job)
    with qtbot.waitSignal(job.finished, timeout=WAIT_MS):
        lane.submit(job, first)
    return heard


def test_a_generator_job_reports_its_progress_then_its_result_on_the_gui_thread(qtbot, lane):
    ran_on = []

    def count():
        ran_on.append(threading.current_thread())
        for i in range(3):
            yield i
        return "done"

    job = Job(count)
    heard = submitted(qtbot, lane, job)
    assert heard.signals == [("progress", 0), ("progress", 1), ("progress", 2), ("returned", "done"), ("finished", job)]
    assert ran_on[0] is not threading.main_thread()
    assert heard.threads == {threading.main_thread()}
    assert job.error is None and not job.cancelled


def test_a_cancelled_generator_stops_at_its_next_yield_and_cleans_up(qtbot, lane):
    cleaned = threading.Event()

    def endless():  # as good as: a second of files (no test hangs on a lane that never ends)
        try:
            for _ in range(200):
                yield "file"
                time.sleep(0.005)
        finally:
            cleaned.set()  # as indexing commits what it analysed

    job = Job(endless)
    job.progress.connect(lambda _value: job.cancel())
    heard = submitted(qtbot, lane, job)
    assert cleaned.is_set() and job.cancelled
    assert heard.of("returned") == [] and heard.of("failed") == []
    assert 1 <= len(heard.of("progress")) < 50  # those already on their way when the cancel came


def test_a_job_cancelled_before_it_starts_never_runs(qtbot, lane):
    ran = []
    job = Job(lambda: ran.append(True))
    job.cancel()
    heard = submitted(qtbot, lane, job)
    assert ran == [] and heard.signals == [("finished", job)]


def test_an_engine_error_reaches_the_window_in_its_own_words(qtbot, lane):
    def refuse():
        raise SearchError("pattern.wav is not in this library")

    job = Job(refuse)
    heard = submitted(qtbot, lane, job)
    assert heard.signals == [("failed", "pattern.wav is not in this library"), ("finished", job)]
    assert job.error == "pattern.wav is not in this library"


def test_a_bug_in_a_job_is_logged_and_reported_in_general_words(qtbot, lane, caplog):
    job = Job(lambda: 1 / 0)
    with caplog.at_level(logging.ERROR, logger="desktop.jobs"):
        heard = submitted(qtbot, lane, job)
    assert heard.of("failed") == [jobs.UNEXPECTED.format("ZeroDivisionError")]
    assert "ZeroDivisionError" in caplog.text  # with its traceback, for the bug report


def hold(lane: Lane) -> threading.Event:
    """Keep ``lane`` busy until the event returned is set (a long search would)."""
    release, busy = threading.Event(), threading.Event()

    def wait():
        busy.set()
        release.wait(WAIT_MS / 1000)

    lane.submit(Job(wait))
    busy.wait(WAIT_MS / 1000)
    return release


def test_latest_wins_only_the_newest_waiting_job_of_a_mailbox_runs(qtbot, lane):
    release = hold(lane)
    ran = []
    turns = [Job(lambda bpm=bpm: ran.append(bpm) or bpm, mailbox="search") for bpm in range(120, 126)]
    heard = [Heard(job) for job in turns]
    other = Job(lambda: ran.append("favourite"))  # another kind of job is never dropped
    lane.submit(turns[0])
    lane.submit(other)
    for job in turns[1:]:
        lane.submit(job)
    with qtbot.waitSignal(turns[-1].finished, timeout=WAIT_MS):
        release.set()
    assert ran == ["favourite", 125]
    assert heard[-1].of("returned") == [125]
    assert all(h.signals == [("finished", job)] and job.cancelled for h, job in zip(heard[:-1], turns[:-1]))


def test_a_job_submitted_first_goes_before_those_waiting(qtbot, lane):
    release = hold(lane)
    ran = []
    later = Job(lambda: ran.append("waveform"))
    lane.submit(later)
    lane.submit(Job(lambda: ran.append("play")), first=True)
    with qtbot.waitSignal(later.finished, timeout=WAIT_MS):
        release.set()
    assert ran == ["play", "waveform"]


def test_synchronous_mode_runs_each_job_in_place_before_submit_returns(monkeypatch):
    monkeypatch.setattr(jobs, "SYNCHRONOUS", True)
    lane = Lane()
    lane.start("never started")
    ran_on = []

    def count():
        ran_on.append(threading.current_thread())
        yield from range(3)
        return "done"

    job = Job(count)
    heard = Heard(job)
    lane.submit(job)
    assert heard.signals == [("progress", 0), ("progress", 1), ("progress", 2), ("returned", "done"), ("finished", job)]
    assert ran_on == [threading.main_thread()]  # no thread, no event loop needed

    stopped = Job(count)
    heard = Heard(stopped)
    stopped.progress.connect(lambda _value: stopped.cancel())
    lane.submit(stopped)
    assert heard.of("progress") == [0]  # deterministic: the cancel comes between two items
    lane.end()


def test_a_worker_runs_what_was_submitted_then_closes_on_its_own_thread(qtbot):
    events = []

    class Recorder(Worker):
        def close(self) -> None:
            events.append(("close", threading.current_thread().name))

    worker = Recorder(synchronous=False)
    worker.start_thread("recorder")
    release = hold(worker.lane)
    worker.lane.submit(Job(lambda: events.append(("job", threading.current_thread().name))))
    release.set()
    worker.end_thread()  # blocks until the lane has ended
    assert events == [("job", "recorder"), ("close", "recorder")]


@pytest.fixture
def no_runtime(monkeypatch) -> str:
    """Neither ONNX Runtime nor torch can load: every network refuses, as in a broken install."""
    message = "Similar But Faster needs onnxruntime (or torch) to analyse audio: pip install onnxruntime"

    def refuse(*_args, **_kwargs):
        raise BackendUnavailable(message)

    monkeypatch.setattr(runtime, "inference_backend", refuse)
    return message


def test_a_runtime_that_cannot_load_is_reported_not_waited_for(qtbot, tempo_library, tmp_path, no_runtime):
    library_dir, folder = tempo_library
    window = open_window(qtbot, Path(shutil.copytree(library_dir, tmp_path / "lib")))
    new = write(tmp_path / "new" / "loop_128bpm.wav", click_track(128, 2.0))

    with qtbot.waitSignal(window.indexing_finished, timeout=WAIT_MS) as finished:
        window.add_folder(str(new.parent))  # loading MusiCNN is the first thing indexing does
    assert finished.args[0].error == no_runtime
    qtbot.waitUntil(lambda: window.statusBar().currentMessage() == no_runtime, timeout=WAIT_MS)
    assert not window.is_indexing() and window.add_folder_action.isEnabled()
    assert not window.index_panel.isVisibleTo(window)

    outside = shutil.copy(folder / "pattern_125bpm.wav", tmp_path / "my_loop.wav")  # needs MusiCNN too
    answer = latest_answer(qtbot, window, lambda: window.set_query(str(outside)))
    assert answer.error == no_runtime and not answer.results
    assert window.results_view.summary.text() == no_runtime

    latest_answer(qtbot, window, lambda: window.set_query(str(folder / "pattern_100bpm.wav")))
    answer = latest_answer(qtbot, window, lambda: window.knob.set_target_bpm(125))
    assert answer.error is None and names(answer)[0] == "pattern_125bpm.wav"  # the library's own files need none
