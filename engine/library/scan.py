"""Incremental scanning of a sample folder into the library.

A scan is a generator of :class:`ScanEvent` (one per file), so callers show progress and cancel by
simply stopping iteration. It

- skips files whose size and modification time are unchanged and whose analysis is current;
- recognises renamed or moved files by content hash and keeps their analysis (no re-embedding);
- removes files that are gone, but only when their folder is still there (an unplugged drive must
  not wipe a library);
- analyses the rest in one single-threaded worker process per core (decode, mel and network of one
  file overlap with those of another), and commits results in small batches, so a ``kill -9`` loses
  at most one batch and the next scan resumes with nothing lost or duplicated;
- records every unusable file with its reason and goes on.

It never writes into the sample folder.
"""

from __future__ import annotations

import concurrent.futures as cf
import multiprocessing
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from threadpoolctl import threadpool_limits

from engine.analysis.pipeline import FileAnalysis, analyse_file
from engine.audio.decode import AUDIO_EXTENSIONS, AudioError, FileVanished, content_hash
from engine.config import INFERENCE
from engine.analysis.embedding import Embedder, MusicnnEmbedder
from engine.errors import LibraryError
from engine.library.store import Failure, FileRecord, NewAnalysis, Store

BATCH_FILES = 16  # commit at least this often...
BATCH_SECONDS = 2.0  # ...or after this long, whichever comes first


class ScanError(LibraryError):
    """The scan as a whole cannot run (folder missing, not a folder)."""


@dataclass(frozen=True)
class ScanEvent:
    """Progress of a scan: one event per file.

    outcome : "indexed", "unchanged", "renamed", "removed" or "failed"
    done, total : files handled so far and files found in the folder (removed ones not counted)
    """

    path: str
    outcome: str
    done: int
    total: int
    reason: str | None = None


@dataclass(frozen=True)
class _Job:
    path: str
    root: str
    size: int
    mtime_ns: int
    content_hash: str | None


def find_audio_files(root: Path) -> dict[str, os.stat_result]:
    """Audio files under ``root`` by absolute path, skipping hidden files and AppleDouble ``._`` twins."""
    found = {}
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in sorted(filenames):
            if name.startswith(".") or not name.lower().endswith(AUDIO_EXTENSIONS):
                continue
            path = os.path.join(dirpath, name)
            try:
                found[path] = os.stat(path)
            except OSError:
                continue  # vanished between listing and stat
    return found


_WORKER_EMBEDDER: Embedder | None = None  # each worker process loads the network once, in _worker_init


def _worker_init() -> None:
    if hasattr(os, "nice"):  # Unix; a background scan must not take the cores from the window
        os.nice(INFERENCE.worker_nice)
    # One process per core: threads inside (the network's, numpy's BLAS) would fight over the same cores.
    threadpool_limits(INFERENCE.threads)
    global _WORKER_EMBEDDER
    _WORKER_EMBEDDER = MusicnnEmbedder(threads=INFERENCE.threads)


def _worker_analyse(job: _Job) -> FileAnalysis | AudioError:
    try:
        return analyse_file(job.path, _WORKER_EMBEDDER)
    except AudioError as e:
        return e


def default_workers() -> int:
    return max(1, min(2, os.cpu_count() or 1))


class Scanner:
    """Scans one folder into a :class:`Store` with a given embedder."""

    def __init__(self, store: Store, embedder: Embedder, workers: int | None = None):
        self.store, self.embedder = store, embedder
        self.workers = default_workers() if workers is None else workers

    def scan(self, folder: str | Path) -> Iterator[ScanEvent]:
        root_path = Path(folder).expanduser()
        if not root_path.exists():
            raise ScanError(f"Folder not found: {folder} (nothing was removed from the library)")
        if not root_path.is_dir():
            raise ScanError(f"Not a folder: {folder}")
        root = str(root_path.resolve())
        on_disk = find_audio_files(Path(root))
        known = self.store.files_under(root)
        total, done = len(on_disk), 0

        jobs, gone = [], {p: r for p, r in known.items() if p not in on_disk}
        by_hash = {r.content_hash: r for r in gone.values() if r.content_hash}
        unchanged, moved, touched = [], [], []
        for path, st in on_disk.items():
            rec = known.get(path)
            if rec and rec.size == st.st_size and rec.mtime_ns == st.st_mtime_ns and self._current(rec):
                unchanged.append(path)
                continue
            digest = _safe_hash(path)
            if rec is None and digest in by_hash:
                moved.append((by_hash.pop(digest), path, st))
            elif rec is not None and rec.status == "ok" and digest == rec.content_hash and self._current(rec):
                touched.append((rec, st))
            else:
                jobs.append(_Job(path, root, st.st_size, st.st_mtime_ns, digest))
        moved_ids = {rec.id for rec, _, _ in moved}
        removed = [r for r in gone.values() if r.id not in moved_ids]

        with self.store.transaction() as db:
            for rec, new_path, st in moved:
                self.store.move(db, rec.id, new_path, st.st_size, st.st_mtime_ns)
            for rec, st in touched:
                self.store.touch(db, rec.id, st.st_size, st.st_mtime_ns)
            self.store.remove(db, (r.id for r in removed))
        for rec in removed:
            yield ScanEvent(rec.path, "removed", done, total)
        for path in unchanged:
            done += 1
            yield ScanEvent(path, "unchanged", done, total)
        for rec, st in touched:
            done += 1
            yield ScanEvent(rec.path, "unchanged", done, total)
        for rec, new_path, _ in moved:
            done += 1
            yield ScanEvent(new_path, "renamed", done, total, reason=f"was {rec.path}")
        for event in self._analyse(jobs):
            done += 1
            yield ScanEvent(event.path, event.outcome, done, total, event.reason)

    def _current(self, rec: FileRecord) -> bool:
        """A known file needs no work: analysed with this embedder, or failed (until it changes)."""
        return rec.status == "failed" or self.store.has_analysis(rec.id, self.embedder.id, self.embedder.version)

    def _analyse(self, jobs: list[_Job]) -> Iterator[ScanEvent]:
        pending: list[NewAnalysis | Failure] = []
        last_commit = time.monotonic()
        try:
            for job, result in self._results(jobs):
                if isinstance(result, FileVanished):
                    yield ScanEvent(job.path, "failed", 0, 0, result.reason)
                    continue
                if isinstance(result, AudioError):
                    pending.append(Failure(job.path, job.root, job.size, job.mtime_ns, result.reason))
                    event = ScanEvent(job.path, "failed", 0, 0, result.reason)
                else:
                    t = result.tempo
                    pending.append(NewAnalysis(job.path, job.root, result.size, result.mtime_ns, job.content_hash or "",
                                               result.duration, result.format, result.patches, result.tempo_block,
                                               t.bpm, t.confidence, t.source,
                                               tuple((c.bpm, c.score) for c in t.candidates)))
                    event = ScanEvent(job.path, "indexed", 0, 0)
                if len(pending) >= BATCH_FILES or time.monotonic() - last_commit > BATCH_SECONDS:
                    self._commit(pending)
                    pending, last_commit = [], time.monotonic()
                yield event
        finally:
            self._commit(pending)  # work finished before a cancel is kept

    def _commit(self, items: list[NewAnalysis | Failure]) -> None:
        if not items:
            return
        with self.store.transaction() as db:
            for item in items:
                if isinstance(item, Failure):
                    self.store.put_failure(db, item)
                else:
                    self.store.put_analysis(db, item, self.embedder.id, self.embedder.version)

    def _results(self, jobs: list[_Job]) -> Iterator[tuple[_Job, FileAnalysis | AudioError]]:
        if self.workers <= 1 or len(jobs) <= 1:
            for job in jobs:
                try:
                    yield job, analyse_file(job.path, self.embedder)
                except AudioError as e:
                    yield job, e
            return
        yield from self._pool_results(jobs)

    def _pool_results(self, jobs: list[_Job]) -> Iterator[tuple[_Job, FileAnalysis | AudioError]]:
        # spawn, not fork: forking a process that has inference threads running can deadlock.
        ctx = multiprocessing.get_context("spawn")
        queue = list(reversed(jobs))
        pool = cf.ProcessPoolExecutor(self.workers, mp_context=ctx, initializer=_worker_init)
        in_flight: dict[cf.Future, _Job] = {}
        try:
            while queue or in_flight:
                while queue and len(in_flight) < 2 * self.workers:
                    job = queue.pop()
                    in_flight[pool.submit(_worker_analyse, job)] = job
                finished, _ = cf.wait(in_flight, return_when=cf.FIRST_COMPLETED)
                for future in finished:
                    job = in_flight.pop(future)
                    try:
                        yield job, future.result()
                    except cf.process.BrokenProcessPool:
                        # A decoder crashed the worker: blame the files it held, start a fresh pool.
                        pool.shutdown(wait=False, cancel_futures=True)
                        for other in [job, *in_flight.values()]:
                            yield other, AudioError(other.path, "the decoder crashed on this file")
                        in_flight.clear()
                        pool = cf.ProcessPoolExecutor(self.workers, mp_context=ctx, initializer=_worker_init)
                        break
        finally:
            pool.shutdown(wait=True, cancel_futures=True)


def _safe_hash(path: str) -> str | None:
    try:
        return content_hash(path)
    except (AudioError, OSError):
        return None  # the analysis will report why the file is unreadable
