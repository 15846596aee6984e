"""The tempo-locked audition: loops play, and drag out, at the tempo on the knob.

Each loop gets its own ratio, tau = knob BPM / its BPM, so that the query and every result sound at
the one tempo, as they would in the musician's project; one-shots have no tempo and stay as they
are. Dragging hands out a copy stretched into the cache folder. Copies are made ahead (the query
and the results, once the knob rests) on the render thread, so a drag never waits on the GUI
thread: a row whose copy is not made yet does not drag, the status bar says so, and that copy is
made next. A copy belongs to the file as it was (size and modification time): once the file is
edited, it is made again.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

from PySide6.QtCore import QObject, Signal

from engine.audio.decode import AudioError
from engine.audio.stretched import file_stamp
from desktop.audio.stretch_renderer import StretchRenderer
from desktop.formatting import bpm_text
from desktop.messages import RenderJob

SAME_TEMPO = 1e-3  # |tau - 1| below this plays the file itself: a stretch would change nothing audible


class TempoLock(QObject):
    """Which ratio each file plays at, and which file it drags out as.

    Parameters
    ----------
    renderer : makes the stretched copies, on its own thread
    bpm_of : a file's tempo in BPM as the window knows it (None: a one-shot, or unknown)
    """

    not_ready = Signal(str)  # a message: the stretched copy a drag asked for is still being made

    def __init__(self, renderer: StretchRenderer, bpm_of: Callable[[str], float | None],
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.enabled = False
        self.target_bpm: float | None = None  # the knob's tempo (None: the query has no tempo)
        self._renderer = renderer
        self._bpm_of = bpm_of
        self._copies: dict[tuple[RenderJob, tuple[int, int]], str] = {}  # by job and the file's file_stamp
        self._failed: dict[RenderJob, str] = {}  # why, until the next catalog (retry_failed)
        renderer.rendered.connect(self._rendered)
        renderer.failed.connect(self._render_failed)

    def set_enabled(self, on: bool) -> None:
        """Switch on or off; off drops the copies still waiting to be made."""
        self.enabled = on
        if not on:
            self._renderer.render(())

    def tau_for(self, path: str) -> float:
        """The ratio ``path`` plays at: 1 while off, for a one-shot, or without a knob tempo."""
        bpm = self._bpm_of(path)
        if not self.enabled or self.target_bpm is None or bpm is None:
            return 1.0
        return self.target_bpm / bpm

    def job_for(self, path: str) -> RenderJob | None:
        """The stretched copy ``path`` drags out as; None: it drags out as itself."""
        tau = self.tau_for(path)
        if abs(tau - 1.0) < SAME_TEMPO:
            return None
        return RenderJob(path, round(tau, 4), f"{bpm_text(self.target_bpm)} BPM")

    def drag_file(self, path: str) -> str | None:
        """The file a drag of ``path`` hands out; None while its stretched copy is being made."""
        job = self.job_for(path)
        if job is None:
            return path
        copy = self._copy(job)
        if copy is not None:
            return copy
        if job in self._failed:
            self.not_ready.emit(f"No stretched copy of {Path(path).name}: {self._failed[job]}")
        else:
            self._renderer.render_first(job)
            self.not_ready.emit(f"Stretching {Path(path).name} to {job.label}… drag it again in a moment.")
        return None

    def prepare(self, paths: Iterable[str]) -> None:
        """Make the stretched copies of ``paths`` that are not made yet, in this order."""
        if not self.enabled:
            return
        jobs = (self.job_for(p) for p in paths)
        self._renderer.render([j for j in jobs if j is not None and self._copy(j) is None and j not in self._failed])

    def copy_of(self, path: str) -> str | None:
        """The stretched copy of ``path`` made so far (None: none, or none needed)."""
        job = self.job_for(path)
        return self._copy(job) if job is not None else None

    def retry_failed(self) -> None:
        """Forget the copies that could not be made, so that the next request tries again (call when
        the library changed: a broken file may have been replaced, a full disk emptied)."""
        self._failed.clear()

    def _copy(self, job: RenderJob) -> str | None:
        """The copy made of ``job``'s file as it is now; None once the file was edited (or is gone)."""
        try:
            return self._copies.get((job, file_stamp(job.path)))
        except AudioError:
            return None

    def _rendered(self, job: RenderJob, copy: str, stamp: tuple[int, int]) -> None:
        self._copies[(job, stamp)] = copy

    def _render_failed(self, job: RenderJob, reason: str) -> None:
        self._failed[job] = reason
