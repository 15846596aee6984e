"""Search at a tempo: the knob's modes as a user sees them."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.library.facade import Library
from engine.search.session import SearchError, SearchSession
from tests.conftest import click_track, tone, write


@pytest.fixture(scope="module")
def tempo_library(tmp_path_factory):
    """One pattern at three tempi, beside other patterns at those tempi and a one-shot."""
    root = tmp_path_factory.mktemp("tempo")
    folder = root / "samples"
    for bpm in (100, 125, 150):
        write(folder / f"pattern_{bpm}bpm.wav", click_track(bpm, 240 / bpm * 3, pitch=600))
        write(folder / f"other_{bpm}bpm.wav", click_track(bpm, 240 / bpm * 3, pitch=2500) + tone(110, 240 / bpm * 3)[: int(22050 * 240 / bpm * 3)])
    write(folder / "kick.wav", click_track(120, 0.3))
    lib = Library(root / "lib")
    list(lib.index(folder, workers=1))
    yield lib, folder
    lib.close()


def test_target_bpm_finds_the_same_pattern_at_that_tempo_first(tempo_library):
    lib, folder = tempo_library
    results = lib.search(folder / "pattern_100bpm.wav", k=3, mode="target", target_bpm=125)
    assert Path(results[0].path).name == "pattern_125bpm.wav"
    assert results[0].tau == pytest.approx(1.25, rel=0.05)
    assert results[0].bpm == pytest.approx(125, rel=0.04)


def test_ratio_sets_tau_directly(tempo_library):
    lib, folder = tempo_library
    results = lib.search(folder / "pattern_100bpm.wav", k=3, mode="target", ratio=1.5)
    assert Path(results[0].path).name == "pattern_150bpm.wav"
    assert results[0].tau == 1.5


def test_contour_finds_the_pattern_at_other_tempi_and_reports_where(tempo_library):
    lib, folder = tempo_library
    results = lib.search(folder / "pattern_100bpm.wav", k=2, mode="contour")
    assert {Path(r.path).name for r in results} == {"pattern_125bpm.wav", "pattern_150bpm.wav"}
    for r in results:
        assert r.tau == pytest.approx(r.bpm / 100, rel=0.05)  # one grid step (4.4 %)


def test_bpm_window_keeps_only_files_near_the_target(tempo_library):
    lib, folder = tempo_library
    results = lib.search(folder / "pattern_100bpm.wav", k=10, mode="similar", bpm_window=4)
    assert results and all(abs(r.bpm - 100) <= 4 for r in results)


def test_a_one_shot_has_no_tempo_to_target(tempo_library):
    lib, folder = tempo_library
    with pytest.raises(SearchError, match="no tempo"):
        lib.search(folder / "kick.wav", mode="target", target_bpm=120)


def test_knob_session_reuses_the_query_and_follows_the_latest_target(tempo_library):
    lib, folder = tempo_library
    session = SearchSession(lib, k=1)
    session.set_query(folder / "pattern_100bpm.wav")
    session.set_mode("target")
    for bpm, expected in ((125, "pattern_125bpm.wav"), (150, "pattern_150bpm.wav"), (100, "pattern_100bpm.wav")):
        session.set_target_bpm(bpm)
        names = [Path(r.path).name for r in session.results()]
        if expected == "pattern_100bpm.wav":  # the query itself is never a result
            assert expected not in names
        else:
            assert names == [expected]
    assert len(session._translated) == 2  # 1.25 and 1.5 translated once; tau 1 needs none



def test_tempo_only_leaves_out_files_with_no_tempo_but_keeps_k_results(tempo_library):
    lib, folder = tempo_library
    session = SearchSession(lib, k=6)
    session.set_query(folder / "pattern_100bpm.wav")
    session.set_mode("target")
    session.set_target_bpm(125)
    session.set_bpm_window(None)  # the gate off: the paper's pure translation search
    assert "kick.wav" in {Path(r.path).name for r in session.results()}  # ranked among the 6 otherwise
    session.set_tempo_only(True)
    results = session.results()
    assert len(results) == 5 and all(r.bpm is not None for r in results)  # every file with a tempo


def test_target_mode_is_gated_by_default_and_says_when_the_window_is_short(tempo_library):
    lib, folder = tempo_library
    session = SearchSession(lib, k=5)
    session.set_query(folder / "pattern_100bpm.wav")
    session.set_mode("target")
    session.set_target_bpm(150)
    results = session.results()
    assert {Path(r.path).name for r in results} == {"pattern_150bpm.wav", "other_150bpm.wav"}
    assert all(abs(r.bpm / 150 - 1) <= 0.06 for r in results)
    assert session.window.available == 2 and session.window.short_of(5)
    assert session.window.message() == "Only 2 files near 150 BPM (within 6 %)"


@pytest.mark.parametrize("bpm", [0, -10, float("nan"), float("inf"), 19.9, 1000])
def test_a_target_bpm_out_of_range_is_refused_in_words(tempo_library, bpm):
    lib, folder = tempo_library
    with pytest.raises(SearchError, match="BPM"):
        lib.search(folder / "pattern_100bpm.wav", mode="target", target_bpm=bpm)


@pytest.mark.parametrize("ratio", [0, 0.2, 4.5, float("nan"), -1])
def test_a_ratio_out_of_range_is_refused_in_words(tempo_library, ratio):
    lib, folder = tempo_library
    with pytest.raises(SearchError, match="ratio"):
        lib.search(folder / "pattern_100bpm.wav", mode="target", ratio=ratio)


def test_a_one_shot_still_finds_similar_sounds(tempo_library):
    lib, folder = tempo_library
    assert lib.search(folder / "kick.wav", k=3, mode="similar")
