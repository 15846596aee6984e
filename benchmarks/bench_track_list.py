"""GUI-thread time to apply one track-list refresh at 100,000 tracks where 100 rows changed.

While a folder is indexed the window refreshes the track list about once a second. Before, the GUI
thread compared every listed track with the new catalog and formatted the changed rows
(``TrackTableModel.set_tracks``); now the library thread does that (:class:`TrackListDiff`) and the
GUI thread only applies the :class:`TrackRows` it is sent. Both are timed here on one thread, the
list shown offscreen, sorted by name, with a row selected:

- before: diff + formatting + applying, all on the GUI thread (what ``set_tracks`` did);
- after: applying alone on the GUI thread; the diff's time is reported as the library thread's.

Each refresh is a new catalog of new :class:`Track` objects (as the store reads them) with 100
favourites flipped.

Also timed: the full load of 100,000 tracks (opening a library), with the list sorted by name,
from the :class:`TrackRows` arriving to the list painted, and a text filter typed after it. The
"before" figures were measured on the previous code (a sorting :class:`QSortFilterProxyModel` that
called Python per comparison and Qt's filter asking ``data()`` per cell) on the same 2-core machine;
they are printed beside the figures measured now.
"""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import statistics
import time
from dataclasses import replace

from PySide6.QtWidgets import QApplication

from engine.library.store import Track
from desktop.widgets.track_table import TrackListDiff, TrackTable

N_TRACKS = 100_000
N_CHANGED = 100
REFRESHES = 5
BEFORE_FULL_LOAD_S = 4.56  # GUI thread, median of 2 runs of the previous code
BEFORE_FILTER_S = 1.80


def library(n: int = N_TRACKS) -> list[Track]:
    """``n`` tracks in 50 folders, one in five a one-shot, one in thirteen a favourite."""
    return [Track(i, f"/samples/pack{i % 50:02d}/loop_{i:06d}_{60 + i % 120}bpm.wav", "/samples", 2.0 + i % 7,
                  None if i % 5 == 0 else float(60 + i % 120), None if i % 5 == 0 else "filename", i % 13 == 0)
            for i in range(n)]


def next_catalog(tracks: list[Track], refresh: int) -> list[Track]:
    """The library read again: every track a new object, ``N_CHANGED`` favourites flipped."""
    flipped = set(range(refresh, len(tracks), len(tracks) // N_CHANGED))
    return [replace(t, favourite=not t.favourite) if i in flipped else replace(t) for i, t in enumerate(tracks)]


def main() -> None:
    app = QApplication.instance() or QApplication([])
    table = TrackTable()
    table.resize(800, 600)
    table.show()
    diff = TrackListDiff()
    tracks = library()
    app.processEvents()
    load_start = time.perf_counter()
    rows = diff.rows(tracks)
    made = time.perf_counter()
    table.apply(rows)
    app.processEvents()  # painted
    loaded = time.perf_counter()
    table.filter.setText("pack07")
    app.processEvents()
    filtered = time.perf_counter()
    assert table.proxy.rowCount() == N_TRACKS // 50
    table.filter.clear()
    table.select_path(tracks[N_TRACKS // 2].path)
    app.processEvents()
    before, worker, after = [], [], []
    for refresh in range(2 * REFRESHES):
        tracks = next_catalog(tracks, refresh)
        start = time.perf_counter()
        rows = diff.rows(tracks)
        diffed = time.perf_counter()
        table.apply(rows)
        done = time.perf_counter()
        assert len(rows.changed) == N_CHANGED and not rows.replace
        if refresh % 2:  # alternate, so that neither side gets the warmer caches
            before.append(done - start)
        else:
            worker.append(diffed - start)
            after.append(done - diffed)
        app.processEvents()  # the repaint between refreshes, as in the window
    ms = lambda xs: f"{statistics.median(xs) * 1000:.1f}"
    print(f"\n## Full load of {N_TRACKS:,} tracks, sorted by name (GUI thread, ms)")
    print("| step | before | after | library thread (ms) |")
    print("|---|---|---|---|")
    print(f"| full load, until painted | {BEFORE_FULL_LOAD_S * 1000:.0f} | {ms([loaded - made])} | {ms([made - load_start])} |")
    print(f"| then a text filter typed | {BEFORE_FILTER_S * 1000:.0f} | {ms([filtered - loaded])} | - |")
    print(f"\n## Track-list refresh at {N_TRACKS:,} tracks, {N_CHANGED} rows changed "
          f"(median of {REFRESHES}, sorted by name, a row selected)")
    print("| where the work runs | GUI thread (ms) | library thread (ms) |")
    print("|---|---|---|")
    print(f"| before: diff + format + apply on the GUI thread | {ms(before)} | - |")
    print(f"| after: diff + format on the library thread, apply on the GUI thread | {ms(after)} | {ms(worker)} |")


if __name__ == "__main__":
    main()
