"""GUI-thread stalls: the longest the window freezes while it indexes 1,000 files and the knob turns.

Builds 1,000 short variants of the demo library's sounds (2 s cuts at different offsets and gains)
and opens the window offscreen on a fresh library. A 5 ms QTimer on the GUI thread records when it
actually fires: the gap between two ticks is how long the window could not react. Two phases are
measured apart:

- start-up: from the window's first tick until the audio thread has warmed librosa up
  (``AudioPlayer.warmed_up``), a one-off hitch before the musician can act;
- indexing: from then on, the 1,000 files are indexed with the default worker processes while the
  tempo knob turns one notch every 30 ms (each notch is a search), with a query set as soon as the
  first files are listed. Goal: the longest gap < 50 ms.
"""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf
from PySide6.QtCore import QObject, QTimer
from PySide6.QtWidgets import QApplication

from engine.config import DEMO_DIR
from desktop.main_window import MainWindow
from desktop.messages import Catalog

N_FILES = 1000
CUT_SECONDS = 2.0
TICK_MS = 5
KNOB_MS = 30
GOAL_MS = 50.0


def build_files(folder: Path, n: int = N_FILES) -> list[Path]:
    """``n`` 2-second cuts of the demo sounds, each at its own offset and gain, as WAV files."""
    sources = [sf.read(p, dtype="float32", always_2d=True) + (p,) for p in sorted(DEMO_DIR.glob("*.flac"))]
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(n):
        audio, sr, source = sources[i % len(sources)]
        round_ = i // len(sources)
        cut = int(CUT_SECONDS * sr)
        start = (round_ * sr // 10) % max(1, len(audio) - cut)  # a tenth of a second further on each round
        gain = 0.5 + 0.5 * ((round_ * 7) % 10) / 10
        paths.append(folder / f"{source.stem}_v{i:04d}.wav")
        sf.write(paths[-1], audio[start : start + cut] * gain, sr)
    return paths


class StallMeter(QObject):
    """Ticks every ``TICK_MS`` on the GUI thread; once librosa is warmed up, turns the knob every
    ``KNOB_MS`` while ``window`` indexes ``folder``; quits the app when indexing has finished."""

    def __init__(self, window: MainWindow, folder: Path) -> None:
        super().__init__()  # a QObject: warmed_up, emitted on the audio thread, is queued to this one
        self.window, self.folder = window, folder
        self.ticks: list[float] = []
        self.answers = 0
        self.outcome = None
        self.warmed_up_at: float | None = None  # time.perf_counter() when the GUI thread heard of it
        self.warm_up_seconds = float("nan")  # as the audio thread timed it
        self._notch = 0
        self._tick = QTimer(interval=TICK_MS)
        self._tick.timeout.connect(lambda: self.ticks.append(time.perf_counter()))
        self._knob = QTimer(interval=KNOB_MS)
        self._knob.timeout.connect(self._turn)
        window.catalog_shown.connect(self._catalog)
        window.results_shown.connect(self._answered)
        window.indexing_finished.connect(self._finished)
        window.player.warmed_up.connect(self._warmed_up)

    def start(self) -> None:
        self._tick.start()

    def _warmed_up(self, seconds: float) -> None:
        self.warmed_up_at, self.warm_up_seconds = time.perf_counter(), seconds
        self._knob.start()
        self.window.add_folder(str(self.folder))

    def gaps_ms(self) -> tuple[np.ndarray, np.ndarray]:
        """Tick gaps in ms before and after the warm-up; a gap spanning it counts as start-up."""
        ticks = np.asarray(self.ticks)
        gaps = np.diff(ticks) * 1000
        after = ticks[:-1] >= (self.warmed_up_at if self.warmed_up_at is not None else np.inf)
        return gaps[~after], gaps[after]

    def _catalog(self, catalog: Catalog) -> None:
        if self.window.query() is None and catalog.tracks:
            loop = next((t for t in catalog.tracks if t.bpm is not None), catalog.tracks[0])
            # As a click would: an event of its own, after the list has been shown.
            QTimer.singleShot(0, lambda: self.window.set_query(loop.path))

    def _turn(self) -> None:
        dial = self.window.knob.dial
        if self.window.query() is not None:
            self._notch += 1
            dial.setValue(dial.minimum() + self._notch % (dial.maximum() - dial.minimum() + 1))

    def _answered(self, _answer) -> None:
        self.answers += 1

    def _finished(self, outcome) -> None:
        self.outcome = outcome
        QTimer.singleShot(200, QApplication.instance().quit)  # the last refresh and answer, then stop


def row(phase: str, gaps: np.ndarray, goal: str) -> str:
    """One table row: how many tick gaps ``gaps`` (ms) holds, the longest, p99 and median."""
    if not gaps.size:
        return f"| {phase} | 0 | - | - | - | {goal} |"
    return (f"| {phase} | {gaps.size} | {gaps.max():.1f} | {np.percentile(gaps, 99):.1f} | {np.median(gaps):.1f} "
            f"| {goal} |")


def main() -> None:
    app = QApplication.instance() or QApplication([])
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "samples"
        build_files(folder)
        window = MainWindow(Path(tmp) / "lib", cache_dir=Path(tmp) / "stretched")
        meter = StallMeter(window, folder)  # before the event loop runs: the window warms librosa up in it
        meter.start()
        window.show()
        app.exec()
        wall = time.perf_counter() - (meter.warmed_up_at or time.perf_counter())
        load = os.getloadavg()
        window.shutdown()
        window.deleteLater()
    start_up, indexing = meter.gaps_ms()
    counts = meter.outcome.counts if meter.outcome else {}
    longest = indexing.max() if indexing.size else float("nan")
    print(f"\n## GUI-thread stalls while indexing {N_FILES} files and turning the knob every {KNOB_MS} ms")
    print(f"librosa warm-up {meter.warm_up_seconds * 1000:.0f} ms on the audio thread; "
          f"{counts.get('indexed', 0)} indexed in {wall:.0f} s after it, {meter.answers} answers shown; "
          f"load average {load[0]:.2f} / {load[1]:.2f} / {load[2]:.2f} (1 / 5 / 15 min)")
    print(f"| phase | {TICK_MS} ms ticks | longest gap (ms) | p99 (ms) | median (ms) | goal |")
    print("|---|---|---|---|---|---|")
    print(row("start-up (librosa warm-up on the audio thread)", start_up, "-"))
    print(row(f"indexing {N_FILES:,} files + knob every {KNOB_MS} ms", indexing,
              f"< {GOAL_MS:.0f} ms: {'met' if longest < GOAL_MS else 'missed'}"))


if __name__ == "__main__":
    main()
