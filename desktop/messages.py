"""What the workers and the window tell each other: typed, immutable, safe to pass between threads."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from engine.library.facade import LibraryInfo, SearchResult
from engine.search.session import DEFAULT_WINDOW, WindowReport
from engine.library.store import FileRecord, Track


@dataclass(frozen=True)
class SearchRequest:
    """Everything one search needs; the window sends a new one on every knob move.

    seq : increases with every request, so a late answer to an old one is recognised and dropped
    path : the query file (a library file or any audio file dropped in)
    mode : "similar", "target" or "contour" (engine/search/session.py)
    ratio : tau = T'/T the query is translated by in mode "target" (2 = twice as fast)
    k : number of results
    bpm_window : the tempo gate's half-width in percent around the knob's tempo; None: no gate (any
        tempo); ``engine.search.session.DEFAULT_WINDOW``: the mode's default (``SEARCH.bpm_window`` at a tempo)
    """

    seq: int
    path: str
    mode: str
    ratio: float
    k: int
    bpm_window: float | None | str = DEFAULT_WINDOW


@dataclass(frozen=True)
class SearchAnswer:
    """The neighbours for one request, or why there are none.

    query_bpm : the query's tempo in BPM (None: a one-shot, or the query could not be read)
    error : a message for the musician when the search could not be done
    window : the BPM window an "at this tempo" search was gated by and how many files it held (None:
        no gate); each result's ``bpm`` is then the tempo at which it lies in the window
    """

    request: SearchRequest
    query_bpm: float | None
    results: tuple[SearchResult, ...]
    error: str | None = None
    window: WindowReport | None = None


class ListedRow(NamedTuple):
    """One row of the track list as the GUI thread needs it, made on the library thread
    (``track_table.listed_row``) so that neither painting, sorting nor filtering 100k rows calls a
    Python function per row or per comparison.

    texts : the row as shown, column by column
    keys : what each column sorts by, column by column (numbers as numbers, text lowercased)
    haystack : every column's text, casefolded and joined by newlines: what the text filter searches
    """

    texts: tuple[str, ...]
    keys: tuple[int | float | str, ...]
    haystack: str


@dataclass(frozen=True)
class TrackRows:
    """How the track list changed since the catalog before, worked out on the library thread so that
    the GUI thread only touches the rows that changed (a refresh of 100k tracks compared on the GUI
    thread froze the window for a visible moment, once a second while a folder was indexed).

    replace : the list starts again from ``added`` (the library's first catalog, or files went away)
    changed : (row, track, listed) for each listed track that changed; row as numbered in the catalog
        so far (the window, which sorts its rows, finds a track by its path)
    added : tracks appended after the listed ones, in order
    added_rows : the :class:`ListedRow` of each of ``added``
    """

    replace: bool
    changed: tuple[tuple[int, Track, ListedRow], ...] = ()
    added: tuple[Track, ...] = ()
    added_rows: tuple[ListedRow, ...] = ()


@dataclass(frozen=True)
class Catalog:
    """The library as the window lists it: analysed tracks, files that failed, and totals.

    rows : what the track list must change to show ``tracks``, since the catalog sent before
    watch_dirs : the indexed folders and every folder below them that holds a listed file, which the
        window watches for changes (worked out on the library thread: 100k paths take a while)
    """

    tracks: tuple[Track, ...]
    failed: tuple[FileRecord, ...]
    info: LibraryInfo
    rows: TrackRows
    watch_dirs: frozenset[str] = frozenset()


@dataclass(frozen=True)
class IndexOutcome:
    """How an indexing run ended.

    counts : ScanEvent outcomes ("indexed", "unchanged", "failed", ...) and how many of each
    cancelled : stopped by the user; what was indexed before is kept
    error : why the run could not start or finish (a message for the musician), else None
    """

    folders: tuple[str, ...]
    counts: Mapping[str, int]
    cancelled: bool
    error: str | None = None


@dataclass(frozen=True)
class TempoChange:
    """A BPM correction the musician asked for on the query.

    kind : "factor" (value: x2 = 2.0, /2 = 0.5, ...), "bpm" (value: the typed BPM), "lock", "unlock"
        or "reset" (back to the estimate; value unused)
    """

    path: str
    kind: str
    value: float | None = None


@dataclass(frozen=True)
class Playback:
    """A preview that started: ``path`` from ``start`` seconds into the file, at ``tau`` times its
    tempo, sounding for ``seconds`` of real time."""

    path: str
    tau: float
    start: float
    seconds: float


@dataclass(frozen=True, eq=False)
class Waveform:
    """The query's waveform, small enough to paint on every frame.

    envelope : (columns, 2) float32, each column's (min, max) sample, -1..1; empty when unreadable
    duration : seconds of audio the envelope spans
    error : why there is no waveform (a musician's words), else None
    """

    path: str
    envelope: np.ndarray
    duration: float
    error: str | None = None


@dataclass(frozen=True)
class RenderJob:
    """A stretched copy to make: ``path`` at ``tau`` times its tempo, named with ``label`` ("128 BPM")."""

    path: str
    tau: float
    label: str
