"""Stretched copies for dragging into a DAW at the knob's tempo, rendered on a thread of their own.

Its own thread, so that a pre-render of twenty results never holds up a preview; and latest wins:
a new list of wanted copies replaces the copies not started yet (the knob moved on).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path

from PySide6.QtCore import Signal, Slot

from engine.audio.decode import AudioError
from engine.audio.stretched import file_stamp, render_stretched
from desktop.library_worker import ThreadWorker
from desktop.messages import RenderJob


class StretchRenderer(ThreadWorker):
    """Renders :class:`RenderJob` s into ``cache_dir`` (:func:`engine.audio.stretched.render_stretched`)."""

    rendered = Signal(RenderJob, str, object)  # the job, the stretched copy's path, the file's file_stamp
    failed = Signal(RenderJob, str)  # the job, why (a musician's words)

    _posted = Signal()

    def __init__(self, cache_dir: Path) -> None:
        super().__init__()
        self.cache_dir = Path(cache_dir)
        self._lock = threading.Lock()
        self._queue: list[RenderJob] = []
        self._posted.connect(self._next)

    def render(self, jobs: Sequence[RenderJob]) -> None:
        """Make these copies, in this order, instead of any not started yet."""
        with self._lock:
            self._queue = list(dict.fromkeys(jobs))
        self._posted.emit()

    def render_first(self, job: RenderJob) -> None:
        """Make this copy before the others waiting (a drag asked for it)."""
        with self._lock:
            self._queue = [job, *(j for j in self._queue if j != job)]
        self._posted.emit()

    @Slot()
    def _next(self) -> None:
        with self._lock:
            if not self._queue:
                return
            job = self._queue.pop(0)
        try:
            stamp = file_stamp(job.path)  # before the read: an edit meanwhile makes the copy look stale, never fresh
            copy = render_stretched(job.path, job.tau, self.cache_dir, label=job.label)
        except AudioError as e:
            self.failed.emit(job, str(e))
        else:
            self.rendered.emit(job, str(copy), stamp)
        with self._lock:
            more = bool(self._queue)
        if more:
            self._posted.emit()  # one copy per turn of this thread's event loop: a newer list cuts in
