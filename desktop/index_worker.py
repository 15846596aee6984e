"""Indexing folders into the library, as one cancellable job on a lane of its own (desktop/jobs.py).

A run is a generator job that yields a :class:`ScanEvent` per file. Cancelled, it stops after the file
in hand and what was indexed before is committed and searchable; the next run carries on from there.
The MusiCNN weights are loaded once and reused across runs and libraries: the first run is where a
runtime that cannot load is found out, and ``finished`` says so in its outcome.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path

from PySide6.QtCore import Signal

from engine.analysis.embedding import MusicnnEmbedder
from engine.library.facade import Library
from engine.library.scan import FolderOffline, ScanError, ScanEvent
from engine.library.store import DamagedLibrary
from desktop.jobs import Job, Worker
from desktop.messages import IndexOutcome


class IndexWorker(Worker):
    """Indexes folders, one run at a time, reporting each file and how the run ended.

    Parameters
    ----------
    workers : analysis processes (None: the engine's default)
    synchronous : run on the calling thread (tests; see desktop/jobs.py)
    """

    progress = Signal(ScanEvent)
    finished = Signal(IndexOutcome)
    damaged = Signal(str)  # the library's database is damaged (the message says so): offer to rebuild it

    def __init__(self, workers: int | None = None, synchronous: bool | None = None) -> None:
        super().__init__(synchronous)
        self.workers = workers
        self._run: Job | None = None
        self._library: Library | None = None  # these two belong to the lane's thread
        self._embedder: MusicnnEmbedder | None = None

    def index(self, library_dir: str, folders: tuple[str, ...], retry_failed: bool = False) -> None:
        """Index ``folders`` into the library in ``library_dir``, one after the other; with ``retry_failed``,
        try every failed file of the library again instead (Retry under Problems)."""
        folders = tuple(folders)
        counts: Counter[str] = Counter()

        def count(event: ScanEvent) -> None:
            counts[event.outcome] += 1
            self.progress.emit(event)

        def report(run: Job) -> None:
            self.finished.emit(IndexOutcome(folders, dict(counts), run.cancelled, run.error))

        self._run = run = Job(partial(self._index, library_dir, folders, retry_failed))
        run.progress.connect(count)
        run.finished.connect(report)
        self.lane.submit(run)

    def release(self, then: Callable[[], None]) -> None:
        """Close the library this lane holds open (a rebuild replaces its file), then call ``then``."""
        job = Job(self.close)
        job.finished.connect(then)
        self.lane.submit(job)

    def cancel(self) -> None:
        """The running job stops after the file in hand (callable from any thread)."""
        if self._run is not None:
            self._run.cancel()

    def _index(self, library_dir: str, folders: tuple[str, ...], retry_failed: bool = False) -> Iterator[ScanEvent]:
        lib = self._library_at(library_dir)
        runs = [lib.retry_failed(self.workers)] if retry_failed else [lib.index(f, workers=self.workers) for f in folders]
        offline = []
        for events in runs:
            try:
                yield from events
            except FolderOffline as e:  # an unplugged drive: said at the end, the other folders indexed
                offline.append(str(e))
            except OSError as e:  # a folder that cannot be read
                raise ScanError(str(e)) from e
            except DamagedLibrary as e:
                self.damaged.emit(str(e))
                raise
            finally:
                events.close()  # commits what was analysed before a cancel
        if offline:
            raise FolderOffline(" ".join(offline))

    def _library_at(self, library_dir: str) -> Library:
        if self._library is None or self._library.library_dir != Path(library_dir).expanduser():
            self.close()
            if self._embedder is None:
                self._embedder = MusicnnEmbedder()  # loads the network: raises where no runtime can
            self._library = Library(library_dir, embedder=self._embedder)
        return self._library

    def close(self) -> None:
        if self._library is not None:
            self._library.close()
            self._library = None
