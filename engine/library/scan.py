"""Incremental scanning of a sample folder into the library.

A scan is a generator of :class:`ScanEvent` (one per file), so callers show progress and cancel by
simply stopping iteration. It

- skips files whose size and modification time are unchanged and whose analysis is current;
- recognises renamed or moved files by content hash and keeps their analysis (no re-embedding);
- removes files that are gone, but only when their folder is there, readable and not empty: a folder
  that vanished, or is suddenly empty or unreadable (an unplugged drive, its mount point left empty)
  is *offline* (:class:`FolderOffline`), and nothing of it is removed;
- lists what it cannot look at with the reason (a folder it cannot read, a link that leads nowhere or
  in a loop), keeping the files it knew there;
- analyses a file once whichever added folders overlap (a folder inside another one reuses its rows),
  and runs one scan of a library at a time: a second one waits for the first (an exclusive lock file
  in the library folder);
- decodes and embeds the rest in one single-threaded worker process per core (decode, mel and
  network of one file overlap with those of another) and runs every registered analyser on them
  (engine/analysis/registry.py);
- runs, on a file already embedded, only the analysers whose stored version is stale (one added or
  bumped since), on its stored embedding: the embedder is not called;
- commits results in small batches, so a ``kill -9`` loses at most one batch and the next scan
  resumes with nothing lost or duplicated;
- records every unusable file, and every analyser that failed on a file, with its reason, and goes on.

It never writes into the sample folder.
"""

from __future__ import annotations

import concurrent.futures as cf
import ctypes
import errno
import logging
import multiprocessing
import os
import pickle
import signal
import sys
import threading
import time
from collections.abc import Generator, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from threadpoolctl import threadpool_limits

from engine.analysis.contract import PATCHES, Analyser, Embedding
from engine.analysis.embedding import Embedder
from engine.analysis.pipeline import FileResults, analyse_again, analyse_new, model_key
from engine.analysis.registry import registered
from engine.audio.decode import AUDIO_EXTENSIONS, DECODER_VERSION, AudioError, FileVanished, content_hash
from engine.audio.paths import shown
from engine.config import INFERENCE
from engine.errors import LibraryError
from engine.library.store import Failure, FileRecord, NewAnalysis, Store

BATCH_FILES = 16  # commit at least this often...
BATCH_SECONDS = 2.0  # ...or after this long, whichever comes first
ORPHAN_POLL_SECONDS = 0.25  # a worker whose scanner died (kill -9, a crash) exits within this, and a little
CRASHED = "the decoder crashed on this file"
EDIT_RETRIES = 2  # a file edited while it was analysed is analysed again, at most this many times in a scan
EDITED = "it kept changing while it was being analysed: it will be analysed at the next scan"
NO_WORKERS = ("The analysis processes could not start, so this scan runs in one process (slower). In a script, "
              "put the code that indexes under  if __name__ == \"__main__\":  to use every core.")

LOCK_NAME = "indexing.lock"  # in the library folder: held by the one scan running on the library
LOCK_POLL_SECONDS = 0.5  # a scan waiting for another one tries again, and reports that it waits, this often
WAITING = "Another indexing run is using this library; waiting…"
EMPTY = "it is empty (is its drive mounted?)"  # an added folder with nothing in it: offline, not emptied

log = logging.getLogger(__name__)


class ScanError(LibraryError):
    """The scan as a whole cannot run (folder missing, not a folder)."""


class FolderOffline(ScanError):
    """An added folder that is not there, empty or unreadable, as when its drive is unplugged: nothing of
    it was removed, and its files come back when it does."""


@dataclass(frozen=True)
class ScanEvent:
    """Progress of a scan: one event per file.

    outcome : "indexed" (embedded, or stale analysers run on it), "unchanged", "renamed", "removed" or
        "failed" (the file is unusable, or an analyser failed on it, or it is a folder or link that
        could not be looked at: ``reason`` says which); "waiting" (no file: another scan holds the
        library, ``reason`` says so; repeated every :data:`LOCK_POLL_SECONDS` until it is free)
    done, total : files handled so far and files found in the folder (removed ones not counted)
    """

    path: str
    outcome: str
    done: int
    total: int
    reason: str | None = None


@dataclass(frozen=True)
class _Job:
    """One file to analyse: afresh (``file_id`` None: decode, embed, run every analyser), or a file whose
    stored embedding is current, on which only the stale ``analysers`` run."""

    path: str
    root: str
    size: int
    mtime_ns: int
    content_hash: str | None
    file_id: int | None = None
    analysers: tuple[str, ...] = ()


@dataclass(frozen=True)
class _Plan:
    """What a scan does with each file of a folder."""

    settled: list[tuple[str, str, str | None]]  # (path, outcome, reason): nothing to analyse
    moved: list[tuple[FileRecord, str, os.stat_result]]  # (its record, its new path, its stat)
    touched: list[tuple[FileRecord, os.stat_result]]  # same content, new modification time
    removed: list[FileRecord]
    jobs: list[_Job]
    failed: list[Failure] = field(default_factory=list)  # folders and links that could not be looked at
    rerooted: list[tuple[int, str]] = field(default_factory=list)  # (file id, the added folder it now belongs to)


@dataclass(frozen=True)
class _Kit:
    """What analysing a file takes besides the file: the scanner's embedder and analysers."""

    embedder: Embedder
    analysers: tuple[Analyser, ...]


@dataclass(frozen=True)
class Listing:
    """What a folder holds: its audio files, and what could not be looked at.

    files : audio files by absolute path, with their stat
    problems : folders and links that could not be looked at, by path: (the reason in words, their own
        lstat, None when even that failed)
    unreadable : folders whose files could not be listed (the library keeps what it knew in them)
    """

    files: dict[str, os.stat_result]
    problems: dict[str, tuple[str, os.stat_result | None]]
    unreadable: list[str]


def list_folder(root: str | Path) -> Listing:
    """The audio files under ``root``, skipping hidden files and AppleDouble ``._`` twins, in name order,
    each folder's files before its subfolders'.

    Links are followed, to files and to folders; a link to a folder that holds it (a loop) is not, and is
    listed with the reason, as are a link that leads nowhere (dangling, or in a circle) and a folder that
    cannot be read.
    """
    listing = Listing({}, {}, [])

    def problem(path: str, reason: str) -> None:
        listing.problems[path] = (reason, _lstat(path))

    def unreadable(folder: str, e: OSError) -> None:
        listing.unreadable.append(folder)
        problem(folder, f"this folder cannot be read ({_why(e)}), so its files were not looked at")

    def walk(folder: str, ancestors: dict[tuple[int, int], str]) -> None:
        try:
            with os.scandir(folder) as found:
                entries = sorted((e for e in found if not e.name.startswith(".")), key=lambda e: e.name)
        except OSError as e:
            unreadable(folder, e)
            return
        subfolders = []
        for entry in entries:
            try:
                is_folder = entry.is_dir()  # through a link too
            except OSError:
                is_folder = False
            if is_folder:
                subfolders.append(entry.path)
            elif entry.is_symlink() and not os.path.exists(entry.path):
                problem(entry.path, _broken_link(entry.path))
            elif entry.name.lower().endswith(AUDIO_EXTENSIONS):
                try:
                    listing.files[entry.path] = os.stat(entry.path)
                except FileNotFoundError:
                    continue  # vanished between listing and stat
                except OSError as e:
                    problem(entry.path, f"cannot be read ({_why(e)})")
        for path in subfolders:
            try:
                st = os.stat(path)
            except OSError as e:
                unreadable(path, e)
                continue
            key = (st.st_dev, st.st_ino)
            if key in ancestors:
                problem(path, f"a link back to {shown(ancestors[key])}, which holds it (a loop): not followed")
            else:
                walk(path, {**ancestors, key: path})

    ancestors = {}  # the folder and every folder that holds it: a link to one of them is a loop
    for folder in (Path(os.path.realpath(root)), *Path(os.path.realpath(root)).parents):
        try:
            st = os.stat(folder)
        except OSError:
            continue
        ancestors.setdefault((st.st_dev, st.st_ino), str(folder))
    walk(os.fspath(root), ancestors)
    return listing


def folder_offline(root: str | Path) -> str | None:
    """Why the folder ``root`` is offline, as a drive that was unplugged leaves it: not there, not a
    folder, unreadable, or empty (nothing but hidden files); None when it is there to scan."""
    try:
        with os.scandir(root) as found:
            if any(not e.name.startswith(".") for e in found):
                return None
        return EMPTY
    except FileNotFoundError:
        return "it is not there (not found: is its drive plugged in?)"
    except NotADirectoryError:
        return "it is not a folder any more"
    except OSError as e:
        return f"it cannot be read ({_why(e)})"


def _lstat(path: str) -> os.stat_result | None:
    try:
        return os.lstat(path)
    except OSError:
        return None


def _why(e: OSError) -> str:
    return (e.strerror or str(e)).lower()


def _broken_link(path: str) -> str:
    """Why a link leads to no file, in words."""
    try:
        target = shown(os.readlink(path))
    except OSError:
        target = "somewhere unknown"
    try:
        os.stat(path)
    except OSError as e:
        if e.errno == errno.ELOOP:
            return f"a link that leads round in a circle ({target}): nothing to index"
    return f"a link to {target}, which is not there"


class _IndexLock:
    """One scan of a library at a time, across processes and threads: an exclusive lock on a file in the
    library folder, which the system lets go of when the scan ends however it ends (``kill -9``
    included), so a stale lock never blocks the next one."""

    def __init__(self, path: Path):
        self.path = path
        self._fd: int | None = None
        self._held = False

    def acquire(self) -> bool:
        """Take the lock if it is free; False when another scan holds it."""
        if self._held:
            return True
        if self._fd is None:
            try:
                self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            except OSError:  # a library that cannot be written: the scan's own writes will say why
                self._held = True
                return True
        try:
            if sys.platform == "win32":
                import msvcrt
                msvcrt.locking(self._fd, msvcrt.LK_NBLCK, 1)
            else:
                import fcntl
                fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            return False
        self._held = True
        return True

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # lets go of the lock (Windows: with the handle)
        self._fd, self._held = None, False


def index_lock(library_dir: str | Path) -> _IndexLock:
    """The lock a scan of the library in ``library_dir`` holds (:meth:`Scanner.scan`); taken by whatever
    else must not change the library's files under a running scan (removing a folder)."""
    return _IndexLock(Path(library_dir) / LOCK_NAME)


def _analyse(job: _Job, stored: Embedding | None, kit: _Kit) -> FileResults | AudioError:
    try:
        if job.file_id is None:
            return analyse_new(job.path, kit.embedder, kit.analysers)
        stale = [a for a in kit.analysers if a.name in job.analysers]
        return analyse_again(job.path, stale, kit.embedder.sample_rate, stored)
    except AudioError as e:
        return e


_WORKER_KIT: tuple[bytes, _Kit] | None = None  # a worker process's kit, unpickled once


def _worker_init(scanner_pid: int) -> None:
    _exit_with(scanner_pid)
    if hasattr(os, "nice"):  # Unix; a background scan must not take the cores from the window
        os.nice(INFERENCE.worker_nice)
    # One process per core: threads inside (the network's, numpy's BLAS) would fight over the same cores.
    threadpool_limits(INFERENCE.threads)


def _worker_analyse(kit: bytes, job: _Job, stored: Embedding | None) -> FileResults | AudioError:
    # The kit comes pickled with every job (a few hundred bytes: an embedder pickles as its settings)
    # and is unpickled on the first one, after _worker_init's limits: the network loads here, once.
    global _WORKER_KIT
    if _WORKER_KIT is None or _WORKER_KIT[0] != kit:
        _WORKER_KIT = (kit, pickle.loads(kit))
    return _analyse(job, stored, _WORKER_KIT[1])


def _exit_with(scanner_pid: int, kernel: bool = True) -> None:
    """End this worker as soon as the scanner that started it is gone (kill -9, a crash), instead of
    analysing on for nobody: nothing else tells it, as it holds both ends of its own job queue.

    On Linux the kernel kills it with its parent (``PR_SET_PDEATHSIG``, which holds even while it is
    deep in a decoder or the network); everywhere, a thread checks every :data:`ORPHAN_POLL_SECONDS`
    that its parent is still the scanner (an orphan is adopted by another process). ``kernel=False``
    leaves the thread alone on the watch (tests).
    """
    if kernel and sys.platform.startswith("linux"):
        try:
            ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL, 0, 0, 0)  # 1: PR_SET_PDEATHSIG
        except (OSError, AttributeError):
            pass  # the thread below still does it

    def watch() -> None:
        while os.getppid() == scanner_pid:
            time.sleep(ORPHAN_POLL_SECONDS)
        os._exit(1)

    if os.getppid() != scanner_pid:  # the scanner died before this worker got here
        os._exit(1)
    threading.Thread(target=watch, name="sbf-scanner-watch", daemon=True).start()


def _starting_worker() -> bool:
    """True while this process is a spawned worker importing the main script, as Python's ``spawn`` does
    first: a script that indexes without ``if __name__ == "__main__":`` then indexes again in each worker."""
    return bool(getattr(multiprocessing.current_process(), "_inheriting", False))


def _new_pool(workers: int) -> cf.ProcessPoolExecutor:
    # spawn, not fork: forking a process that has inference threads running can deadlock.
    return cf.ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"),
                                  initializer=_worker_init, initargs=(os.getpid(),))


def default_workers() -> int:
    return max(1, min(2, os.cpu_count() or 1))


class Scanner:
    """Scans one folder into a :class:`Store` with a given embedder and the registered analysers.

    Parameters
    ----------
    embedder : embeds every new or changed file, in this process or, pickled, in each worker process
        (MusicnnEmbedder pickles as its settings; an embedder that cannot be pickled is run here)
    workers : worker processes (default: one per core, at most 2); 1 analyses in this process
    """

    def __init__(self, store: Store, embedder: Embedder, workers: int | None = None):
        self.store, self.embedder = store, embedder
        self.analysers = registered()
        self.workers = default_workers() if workers is None else workers
        self._retrying = False  # scan(retry_failed=True)

    def scan(self, folder: str | Path, *, retry_failed: bool = False) -> Iterator[ScanEvent]:
        """Scan ``folder``; with ``retry_failed``, its failed files are tried again even when neither they
        nor the decoder and model changed since they failed (as they are without it when one did)."""
        self._retrying = retry_failed
        if _starting_worker():
            # A script without a main guard, run again by a worker as it starts: this worker ends here,
            # quietly and before touching anything, and the scanner analyses in its own process.
            raise SystemExit(1)
        root_path = Path(folder).expanduser()
        root = str(root_path.resolve())
        lock = index_lock(self.store.path.parent)
        try:
            while not lock.acquire():  # another scan of this library: its results are this one's to reuse
                yield ScanEvent(root, "waiting", 0, 0, WAITING)
                time.sleep(LOCK_POLL_SECONDS)
            yield from self._scan(folder, root)
        finally:
            lock.release()

    def _scan(self, folder: str | Path, root: str) -> Iterator[ScanEvent]:
        offline = folder_offline(root)
        if offline is not None:
            known = len(self.store.files_under(root))
            if known:
                raise FolderOffline(f"{folder} is offline: {offline}. Nothing was removed: its {known} files stay "
                                    "in the library, shown as offline, and are back when it is.")
            if not os.path.exists(root):
                raise ScanError(f"Folder not found: {folder} (nothing was removed from the library)")
            if not os.path.isdir(root):
                raise ScanError(f"Not a folder: {folder}")
            if offline != EMPTY:
                raise ScanError(f"Cannot index {folder}: {offline}")
        listing = list_folder(root)
        on_disk = listing.files
        plan = self._plan(root, listing)
        with self.store.transaction() as db:
            for rec, new_path, st in plan.moved:
                self.store.move(db, rec.id, new_path, st.st_size, st.st_mtime_ns)
            for rec, st in plan.touched:
                self.store.touch(db, rec.id, st.st_size, st.st_mtime_ns)
            for file_id, owner in plan.rerooted:
                self.store.set_root(db, file_id, owner)
            self.store.remove(db, (r.id for r in plan.removed))
            for failure in plan.failed:
                self.store.put_failure(db, failure)
        total, done = len(on_disk) + len(listing.problems), 0
        for rec in plan.removed:
            if not (rec.status == "failed" and os.path.isdir(rec.path)):  # a folder readable again is no news
                yield ScanEvent(rec.path, "removed", done, total)
        for failure in plan.failed:
            done += 1
            yield ScanEvent(failure.path, "failed", done, total, failure.reason)
        for path, outcome, reason in plan.settled:
            done += 1
            yield ScanEvent(path, outcome, done, total, reason)
        for event in self._analyse(plan.jobs):
            done += 1
            yield ScanEvent(event.path, event.outcome, done, total, event.reason)

    def _plan(self, root: str, listing: Listing) -> _Plan:
        """What each file under ``root`` needs, from its size, modification time, content hash and the
        analyser versions stored for it (hashing only files whose size or time changed).

        The library's files under ``root`` are the scan's, whichever added folder they were found in: a
        folder inside another one (or holding it) reuses their rows, and each file belongs to the
        innermost added folder that holds it. What ``listing`` could not look at is kept as it was.
        """
        on_disk = listing.files
        known = self.store.files_under(root)
        embedded = self.store.analyser_versions(root, self.embedder.id, self.embedder.version)
        roots = self.store.roots()
        owner = _owner(root, roots)
        # What is in an unreadable folder, or in an added folder inside this one that is offline (a drive
        # mounted inside it), is unknown, not gone.
        offline_inside = [r for r in roots if r != root and _inside(r, root) and folder_offline(r) is not None]
        hidden = tuple(folder.rstrip(os.sep) + os.sep for folder in (*listing.unreadable, *offline_inside))
        gone = {p: r for p, r in known.items()
                if p not in on_disk and p not in listing.problems and not p.startswith(hidden)}
        by_hash = {r.content_hash: r for r in gone.values() if r.content_hash and r.id in embedded}
        plan = _Plan([], [], [], [], [])
        for path, (reason, st) in listing.problems.items():
            rec = known.get(path)
            if rec is not None and rec.root != owner(path):
                plan.rerooted.append((rec.id, owner(path)))
            if rec is not None and rec.status == "ok":  # a file it holds, behind a link that broke: kept as it is
                plan.settled.append((path, "failed", f"{reason}; the library keeps what it knew of it"))
            elif rec is not None and rec.error == reason:
                plan.settled.append((path, "unchanged", None))
            else:
                plan.failed.append(Failure(path, owner(path), st.st_size if st else 0, st.st_mtime_ns if st else 0,
                                           reason))
        for path, st in on_disk.items():
            rec = known.get(path)
            if rec is not None and rec.root != owner(path):
                plan.rerooted.append((rec.id, owner(path)))
            if rec and rec.size == st.st_size and rec.mtime_ns == st.st_mtime_ns and (
                    rec.status == "failed" and not self._try_again(rec) or rec.id in embedded):
                kept, outcome = rec, "unchanged"
            else:
                digest = _safe_hash(path)
                if rec is None and digest in by_hash:
                    kept, outcome = by_hash.pop(digest), "renamed"
                    plan.moved.append((kept, path, st))
                    if kept.root != owner(path):
                        plan.rerooted.append((kept.id, owner(path)))
                elif rec is not None and rec.status == "ok" and digest == rec.content_hash and rec.id in embedded:
                    kept, outcome = rec, "unchanged"
                    plan.touched.append((rec, st))
                else:
                    plan.jobs.append(_Job(path, owner(path), st.st_size, st.st_mtime_ns, digest))
                    continue
            stale = self._stale(kept, embedded)
            if stale:
                plan.jobs.append(_Job(path, owner(path), st.st_size, st.st_mtime_ns, kept.content_hash, kept.id,
                                      stale))
            else:
                plan.settled.append((path, outcome, f"was {kept.path}" if kept.path != path else None))
        moved_ids = {rec.id for rec, _, _ in plan.moved}
        plan.removed.extend(r for r in gone.values() if r.id not in moved_ids)
        return plan

    @property
    def tried_with(self) -> str:
        """What a failure is kept with: the decoder and the model that failed on the file."""
        return f"decoder {DECODER_VERSION}, model {self.embedder.id}/{self.embedder.version}"

    def _try_again(self, failed: FileRecord) -> bool:
        """Whether a failed file that did not change is tried again: when asked to (``retry_failed``),
        or when the decoder or the model is not the one that failed on it (upgraded since)."""
        return self._retrying or failed.tried_with != self.tried_with

    def _stale(self, kept: FileRecord, embedded: dict[int, dict[str, str]]) -> tuple[str, ...]:
        """The analysers a file that keeps its embedding still needs: those that never ran on it at their
        current version; none for a failed file, which is tried again only when it changes, or the
        decoder or model does, or the user asks to (:meth:`_try_again`): then it is analysed afresh."""
        if kept.status == "failed":
            return ()
        ran = embedded[kept.id]
        return tuple(a.name for a in self.analysers if ran.get(a.name) != a.version)

    def _analyse(self, jobs: list[_Job]) -> Iterator[ScanEvent]:
        pending: list[tuple[_Job, FileResults] | Failure] = []
        last_commit = time.monotonic()
        try:
            for job, result in self._checked(jobs):
                if isinstance(result, FileVanished):
                    yield ScanEvent(job.path, "failed", 0, 0, result.reason)
                    continue
                if isinstance(result, AudioError):
                    pending.append(Failure(job.path, job.root, job.size, job.mtime_ns, result.reason,
                                           self.tried_with))
                    event = ScanEvent(job.path, "failed", 0, 0, result.reason)
                else:
                    pending.append((job, result))
                    event = _analysed(result)
                if len(pending) >= BATCH_FILES or time.monotonic() - last_commit > BATCH_SECONDS:
                    self._commit(pending)
                    pending, last_commit = [], time.monotonic()
                yield event
        finally:
            self._commit(pending)  # work finished before a cancel is kept

    def _checked(self, jobs: list[_Job]) -> Iterator[tuple[_Job, FileResults | AudioError]]:
        """:meth:`_results`, each checked against the file as it is once analysed: a file whose size or
        modification time changed meanwhile (edited, still being copied in) is analysed again, afresh,
        up to :data:`EDIT_RETRIES` times; one that keeps changing is left for the next scan, with
        nothing of it stored. The hash and the analysis stored are always of one and the same content."""
        for attempt in range(EDIT_RETRIES + 1):
            edited = []
            for job, result in self._results(jobs):
                try:
                    st = os.stat(job.path)
                except FileNotFoundError:
                    yield job, FileVanished(job.path)
                    continue
                except OSError:
                    st = None  # unreadable now: whatever the analysis found stands
                if st is None or (st.st_size, st.st_mtime_ns) == (job.size, job.mtime_ns):
                    yield job, result
                elif attempt < EDIT_RETRIES:
                    edited.append(_Job(job.path, job.root, st.st_size, st.st_mtime_ns, _safe_hash(job.path)))
                else:
                    yield job, FileVanished(job.path, EDITED)
            if not edited:
                return
            jobs = edited

    def _commit(self, items: list[tuple[_Job, FileResults] | Failure]) -> None:
        if not items:
            return
        model_id, model_version = self.embedder.id, self.embedder.version
        with self.store.transaction() as db:
            for item in items:
                if isinstance(item, Failure):
                    self.store.put_failure(db, item)
                    continue
                job, done = item
                file_id = job.file_id
                if done.embedding is not None:
                    file_id = self.store.put_analysis(db, NewAnalysis(
                        job.path, job.root, done.size, done.mtime_ns, job.content_hash or "", done.duration,
                        done.format, done.embedding.patches, done.embedding.tempo_block), model_id, model_version)
                self.store.put_results(db, file_id, model_id, done.results)

    def _results(self, jobs: list[_Job]) -> Iterator[tuple[_Job, FileResults | AudioError]]:
        kit = _Kit(self.embedder, self.analysers)
        portable = _pickled(kit) if self.workers > 1 and len(jobs) > 1 else None
        if portable is not None:
            jobs = yield from self._pool_results(jobs, portable)
            if jobs:
                log.warning(NO_WORKERS)
        for job in jobs:
            yield job, _analyse(job, self._stored(job), kit)

    def _stored(self, job: _Job) -> Embedding | None:
        """The stored embedding of a file that keeps it, when one of its stale analysers reads patches."""
        if job.file_id is None or not any(PATCHES in a.needs for a in self.analysers if a.name in job.analysers):
            return None
        a = self.store.analysis_for(job.path, self.embedder.id, self.embedder.version)
        return Embedding(model_key(self.embedder), a.patches, a.tempo_block)

    def _pool_results(self, jobs: list[_Job], kit: bytes) -> Generator[tuple[_Job, FileResults | AudioError], None,
                                                                          list[_Job]]:
        """Each job's result from the worker processes; returns the jobs left undone when the workers
        could not even start (they are then analysed here, and no file is blamed for it).

        A worker that dies (a decoder crash takes its process with it) breaks the pool and every job it
        held. Those are run again in a fresh pool, one at a time: a file that breaks it once more, alone,
        is the one failed ("the decoder crashed on this file"); the others are analysed as usual.
        """
        queue = list(reversed(jobs))
        suspects: list[_Job] = []  # held by a pool that broke: run alone, next
        tried: set[str] = set()  # paths that were already in a pool that broke
        pool = _new_pool(self.workers)
        started: cf.Future | None = pool.submit(os.getpid)  # a no-op: done once the first worker is up
        in_flight: dict[cf.Future, _Job] = {}
        try:
            while queue or suspects or in_flight:
                if suspects and not in_flight:  # one at a time
                    job = suspects.pop(0)
                    in_flight[pool.submit(_worker_analyse, kit, job, self._stored(job))] = job
                elif not suspects and not any(j.path in tried for j in in_flight.values()):
                    while queue and len(in_flight) < 2 * self.workers:
                        job = queue.pop()
                        in_flight[pool.submit(_worker_analyse, kit, job, self._stored(job))] = job
                finished, _ = cf.wait(in_flight, return_when=cf.FIRST_COMPLETED)
                if not any(isinstance(f.exception(), cf.process.BrokenProcessPool) for f in finished):
                    for future in finished:
                        yield in_flight.pop(future), future.result()
                    continue
                cf.wait(in_flight)  # a broken pool ends every job it held at once
                pool.shutdown(wait=True, cancel_futures=True)
                held = list(in_flight.items())
                in_flight.clear()
                if started is not None and isinstance(started.exception(), cf.process.BrokenProcessPool):
                    # No worker ever started (a script without a main guard, ...): no file's doing.
                    return [job for _, job in held] + suspects + list(reversed(queue))
                for future, job in held:
                    if future.exception() is None:
                        yield job, future.result()
                    elif len(held) == 1 and job.path in tried:
                        yield job, AudioError(job.path, CRASHED)  # it broke a worker of its own, twice
                    else:
                        tried.add(job.path)
                        suspects.append(job)
                pool, started = _new_pool(self.workers), None
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
        return []


def _owner(root: str, roots: list[str]):
    """The added folder each path under ``root`` belongs to, ``root`` being added: the innermost one
    that holds it (``root``, or a folder added before inside it)."""
    inner = sorted((r for r in roots if r != root and _inside(r, root)), key=len, reverse=True)
    if not inner:
        return lambda path: root
    return lambda path: next((r for r in inner if _inside(path, r)), root)


def _inside(path: str, folder: str) -> bool:
    """``path`` lies in ``folder`` (at any depth)."""
    return path.startswith(folder.rstrip(os.sep) + os.sep)


def _analysed(result: FileResults) -> ScanEvent:
    """An analysed file's event: "failed" with the reasons when an analyser failed on it."""
    errors = [r.error for r in result.results if r.error]
    if errors:
        return ScanEvent(result.path, "failed", 0, 0, "indexed, but " + "; ".join(errors))
    return ScanEvent(result.path, "indexed", 0, 0)


def _pickled(kit: _Kit) -> bytes | None:
    """The kit as the worker processes get it; None when it cannot travel (then the scan runs here)."""
    try:
        return pickle.dumps(kit)
    except (pickle.PicklingError, TypeError, AttributeError):
        return None


def _safe_hash(path: str) -> str | None:
    try:
        return content_hash(path)
    except (AudioError, OSError):
        return None  # the analysis will report why the file is unreadable
