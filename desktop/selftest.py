"""``--selftest``: prove an installation works from end to end, and leave nothing of the musician's touched.

Opens the main window on a temporary library folder, indexes a folder into it (the bundled demo
library unless another is given), takes the first loop listed as the query, turns the tempo knob to
``DESKTOP.selftest_ratio`` times its tempo and waits for the results. It prints what it did and how
long it took (seconds to the first window included), and exits 0 only when every step worked: any
failed file, an indexing error, no loop, a search error or no results make it exit 1.

This is what ``make package-check`` runs inside the packaged app, where it shows that the frozen
decoders, the networks on ONNX Runtime, the worker processes and Qt's platform plugin all load.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path
from typing import TextIO

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

from engine.config import DESKTOP, DesktopConfig
from engine.errors import SbfError
from engine.models.runtime import NETWORKS, inference_backend
from engine.library.scan import ScanEvent
from desktop.main_window import MainWindow
from desktop.messages import Catalog, IndexOutcome, SearchAnswer
from desktop.query_driver import Ask, QueryDriver, first_loop

EXIT_FAILED = 1


def process_seconds() -> float:
    """Seconds since this process started: from the kernel's start time on Linux, else since Python
    started importing the app (which leaves out the interpreter's own start-up)."""
    try:
        with open("/proc/self/stat") as f:
            started_ticks = int(f.read().rsplit(")", 1)[1].split()[19])  # field 22, after the command name
        with open("/proc/uptime") as f:
            uptime = float(f.read().split()[0])
        return uptime - started_ticks / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError, AttributeError):
        return time.monotonic() - _IMPORTED


_IMPORTED = time.monotonic()


class SelfTest(QueryDriver):
    """Drives ``window`` through index, query and tempo knob; ``status`` is the exit status once the
    application's event loop has ended."""

    exit_failed = EXIT_FAILED

    def __init__(self, window: MainWindow, folder: Path, out: TextIO, cfg: DesktopConfig = DESKTOP) -> None:
        super().__init__(window, cfg.selftest_timeout_seconds, f"timed out after {cfg.selftest_timeout_seconds:.0f} s")
        self.folder, self.out, self.cfg = folder, out, cfg
        self.status = EXIT_FAILED
        self._started = time.monotonic()
        self._outcome: IndexOutcome | None = None
        self._failures: list[str] = []
        self._target: float | None = None
        window.index_progress_shown.connect(self._on_progress)
        window.indexing_finished.connect(self._on_indexed)
        QTimer.singleShot(0, self._on_first_window)  # runs once the event loop has shown the window

    def _on_first_window(self) -> None:
        self._say(f"first window after {process_seconds():.2f} s (since the process started)")
        try:
            runtimes = ", ".join(f"{network} on {inference_backend(network)}" for network in NETWORKS)
        except SbfError as e:  # no runtime: nothing could be indexed, say so now
            self.fail(str(e))
            return
        self._say(f"networks: {runtimes}; torch {'loaded' if 'torch' in sys.modules else 'not loaded'}")
        self._started = time.monotonic()
        self.window.add_folder(str(self.folder))

    def _on_progress(self, event: ScanEvent) -> None:
        if event.outcome == "failed":
            self._failures.append(f"{Path(event.path).name}: {event.reason}")

    def _on_indexed(self, outcome: IndexOutcome) -> None:
        counts = outcome.counts
        self._say(f"indexed {counts.get('indexed', 0)} files from {self.folder} in "
                  f"{time.monotonic() - self._started:.1f} s ({counts.get('failed', 0)} failed)")
        if outcome.error or outcome.cancelled:
            self.fail(f"indexing stopped: {outcome.error or 'cancelled'}")
        elif counts.get("failed"):
            self.fail("files could not be read:\n  " + "\n  ".join(self._failures))
        elif not counts.get("indexed"):
            self.fail(f"no audio files found in {self.folder}")
        else:
            self._outcome = outcome  # the catalog the window asks for next lists them all

    def ready(self) -> bool:
        return self._outcome is not None  # indexed without a fault: not the empty library shown at the start

    def ask(self, catalog: Catalog) -> Ask | None:
        loop = first_loop(catalog)
        if loop is None:
            self.fail("no file with a tempo to turn the knob on")
            return None
        self._target = round(loop.bpm * self.cfg.selftest_ratio)
        self._say(f"query: {Path(loop.path).name} ({loop.bpm:.0f} BPM), tempo knob to {self._target:.0f} BPM")
        self._started = time.monotonic()
        return Ask(loop.path, bpm=self._target)

    def answered(self, answer: SearchAnswer) -> None:
        if answer.request.mode != "target":
            return  # the answer to selecting the query, before the knob turned
        if answer.error:
            self.fail(f"search failed: {answer.error}")
            return
        if not answer.results:
            self.fail("the search found nothing")
            return
        self._say(f"{len(answer.results)} results at {self._target:.0f} BPM in {time.monotonic() - self._started:.2f} s:")
        for rank, r in enumerate(answer.results[: self.cfg.selftest_results], 1):
            bpm = f"{r.bpm:5.0f} BPM" if r.bpm is not None else " no tempo"
            self._say(f"  {rank}. {r.score:.3f} {bpm}  {Path(r.path).name}")
        self._say("self-test passed")
        self.status = 0
        self.finish()

    def report_failure(self, message: str) -> None:
        self._say(f"self-test FAILED: {message}", sys.stderr)

    def _say(self, line: str, stream: TextIO | None = None) -> None:
        print(line, file=stream or self.out, flush=True)  # flushed: a CI log shows how far it got


def run_selftest(app: QApplication, folder: Path, workers: int | None, out: TextIO | None = None) -> int:
    """Run the self-test in ``app`` on ``folder``, in a temporary library that is deleted afterwards;
    the report goes to ``out`` (default: standard output), failures to standard error."""
    out = out or sys.stdout
    if not folder.is_dir():
        print(f"self-test FAILED: {folder} is not a folder", file=sys.stderr)
        return EXIT_FAILED
    with tempfile.TemporaryDirectory(prefix="sbf-selftest-") as tmp:
        started = time.monotonic()
        window = MainWindow(Path(tmp) / "library", index_workers=workers, settings=None, cache_dir=Path(tmp) / "cache")
        test = SelfTest(window, folder, out)
        window.show()
        app.exec()
        window.shutdown()
        print(f"total {time.monotonic() - started:.1f} s", file=out, flush=True)
        return test.status
