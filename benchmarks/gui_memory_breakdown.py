"""Where the app's memory goes with the 100k-file library of :mod:`benchmarks.bench_gui_memory`:
the same steps as the window, in one process without a window, each with the resident set it
added (VmRSS) and, for the search index, tracemalloc's peak of Python and numpy allocations.

Not part of ``make bench`` (it takes a minute); run ``.venv/bin/python -m benchmarks.gui_memory_breakdown``
after ``make bench`` has built the library.
"""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import gc
import time
import tracemalloc

from benchmarks.gui_memory_child import memory_mb


def main() -> None:
    rows = []
    last = memory_mb()["VmRSS"]

    def step(name: str, extra: str = "") -> None:
        nonlocal last
        now = memory_mb()
        rows.append((name, now["VmRSS"] - last, now["VmRSS"], now["VmHWM"], extra))
        last = now["VmRSS"]

    import numpy  # noqa: F401
    step("numpy")
    import onnxruntime  # noqa: F401
    step("onnxruntime (the app's networks; torch is never loaded)")
    from PySide6.QtWidgets import QApplication
    app = QApplication([])  # noqa: F841
    step("PySide6, QApplication")
    from benchmarks.bench_gui_memory import LIBRARY_DIR, build_library
    from desktop.widgets.track_table import TrackListDiff, TrackTable
    from desktop.main_window import MainWindow  # noqa: F401
    from engine.analysis.embedding import MusicnnEmbedder
    from engine.library.facade import Library
    step("the app's modules (engine, desktop, librosa...)")
    query, _ = build_library()
    lib = Library(LIBRARY_DIR.resolve())
    step("Library opened (track space)")
    tracks = lib.store.tracks(MusicnnEmbedder.id, MusicnnEmbedder.version)
    step(f"store.tracks(): {len(tracks):,} Track objects")
    diff = TrackListDiff()
    rows_ = diff.rows(tracks)
    step("TrackListDiff.rows(): the rows sent to the window (and the diff's memory of them)")
    table = TrackTable()
    table.apply(rows_)
    app.processEvents()
    step("TrackTable.apply(): the window's model of 100k rows")
    tracemalloc.start()
    started = time.perf_counter()
    current = lib._current_index()
    took = time.perf_counter() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    gc.collect()
    g = current.gate
    step("search index: HNSW + tempo gate + paths/BPMs",
         f"{took:.1f} s; tracemalloc peak {peak / 2**20:,.0f} MB; gate (the vectors' one copy) "
         f"{g.nbytes / 2**20:,.0f} MB")
    lib.search(str(query), k=20, mode="target", target_bpm=140.0)
    step("first search at 140 BPM (translator loaded)")
    print("| step | added RSS (MB) | RSS (MB) | peak so far (MB) | notes |")
    print("|---|---|---|---|---|")
    for name, added, rss, hwm, extra in rows:
        print(f"| {name} | {added:+,.0f} | {rss:,.0f} | {hwm:,.0f} | {extra} |")


if __name__ == "__main__":
    main()
