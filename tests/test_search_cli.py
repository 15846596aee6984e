"""Search and the command line, as a user runs them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import engine
from engine.library.facade import Library
from tests.conftest import click_track, tone, write


@pytest.fixture
def indexed(tmp_path, sample_folder):
    lib = Library(tmp_path / "lib")
    list(lib.index(sample_folder, workers=1))
    yield lib, sample_folder
    lib.close()


def test_a_near_copy_is_the_top_match(indexed, tmp_path):
    lib, folder = indexed
    twin = write(folder / "tone_a_quieter.wav", 0.7 * tone(220, 3.2))
    list(lib.index(folder, workers=1))
    results = lib.search(folder / "tone_a.flac", k=3)
    assert Path(results[0].path) == twin.resolve()
    assert results[0].score > results[1].score


def test_search_excludes_the_query_and_returns_typed_results(indexed):
    lib, folder = indexed
    results = lib.search(folder / "clicks_120bpm.wav", k=10)
    assert len(results) == 5  # six files, minus the query
    assert all(isinstance(r, engine.SearchResult) for r in results)
    assert all(r.tau == 1.0 for r in results)
    scores = [r.score for r in results]
    assert scores == sorted(scores, reverse=True)


def test_query_from_outside_the_library(indexed, tmp_path):
    lib, _ = indexed
    outside = write(tmp_path / "elsewhere" / "clicks.wav", click_track(120, 4.0, seed=7))
    results = lib.search(outside, k=2)
    assert Path(results[0].path).name.startswith("clicks_")


def test_embed_file_api(sample_folder):
    emb = engine.embed_file(sample_folder / "clicks_100bpm.wav")
    assert emb.patches.dtype == np.float32 and emb.patches.shape[1] == 753
    assert emb.patches.shape[0] == 1  # 4.8 s: one full 3 s patch
    assert emb.track_vector.ndim == 1 and np.isfinite(emb.track_vector).all()


def run_sbf(*args: str, lib_dir: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "sbf.cli", *args, "--library-dir", str(lib_dir)],
                          capture_output=True, text=True, timeout=300)


def test_cli_index_search_info_failed_json(tmp_path, broken_folder):
    lib_dir = tmp_path / "lib"
    write(broken_folder / "other.wav", click_track(90, 3.5))
    out = run_sbf("index", str(broken_folder), "--workers", "1", "--json", lib_dir=lib_dir)
    assert out.returncode == 0, out.stderr
    summary = json.loads(out.stdout)
    assert summary["counts"] == {"indexed": 2, "failed": 4}

    out = run_sbf("search", str(broken_folder / "good.wav"), "-k", "5", "--json", lib_dir=lib_dir)
    results = json.loads(out.stdout)
    assert [set(r) for r in results] == [{"path", "score", "bpm", "tau"}]
    assert results[0]["path"].endswith("other.wav")

    info = json.loads(run_sbf("info", "--json", lib_dir=lib_dir).stdout)
    assert info["files_ok"] == 2 and info["files_failed"] == 4
    failed = json.loads(run_sbf("failed", "--json", lib_dir=lib_dir).stdout)
    assert {Path(f["path"]).name for f in failed} == {"empty.wav", "text.wav", "truncated.wav", "garbage.mp3"}


@pytest.mark.parametrize("args", [("index", "/no/such/folder"), ("search", "/no/such/file.wav")])
def test_cli_user_errors_are_one_line_without_traceback(tmp_path, args):
    out = run_sbf(*args, lib_dir=tmp_path / "lib")
    assert out.returncode == 2
    assert "Traceback" not in out.stderr and out.stderr.startswith("sbf: ")


def test_large_library_index_is_cached_on_disk_and_rebuilt_when_stale(indexed, monkeypatch, tmp_path):
    import engine.library.facade as library_module
    from engine.search.vector_index import make_index

    monkeypatch.setattr(library_module, "make_index", lambda n, dim: make_index(n, dim, threshold=0))
    lib, folder = indexed
    exact = [r.path for r in Library(lib.library_dir).search(folder / "tone_a.flac", k=5)]
    cache = lib.library_dir / "index-musicnn-msd.hnsw"
    assert cache.exists()
    again = Library(lib.library_dir)
    assert [r.path for r in again.search(folder / "tone_a.flac", k=5)] == exact
    write(folder / "late.wav", tone(225, 3.2))
    list(again.index(folder, workers=1))
    assert any(r.path.endswith("late.wav") for r in again.search(folder / "tone_a.flac", k=6))


def test_results_carry_each_files_bpm_and_one_shots_have_none(indexed):
    lib, folder = indexed
    by_name = {Path(r.path).name: r.bpm for r in lib.search(folder / "tone_a.flac", k=10)}
    assert by_name["blip.wav"] is None
    assert abs(by_name["clicks_100bpm.wav"] - 100) <= 4
    assert abs(by_name["clicks_120bpm.wav"] - 120) <= 4.8


def test_a_bpm_correction_shows_in_the_next_search(indexed):
    lib, folder = indexed
    target = str((folder / "clicks_120bpm.wav").resolve())
    before = {r.path: r.bpm for r in lib.search(folder / "tone_a.flac", k=10)}
    assert abs(before[target] - 120) <= 4.8
    doubled = lib.correct_tempo(target, factor=2.0)
    after = {r.path: r.bpm for r in lib.search(folder / "tone_a.flac", k=10)}
    assert after[target] == doubled.bpm == round(2 * before[target], 2)


def test_files_indexed_by_another_connection_show_up_in_the_next_search(indexed):
    """The GUI searches on one thread while another indexes: each has its own connection."""
    lib, folder = indexed
    assert not any(r.path.endswith("late_arrival.wav") for r in lib.search(folder / "tone_a.flac", k=10))
    write(folder / "late_arrival.wav", tone(221, 3.2))
    indexer = Library(lib.library_dir)
    list(indexer.index(folder, workers=1))
    indexer.close()
    assert any(r.path.endswith("late_arrival.wav") for r in lib.search(folder / "tone_a.flac", k=10))


def test_a_file_removed_while_the_index_is_read_does_not_break_the_search(indexed, monkeypatch):
    """Another connection (the indexer) commits between the reads that build the index: the index,
    its paths and its BPMs must still describe the same files."""
    lib, folder = indexed
    read_analyses = lib.store.each_analysis

    def analyses_then_a_removal(*args):
        found = list(read_analyses(*args))
        other = Library(lib.library_dir)
        with other.store.transaction() as db:
            other.store.remove(db, [other.store.file_by_path(str((folder / "clicks_100bpm.wav").resolve())).id])
        other.close()
        return found

    monkeypatch.setattr(lib.store, "each_analysis", analyses_then_a_removal)
    results = lib.search(folder / "tone_a.flac", k=10)
    assert any(r.path.endswith("clicks_100bpm.wav") for r in results)  # the snapshot still held it
    monkeypatch.setattr(lib.store, "each_analysis", read_analyses)
    assert not any(r.path.endswith("clicks_100bpm.wav") for r in lib.search(folder / "tone_a.flac", k=10))


@pytest.mark.parametrize("knob", [("--bpm", "0"), ("--bpm", "nan"), ("--bpm", "1000"), ("--ratio", "5"),
                                  ("--bpm", "120", "--bpm-window", "-3")])
def test_cli_refuses_a_knob_out_of_range_in_one_line(indexed, knob):
    lib, folder = indexed
    out = run_sbf("search", str(folder / "clicks_120bpm.wav"), *knob, lib_dir=lib.library_dir)
    assert out.returncode == 2 and out.stdout == ""
    assert out.stderr.startswith("sbf: ") and out.stderr.count("\n") == 1 and "Traceback" not in out.stderr


def test_cli_target_search_is_gated_and_says_when_the_window_is_short(indexed):
    lib, folder = indexed
    out = run_sbf("search", str(folder / "clicks_100bpm.wav"), "--bpm", "120", "--json", lib_dir=lib.library_dir)
    assert out.returncode == 0, out.stderr
    results = json.loads(out.stdout)
    assert results and all(abs(r["bpm"] / 120 - 1) <= 0.06 for r in results)
    assert f"Only {len(results)} file" in out.stderr and "near 120 BPM" in out.stderr
    ungated = run_sbf("search", str(folder / "clicks_100bpm.wav"), "--bpm", "120", "--bpm-window", "0", "--json",
                      lib_dir=lib.library_dir)
    assert len(json.loads(ungated.stdout)) > len(results)


def test_track_vectors_are_cached_and_follow_a_new_track_space(indexed, monkeypatch):
    import dataclasses

    lib, folder = indexed
    first = [r.path for r in lib.search(folder / "tone_a.flac", k=5)]
    reopened = Library(lib.library_dir)
    monkeypatch.setattr(reopened.store, "each_analysis", lambda *a: pytest.fail("patches read again"))
    assert [r.path for r in reopened.search(folder / "tone_a.flac", k=5)] == first
    reopened.close()
    heavier = Library(lib.library_dir, space=dataclasses.replace(lib.space, block_weight=lib.space.block_weight * 3))
    heavier.search(folder / "tone_a.flac", k=5)  # another calibration: re-derived from the stored patches
    with np.load(lib.library_dir / "vectors-musicnn-msd.npz") as saved:
        assert str(saved["key"]).startswith(heavier.space.fingerprint)
    heavier.close()
