"""Merging neighbours for the tempo knob, on vectors held in memory (no audio, no database)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from engine.config import SEARCH
from engine.search import SearchSession, VectorLibrary
from engine.vector_index import ExactIndex


class CountingIndex(ExactIndex):
    """An exact index that records how many neighbours each query asked for."""

    def __init__(self, dim: int):
        super().__init__(dim)
        self.asked: list[int] = []

    def _search(self, queries, k):
        self.asked.append(k)
        return super()._search(queries, k)


def library(vectors, bpms, translator=lambda v, tau: v, index=None) -> VectorLibrary:
    return VectorLibrary([f"/lib/{i}.wav" for i in range(len(vectors))], np.asarray(vectors, np.float32), bpms,
                         translator, index)


def test_a_bpm_window_with_a_target_is_the_plain_bpm_filter():
    rng = np.random.default_rng(0)
    bpms = rng.uniform(80, 180, 300).round(1).tolist()
    lib = library(rng.standard_normal((300, 8)), bpms)
    session = SearchSession(lib, k=10)
    session.set_query("/lib/0.wav")
    session.set_target_bpm(140)
    session.set_bpm_window(4)
    results = session.results()  # mode "similar": no translation, only the filter moves with the knob
    assert len(results) == 10 and all(134.4 <= r.bpm <= 145.6 for r in results)
    assert all(r.tau == 1.0 for r in results)
    in_window = [i for i, b in enumerate(bpms) if 134.4 <= b <= 145.6 and i != 0]
    unit = lib.vectors / np.linalg.norm(lib.vectors, axis=1, keepdims=True)
    truth = sorted(in_window, key=lambda i: -unit[i] @ unit[0])[:10]
    assert [r.path for r in results] == [f"/lib/{i}.wav" for i in truth]


@pytest.mark.parametrize(("max_fetch", "asked", "found"), [(40, [20, 40], 0), (100, [20, 40, 80, 100], 3)])
def test_a_narrow_window_looks_further_down_but_never_past_max_fetch(max_fetch, asked, found):
    rng = np.random.default_rng(1)
    vectors = rng.standard_normal((100, 8)).astype(np.float32)
    unit = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    farthest = np.argsort(unit @ unit[0])[:3]  # the only files at 140 BPM are the least like the query
    bpms = [140.0 if i in farthest else 100.0 for i in range(100)]
    index = CountingIndex(8)
    index.build(np.arange(100), vectors)
    lib = library(vectors, bpms, index=index)
    cfg = dataclasses.replace(SEARCH, overfetch=2, max_fetch=max_fetch)
    session = SearchSession(lib, k=10, cfg=cfg)
    session.set_query("/lib/0.wav")
    session.set_target_bpm(140)
    session.set_bpm_window(4)
    index.asked.clear()
    results = session.results()
    assert index.asked == asked  # x2 per round (overfetch), capped by the library and max_fetch
    assert sorted(r.path for r in results) == sorted(f"/lib/{i}.wav" for i in farthest[:found])


def test_contour_merge_rules_rank_a_single_exact_match_against_a_match_everywhere():
    """A matches the query at 2x exactly and nowhere else; B half-matches at every tempo."""
    e1, e2, e3 = np.eye(3, dtype=np.float32)
    at_tau = {0.5: e1, 2.0: e3}
    lib = library([e2, e3, np.ones(3)], [100.0, 200.0, 100.0],  # file 0 (e2) is the query
                  translator=lambda v, taus: np.stack([at_tau[float(t)] for t in taus]))
    cfg = dataclasses.replace(SEARCH, contour_min=0.5, contour_max=2.0, contour_points=3)
    ranked = {}
    for merge in ("min", "rrf"):
        session = SearchSession(lib, k=2, cfg=dataclasses.replace(cfg, contour_merge=merge))
        session.set_query("/lib/0.wav")
        session.set_mode("contour")
        ranked[merge] = session.results()
    assert [r.path for r in ranked["min"]] == ["/lib/1.wav", "/lib/2.wav"]
    assert ranked["min"][0].tau == 2.0 and ranked["min"][0].score == pytest.approx(1.0)
    assert [r.path for r in ranked["rrf"]] == ["/lib/2.wav", "/lib/1.wav"]
