"""What the worker-process tests of issue 14 run in the workers: module-level, so a spawned worker can
unpickle them. Nothing here is collected as a test."""

from __future__ import annotations

import multiprocessing
import os
import sys
import time
from pathlib import Path

import numpy as np

from engine.analysis.embedding import MusicnnEmbedder
from engine.library import scan


class QuickEmbedder:
    """Two constant patches per file: the scan's plumbing without the network."""

    id, version, dimension, sample_rate = "quick", "1", 4, MusicnnEmbedder.sample_rate

    def embed(self, audio):
        return np.full((2, self.dimension), float(len(audio) % 97), np.float32)


class SlowEmbedder(QuickEmbedder):
    """Leaves ``busy-<pid>`` in ``marks`` and then computes for a minute, holding the interpreter as a
    decoder or a network in C would, between bytecodes."""

    def __init__(self, marks: str):
        self.marks = marks

    def embed(self, audio):
        Path(self.marks, f"busy-{os.getpid()}").touch()
        ends = time.monotonic() + 60
        while time.monotonic() < ends:
            sum(i * i for i in range(10_000))
        return super().embed(audio)


class CrashOn:
    """An analyser that takes its worker process down on files whose name contains ``word``, as a
    decoder's segfault would (in the scanning process itself it only raises: a test must survive it).
    With ``once`` (a file path), only the first time: the file made it, a retry finds it there. Other
    files take ``others_take`` seconds, so that they are still in the pool when it breaks."""

    name, version, needs, outputs = "crash-on", "1", frozenset(), ("ok",)

    def __init__(self, word: str, once: str | None = None, others_take: float = 0.3):
        self.word, self.once, self.others_take = word, once, others_take

    def process(self, inputs):
        if self.word in Path(inputs.path).name:
            if self.once is not None:
                if Path(self.once).exists():
                    return {"ok": True}
                Path(self.once).touch()
            if multiprocessing.parent_process() is None:
                raise RuntimeError("would have crashed the scanner")
            os._exit(11)
        time.sleep(self.others_take)
        return {"ok": True}


def scan_slowly(library_dir: str, folder: str, marks: str) -> None:
    """``python -c``: index ``folder`` with two workers that take a minute a file."""
    from engine.library.store import Store

    scanner = scan.Scanner(Store(Path(library_dir) / "library.sqlite3"), SlowEmbedder(marks), workers=2)
    scanner.analysers = ()
    for _ in scanner.scan(folder):
        pass


def _watched(scanner_pid: int, marks: str) -> None:
    scan._exit_with(scanner_pid, kernel=False)
    Path(marks, f"watching-{os.getpid()}").touch()
    while True:
        sum(i * i for i in range(10_000))


def start_watched_children(count: int, marks: str) -> None:
    """``python -c``: start ``count`` spawned children that only the parent-pid thread ends (each leaves
    ``watching-<pid>`` in ``marks`` once it watches), print their pids and wait to be killed."""
    ctx = multiprocessing.get_context("spawn")
    children = [ctx.Process(target=_watched, args=(os.getpid(), marks)) for _ in range(count)]
    for child in children:
        child.start()
    print(" ".join(str(c.pid) for c in children), flush=True)
    time.sleep(600)
    sys.exit(0)
