"""Background work, one way: jobs that run on lanes and report to the GUI thread through signals.

A *job* is a function the GUI thread must not wait for (a search, a file's waveform, a stretched
copy, indexing a folder). A plain function returns its result; a generator function yields progress,
one value per item done (a file indexed), and returns its result. Whatever it yields, returns or
raises comes back as the job's signals, always on the thread that made the lane (the GUI thread):
``progress`` per yield, then ``returned`` or ``failed``, then ``finished`` whichever way it ended.
``failed`` carries a sentence for the musician: an :class:`engine.errors.SbfError` is one already;
anything else is a bug, logged with its traceback and reported in general words. Either way the
window hears that the job ended, so it never waits for an answer that will not come (a runtime that
cannot load used to leave it waiting forever).

A *lane* is one thread that runs its jobs one after the other, so that what one job opens there the
next one finds (a SQLite connection belongs to the thread that opened it); a :class:`Worker` is the
window's part that owns a lane and what is opened on it. Three ways to submit:

- in order, the default;
- ``first=True``: before the jobs waiting (Play pressed while waveforms wait; the copy a drag needs);
- through a ``mailbox``: latest wins. A job replaces the one in the same mailbox that has not started
  yet, so the knob, which asks for a search on every move, has its newest search answered and the
  moves in between dropped.

Cancelling (from any thread): a job not started yet never runs; a generator stops at its next yield,
closed so that its ``finally`` blocks run (indexing commits what it analysed). A cancelled job
reports ``finished`` only.

In *synchronous mode* a lane runs each job on the calling thread as it is submitted, and the signals
arrive before ``submit`` returns: code written for threads tested step by step, as Picard's tests
swap in a thread pool that runs each task in place. Set :data:`SYNCHRONOUS` before the lanes are made,
or a lane's ``synchronous`` while no job waits on it.
"""

from __future__ import annotations

import inspect
import logging
import threading
from collections import deque
from collections.abc import Callable, Generator, Hashable
from typing import Any

from PySide6.QtCore import QObject, Signal

from engine.errors import SbfError

log = logging.getLogger(__name__)

SYNCHRONOUS = False  # the default of every lane made from now on (tests switch it on)
UNEXPECTED = "Something went wrong that the app did not expect ({}); the details are in its log."

_PROGRESS, _RETURNED, _FAILED, _FINISHED = range(4)


def message_for(error: Exception) -> str:
    """The sentence the window shows for ``error``: an engine error's own; for anything else (a bug),
    a general one, and the traceback goes to the log."""
    if isinstance(error, SbfError):
        return str(error)
    log.error("A background job failed", exc_info=error)
    return UNEXPECTED.format(type(error).__name__)


class Job(QObject):
    """One piece of background work and how it ended.

    Parameters
    ----------
    work : called with no arguments on the lane's thread; a generator function yields progress
    mailbox : latest wins among the jobs of this mailbox that have not started (None: none)

    After ``finished``: ``error`` is the message ``failed`` carried (None: it did not fail) and
    ``cancelled`` says whether it was cancelled.
    """

    progress = Signal(object)  # what the generator yielded
    returned = Signal(object)  # what the work returned
    failed = Signal(str)  # why it could not be done, in words for the musician
    finished = Signal(object)  # the job itself, last, however it ended

    def __init__(self, work: Callable[[], Any], mailbox: Hashable | None = None) -> None:
        super().__init__()
        self.work = work
        self.mailbox = mailbox
        self.error: str | None = None
        self._cancelled = threading.Event()

    def cancel(self) -> None:
        """Thread-safe: not started, it never runs; a generator stops at its next yield."""
        self._cancelled.set()

    @property
    def cancelled(self) -> bool:
        return self._cancelled.is_set()


class Lane(QObject):
    """A thread that runs jobs one after the other, and hands what they report to the thread that
    made the lane.

    Parameters
    ----------
    synchronous : run each job on the calling thread as it is submitted (None: :data:`SYNCHRONOUS`)
    """

    _report = Signal(object)  # (job, kind, value): queued from the lane's thread to the lane's own

    def __init__(self, synchronous: bool | None = None) -> None:
        super().__init__()
        self.synchronous = SYNCHRONOUS if synchronous is None else synchronous
        self._wake = threading.Condition()
        self._waiting: deque[Job] = deque()
        self._mailboxes: dict[Hashable, Job] = {}  # the job waiting in each mailbox
        self._ending = False
        self._thread: threading.Thread | None = None
        self._report.connect(self._deliver)

    def start(self, name: str) -> None:
        """Start the lane's thread, called ``name`` (nothing to start in synchronous mode)."""
        if not self.synchronous:
            self._ending = False
            self._thread = threading.Thread(target=self._serve, name=name, daemon=True)
            self._thread.start()

    def end(self) -> None:
        """Run the jobs submitted so far (a favourite set just before closing is kept), then end the
        thread; blocks until it has ended."""
        if self._thread is None:
            return
        with self._wake:
            self._ending = True
            self._wake.notify()
        self._thread.join()
        self._thread = None

    def submit(self, job: Job, first: bool = False) -> None:
        """Run ``job`` after those waiting (``first``: before them). Connect to its signals first: in
        synchronous mode they fire before this returns."""
        if self.synchronous:
            self._run(job)
            return
        with self._wake:
            if job.mailbox is not None:
                replaced = self._mailboxes.get(job.mailbox)
                if replaced is not None:
                    replaced.cancel()
                self._mailboxes[job.mailbox] = job
            if first:
                self._waiting.appendleft(job)
            else:
                self._waiting.append(job)
            self._wake.notify()

    def cancel_waiting(self) -> None:
        """Cancel every job not started yet."""
        with self._wake:
            for job in self._waiting:
                job.cancel()

    def _serve(self) -> None:
        while True:
            with self._wake:
                while not self._waiting and not self._ending:
                    self._wake.wait()
                if not self._waiting:
                    return
                job = self._waiting.popleft()
                if self._mailboxes.get(job.mailbox) is job:
                    del self._mailboxes[job.mailbox]  # started: a newer job no longer replaces it
            self._run(job)

    def _run(self, job: Job) -> None:
        if not job.cancelled:
            try:
                result = job.work()
                if inspect.isgenerator(result):
                    result = self._drain(job, result)
                if not job.cancelled:
                    self._report.emit((job, _RETURNED, result))
            except Exception as e:  # whatever it was, the window hears that the job ended
                self._report.emit((job, _FAILED, message_for(e)))
        self._report.emit((job, _FINISHED, None))

    def _drain(self, job: Job, steps: Generator[Any, None, Any]) -> Any:
        """Report each value ``steps`` yields, until it returns (its value) or the job is cancelled."""
        while True:
            try:
                value = next(steps)
            except StopIteration as stop:
                return stop.value
            self._report.emit((job, _PROGRESS, value))
            if job.cancelled:
                steps.close()
                return None

    def _deliver(self, report: tuple[Job, int, Any]) -> None:
        job, kind, value = report
        if kind == _PROGRESS:
            job.progress.emit(value)
        elif kind == _RETURNED:
            job.returned.emit(value)
        elif kind == _FAILED:
            job.error = value
            job.failed.emit(value)
        else:
            job.finished.emit(job)


class Worker(QObject):
    """A part of the window whose work runs as jobs on a lane of its own, and whatever that work opens
    there (a library, a decode cache) is closed there by :meth:`close`, the lane's last job."""

    def __init__(self, synchronous: bool | None = None) -> None:
        super().__init__()
        self.lane = Lane(synchronous)

    def start_thread(self, name: str) -> None:
        self.lane.start(name)

    def end_thread(self) -> None:
        """Let the jobs submitted so far run, close, and end the lane's thread; blocks until it has."""
        self.lane.submit(Job(self.close))
        self.lane.end()

    def close(self) -> None:
        """Release what the worker opened on its lane (subclasses)."""
