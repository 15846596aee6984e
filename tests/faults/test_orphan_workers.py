"""Issue 14, case 3: when the app or ``sbf index`` is killed (kill -9, a crash), its worker processes exit
within 2 s instead of analysing on."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import click_track, write

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads processes from /proc")


def alive(pid: int) -> bool:
    """Running: a zombie waiting for its new parent to reap it runs no more."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return False
    return state not in ("Z", "X")


def children(pid: int) -> set[int]:
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except (FileNotFoundError, ProcessLookupError):
                continue
            if int(fields[1]) == pid and fields[0] not in ("Z", "X"):
                found.add(int(entry.name))
    return found


def python(code: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, stdout=subprocess.PIPE, text=True,
                            stderr=subprocess.DEVNULL)


def wait_until(condition, seconds: float) -> bool:
    ends = time.monotonic() + seconds
    while time.monotonic() < ends:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


def kill_hard(proc: subprocess.Popen) -> None:
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()


def test_busy_workers_exit_within_2_s_of_the_scanner_being_killed(tmp_path):
    folder, marks = tmp_path / "samples", tmp_path / "marks"
    marks.mkdir()
    for i in range(6):
        write(folder / f"loop_{i}.wav", click_track(90 + 10 * i, 1.0, seed=i))
    scanner = python("from tests.faults.workers_kit import scan_slowly; "
                     f"scan_slowly({str(tmp_path / 'lib')!r}, {str(folder)!r}, {str(marks)!r})")
    try:
        assert wait_until(lambda: len(list(marks.iterdir())) >= 2, 60), "the two workers never got to work"
        workers = {int(m.name.split("-")[1]) for m in marks.iterdir()}
        assert workers <= children(scanner.pid)
        spawned = children(scanner.pid)  # the workers, and Python's resource tracker
    finally:
        kill_hard(scanner)
    assert wait_until(lambda: not any(alive(pid) for pid in spawned), 3.0), \
        [pid for pid in spawned if alive(pid)]


def test_without_the_kernels_help_the_watch_thread_ends_them(tmp_path):
    # Where PR_SET_PDEATHSIG does not exist (macOS, Windows), the thread watching the parent pid does it.
    parent = python("from tests.faults.workers_kit import start_watched_children; "
                    f"start_watched_children(2, {str(tmp_path)!r})")
    try:
        pids = [int(p) for p in parent.stdout.readline().split()]
        assert len(pids) == 2
        assert wait_until(lambda: all((tmp_path / f"watching-{p}").exists() for p in pids), 60)
        time.sleep(0.5)
        assert all(alive(p) for p in pids)  # the thread leaves a worker whose parent lives alone
    finally:
        kill_hard(parent)
    assert wait_until(lambda: not any(alive(p) for p in pids), 3.0)
