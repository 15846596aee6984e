"""What the workers and the window tell each other: typed, immutable, safe to pass between threads."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from engine.library import LibraryInfo, SearchResult
from engine.store import FileRecord, Track


@dataclass(frozen=True)
class SearchRequest:
    """Everything one search needs; the window sends a new one on every knob move.

    seq : increases with every request, so a late answer to an old one is recognised and dropped
    path : the query file (a library file or any audio file dropped in)
    mode : "similar", "target" or "contour" (engine/search.py)
    ratio : tau = T'/T the query is translated by in mode "target" (2 = twice as fast)
    k : number of results
    """

    seq: int
    path: str
    mode: str
    ratio: float
    k: int


@dataclass(frozen=True)
class SearchAnswer:
    """The neighbours for one request, or why there are none.

    query_bpm : the query's tempo in BPM (None: a one-shot, or the query could not be read)
    error : a message for the musician when the search could not be done
    """

    request: SearchRequest
    query_bpm: float | None
    results: tuple[SearchResult, ...]
    error: str | None = None


@dataclass(frozen=True)
class Catalog:
    """The library as the window lists it: analysed tracks, files that failed, and totals."""

    tracks: tuple[Track, ...]
    failed: tuple[FileRecord, ...]
    info: LibraryInfo


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
