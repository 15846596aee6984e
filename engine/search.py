"""Search at a tempo: the engine behind the tempo knob.

Three modes, all on the same index of track vectors:

- ``similar``: plain nearest neighbours of the query.
- ``target``: "sounds like this, at 140 BPM": translate the query by tau = target / query BPM with
  f(z, tau) (engine/translate.py), then nearest neighbours.
- ``contour``: "sounds like this, at any tempo": translate over a log-spaced grid of tau, search at
  each point and keep each candidate's best match, reporting the tau it matched at.

A :class:`SearchSession` holds one query and answers knob moves cheaply: the query's vector and its
translations per tau are computed once and reused, so a move costs one translation (or none) and one
index query.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from engine.config import SEARCH, SearchConfig

if TYPE_CHECKING:
    from engine.library import Library, SearchResult

MODES = ("similar", "target", "contour")


class SearchError(ValueError):
    """A search the user asked for cannot be done as asked (a message for the user)."""


@dataclass(frozen=True)
class Query:
    """The query file: its track vector (D,), BPM (None: no tempo) and library row (None: outside)."""

    path: str
    vector: np.ndarray
    bpm: float | None
    file_id: int | None


class SearchSession:
    """One query and the knob's settings; :meth:`results` gives the current neighbour list."""

    def __init__(self, library: Library, k: int = 10, cfg: SearchConfig = SEARCH):
        self.library, self.k, self.cfg = library, k, cfg
        self.query: Query | None = None
        self.mode = "similar"
        self.target_bpm: float | None = None
        self.ratio: float | None = None
        self.bpm_window: float | None = None  # percent
        self._translated: OrderedDict[float, np.ndarray] = OrderedDict()

    def set_query(self, path) -> Query:
        self.query = self.library.query(path)
        self._translated.clear()
        return self.query

    def set_mode(self, mode: str) -> None:
        if mode not in MODES:
            raise SearchError(f"Unknown search mode {mode!r}: choose one of {', '.join(MODES)}")
        self.mode = mode

    def set_target_bpm(self, bpm: float | None) -> None:
        """The knob in BPM; clears a ratio set directly."""
        if bpm is not None and not bpm > 0:
            raise SearchError("The target tempo must be a positive BPM")
        self.target_bpm, self.ratio = bpm, None

    def set_ratio(self, tau: float | None) -> None:
        """The knob as a ratio T'/T (2 = twice as fast); clears a target BPM."""
        if tau is not None and not tau > 0:
            raise SearchError("The tempo ratio must be positive (2 = twice as fast)")
        self.ratio, self.target_bpm = tau, None

    def set_bpm_window(self, percent: float | None) -> None:
        self.bpm_window = percent

    def tau(self) -> float:
        """The ratio a ``target`` search translates by."""
        if self.ratio is not None:
            return self.ratio
        q = self._require_query()
        if self.target_bpm is None:
            raise SearchError("Set a target BPM or a ratio for a search at a tempo")
        if q.bpm is None:
            raise SearchError(f"{_name(q.path)} has no tempo (a one-shot?): set a ratio instead, or correct its BPM")
        return self.target_bpm / q.bpm

    def results(self) -> list[SearchResult]:
        q = self._require_query()
        if self.mode == "similar":
            taus = np.array([1.0])
        elif self.mode == "target":
            taus = np.array([self.tau()])
        else:
            taus = np.geomspace(self.cfg.contour_min, self.cfg.contour_max, self.cfg.contour_points)
        vectors = np.stack([self._vector_at(float(t)) for t in taus])
        return self.library.nearest(vectors, taus, self.k, exclude=q, window=self._window(taus))

    def _window(self, taus: np.ndarray) -> tuple[float, float] | None:
        """BPM bounds of the optional window: around the target, or around the query's own tempo."""
        if self.bpm_window is None:
            return None
        q = self._require_query()
        centre = self.target_bpm if self.mode == "target" and self.target_bpm else None
        if centre is None and q.bpm is not None:
            centre = q.bpm * (self.tau() if self.mode == "target" else 1.0)
        if centre is None:
            raise SearchError(f"{_name(q.path)} has no tempo, so a BPM window has no centre: set a target BPM")
        half = self.bpm_window / 100.0
        return centre * (1 - half), centre * (1 + half)

    def _vector_at(self, tau: float) -> np.ndarray:
        q = self._require_query()
        if abs(tau - 1.0) < 1e-9:
            return q.vector
        key = round(tau, 6)
        if key not in self._translated:
            self._translated[key] = self.library.translator(q.vector, tau)
            while len(self._translated) > self.cfg.cached_translations:
                self._translated.popitem(last=False)
        self._translated.move_to_end(key)
        return self._translated[key]

    def _require_query(self) -> Query:
        if self.query is None:
            raise SearchError("Choose a query file first")
        return self.query


def _name(path: str) -> str:
    return path.rsplit("/", 1)[-1]
