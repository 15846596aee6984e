"""Merging neighbours for the tempo knob, on vectors held in memory (no audio, no database)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from engine.config import SEARCH
from engine.search.session import SearchSession, VectorLibrary


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


def test_a_narrow_window_fills_every_slot_even_with_the_least_similar_files():
    rng = np.random.default_rng(1)
    vectors = rng.standard_normal((2000, 8)).astype(np.float32)
    unit = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    farthest = np.argsort(unit @ unit[0])[:12]  # the only files at 140 BPM are the least like the query
    bpms = [140.0 if i in farthest else 100.0 for i in range(2000)]
    session = SearchSession(library(vectors, bpms), k=10)
    session.set_query("/lib/0.wav")
    session.set_target_bpm(140)
    session.set_bpm_window(4)
    results = session.results()
    assert len(results) == 10 and all(r.bpm == 140.0 for r in results)
    assert session.window.available == 12 and not session.window.short_of(10)


def test_a_file_whose_estimate_is_split_is_listed_at_either_tempo():
    e = np.eye(4, dtype=np.float32)
    beliefs = [((100.0, 1.0),), ((90.0, 0.55), (180.0, 0.45)), ((180.0, 0.9), (90.0, 0.1)), ()]
    lib = VectorLibrary([f"/lib/{i}.wav" for i in range(4)], e + 0.1, [100.0, 90.0, 180.0, None],
                        lambda v, tau: v, beliefs=beliefs)
    session = SearchSession(lib, k=5)
    session.set_query("/lib/0.wav")
    session.set_bpm_window(6)
    session.set_target_bpm(180)
    assert {(r.path, r.bpm) for r in session.results()} == {("/lib/1.wav", 180.0), ("/lib/2.wav", 180.0)}
    session.set_target_bpm(90)
    assert {r.path for r in session.results()} == {"/lib/1.wav"}  # a reading of 10 % is not enough


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


def test_a_wide_window_searched_in_the_graph_finds_what_the_exact_scan_finds():
    from engine.search.tempo_gate import TempoGate
    from engine.search.vector_index import HnswIndex

    rng = np.random.default_rng(3)
    centres = rng.standard_normal((30, 16))
    vectors = (centres[rng.integers(0, 30, 3000)] + 0.3 * rng.standard_normal((3000, 16))).astype(np.float32)
    ids = np.arange(3000) + 10**6  # database ids, not rows
    beliefs = {int(i): ((float(b), 0.6), (float(b) * 2, 0.4)) for i, b in zip(ids, rng.uniform(60, 180, 3000))}
    graph = HnswIndex(16)
    graph.build(ids, vectors)
    exact = TempoGate(ids, vectors, beliefs, 0.25, graph, exact_rows=10**9)
    walked = TempoGate(ids, vectors, beliefs, 0.25, graph, exact_rows=100)
    queries = vectors[:20]
    a, b = exact.query(queries, 110, 150, 10, exclude=int(ids[0])), walked.query(queries, 110, 150, 10, exclude=int(ids[0]))
    assert a.available == b.available > 100
    overlap = np.mean([len(set(x.tolist()) & set(y.tolist())) / 10 for x, y in zip(a.ids, b.ids)])
    assert overlap >= 0.95 and all(int(ids[0]) not in y.tolist() for y in b.ids)
    for line_ids, line_bpm in zip(b.ids, b.bpms):
        assert all(110 <= bpm <= 150 for bpm in line_bpm)
        assert all(bpm in {beliefs[i][0][0], beliefs[i][1][0]} for i, bpm in zip(line_ids.tolist(), line_bpm))
