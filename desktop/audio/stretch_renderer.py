"""Stretched copies for dragging into a DAW at the knob's tempo, rendered as jobs on a lane of their own.

Its own lane, so that a pre-render of twenty results never holds up a preview; one copy per job, so
that a new list of wanted copies cancels the copies not started yet (the knob moved on) and a copy a
drag asks for goes before the others.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from pathlib import Path

from PySide6.QtCore import Signal

from engine.audio.stretched import file_stamp, render_stretched
from desktop.jobs import Job, Worker
from desktop.messages import RenderJob


class StretchRenderer(Worker):
    """Renders :class:`RenderJob` s into ``cache_dir`` (:func:`engine.audio.stretched.render_stretched`)."""

    rendered = Signal(RenderJob, str, object)  # the job, the stretched copy's path, the file's file_stamp
    failed = Signal(RenderJob, str)  # the job, why (a musician's words)

    def __init__(self, cache_dir: Path, synchronous: bool | None = None) -> None:
        super().__init__(synchronous)
        self.cache_dir = Path(cache_dir)

    def render(self, jobs: Sequence[RenderJob]) -> None:
        """Make these copies, in this order, instead of any not started yet."""
        self.lane.cancel_waiting()
        for job in dict.fromkeys(jobs):
            self._submit(job)

    def render_first(self, job: RenderJob) -> None:
        """Make this copy before the others waiting (a drag asked for it)."""
        self._submit(job, first=True)

    def _submit(self, render: RenderJob, first: bool = False) -> None:
        job = Job(partial(self._render, render), mailbox=render)  # one of each copy waits, where asked last
        job.returned.connect(lambda made: self.rendered.emit(render, *made))
        job.failed.connect(lambda reason: self.failed.emit(render, reason))
        self.lane.submit(job, first)

    def _render(self, job: RenderJob) -> tuple[str, tuple[int, int]]:
        """The copy's path and the file's stamp, taken before the read: an edit meanwhile makes the
        copy look stale, never fresh."""
        stamp = file_stamp(job.path)
        return str(render_stretched(job.path, job.tau, self.cache_dir, label=job.label)), stamp
