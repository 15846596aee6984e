"""The corpus sets as the app's libraries: files, track vectors and the tempi a scan would store.

``scripts/eval_search.py`` searches them with the app's own search session. Building a set is
the costly part (its tempo estimates are cached per tempo classifier); the tables only read it.
"""

from __future__ import annotations

import dataclasses
import hashlib
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from engine.analysis.tempo import estimate_tempo
from engine.config import SEARCH, TEMPO
from engine.models.tempo_classifier import shipped_classifier
from engine.models.track_space import TrackSpace
from engine.models.translation import Translator
from engine.search.session import VectorLibrary
from engine.training.corpus import CACHE_DIR, CorpusAnalyses, MaterialSet, Render


@dataclass(frozen=True)
class Estimates:
    """The library's tempo of each file: bpm (N,) NaN for none, confidence (N,), and each file's readings."""

    bpm: np.ndarray
    confidence: np.ndarray
    beliefs: list[tuple[tuple[float, float], ...]]


class SearchedSet:
    """One set as a library: its files, vectors, estimated tempi, and the lookups the figures need."""

    def __init__(self, s: MaterialSet, space: TrackSpace, translator: Translator):
        parts = [s.held, s.train] + ([s.distractors] if s.distractors is not None else [])
        self.name = s.name
        self.renders: list[Render] = [r for p in parts for r in p.renders]
        self.vectors = np.concatenate([space.vector(p.means[:, None, :], p.blocks) for p in parts])
        self.estimates = estimated(parts)
        self.translator = translator
        self.held = list(range(len(s.held.renders)))
        self.row = {r.path: i for i, r in enumerate(self.renders)}
        self.versions: dict[str, list[int]] = {}
        for i, r in enumerate(self.renders):
            self.versions.setdefault(r.piece_id, []).append(i)

    def library(self, min_share: float) -> VectorLibrary:
        bpms = [None if math.isnan(b) else float(b) for b in self.estimates.bpm]
        cfg = dataclasses.replace(SEARCH, gate_min_share=min_share)
        return VectorLibrary([r.path for r in self.renders], self.vectors, bpms, self.translator,
                             beliefs=self.estimates.beliefs, cfg=cfg)


def estimated(parts: Sequence[CorpusAnalyses]) -> Estimates:
    """What a scan stores for each file, from the cached signal (no decoding): cached per classifier."""
    classifier = shipped_classifier()
    key = "\n".join(r.path for p in parts for r in p.renders) + repr(TEMPO) + classifier.space.fingerprint
    cache = CACHE_DIR / f"estimates_{hashlib.blake2b(key.encode(), digest_size=8).hexdigest()}.npz"
    if cache.exists():
        data = np.load(cache, allow_pickle=False)
        beliefs = [tuple(map(tuple, data["readings"][i][: data["counts"][i]])) for i in range(len(data["bpm"]))]
        return Estimates(data["bpm"], data["confidence"], beliefs)
    bpm, confidence, beliefs = [], [], []
    for p in parts:
        for i in range(len(p.renders)):
            learned = classifier.belief(classifier.space.vector(p.means[i][None, :], p.blocks[i]))
            e = estimate_tempo(float(p.durations[i]), p.signal(i), learned=learned)
            bpm.append(np.nan if e.bpm is None else e.bpm)
            confidence.append(e.confidence)
            beliefs.append(() if e.bpm is None else
                           ((e.bpm, next((c.score for c in e.candidates if c.bpm == e.bpm), 1.0)),
                            *((c.bpm, c.score) for c in e.candidates if c.bpm != e.bpm)))
    width = max(1, max(len(b) for b in beliefs))
    readings = np.zeros((len(beliefs), width, 2))
    for i, b in enumerate(beliefs):
        if b:
            readings[i, : len(b)] = b
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    np.savez(cache, bpm=np.array(bpm), confidence=np.array(confidence), readings=readings,
             counts=np.array([len(b) for b in beliefs]))
    return Estimates(np.array(bpm), np.array(confidence), beliefs)
