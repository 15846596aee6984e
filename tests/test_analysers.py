"""The Analyser contract: a new analyser, or a new version of one, runs alone on a library indexed before it."""

from __future__ import annotations

import importlib.util
import shutil
import sqlite3
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from engine.analysis import registry
from engine.analysis.contract import PATCHES
from engine.analysis.embedding import MusicnnEmbedder
from engine.analysis.tempo_analyser import TempoAnalyser
from engine.audio.decode import load_mono
from engine.library.facade import Library
from tests.conftest import click_track, tone, write

RMS_PLUGIN = '''
import numpy as np

from engine.analysis.contract import AUDIO


class RmsLoudness:
    """How loud a file is on average: the root mean square of its decoded samples."""

    name = "rms-loudness"
    version = "1"
    needs = frozenset({AUDIO})
    outputs = ("rms",)

    def process(self, inputs):
        return {"rms": float(np.sqrt(np.mean(np.square(inputs.audio.samples, dtype=np.float64))))}
'''


class NoEmbedder:
    """MusiCNN's identity without its network: a scan that embeds anything fails the test."""

    id, version = MusicnnEmbedder.id, MusicnnEmbedder.version
    dimension, sample_rate = MusicnnEmbedder.dimension, MusicnnEmbedder.sample_rate

    def embed(self, audio):
        pytest.fail("a file was embedded again")


class ConstantEmbedder:
    """An embedder whose vectors tell it apart; module-level, so a worker process can unpickle it."""

    id, version, dimension, sample_rate = "constant", "1", 4, MusicnnEmbedder.sample_rate

    def __init__(self, value: float):
        self.value = value

    def embed(self, audio):
        return np.full((2, self.dimension), self.value, np.float32)


class PatchCount:
    """Reads the stored patches only: the file must not be decoded for it."""

    name, version, needs, outputs = "patch-count", "1", frozenset({PATCHES}), ("patches",)

    def process(self, inputs):
        assert inputs.audio is None
        return {"patches": len(inputs.embedding.patches)}


class FailsOnTones:
    """Raises on one kind of file, as a buggy plug-in would."""

    name, version, needs, outputs = "fragile", "1", frozenset(), ("ok",)

    def process(self, inputs):
        if "tone" in Path(inputs.path).name:
            raise ValueError("no beat to measure")
        return {"ok": True}


def outcomes(events) -> Counter:
    return Counter(e.outcome for e in events)


@pytest.fixture(scope="module")
def indexed(tmp_path_factory) -> tuple[Path, Path]:
    """A sample folder and a library of it, indexed once with the registered analysers."""
    root = tmp_path_factory.mktemp("analysers")
    folder = root / "samples"
    write(folder / "clicks_100bpm.wav", click_track(100, 4.8))
    write(folder / "clicks_128bpm.wav", click_track(128, 3.75, pitch=400))
    write(folder / "tone_a.flac", tone(220, 3.2))
    lib = Library(root / "lib")
    assert outcomes(lib.index(folder, workers=1)) == {"indexed": 3}
    lib.close()
    return folder, root / "lib"


@pytest.fixture
def library(indexed, tmp_path, monkeypatch):
    """A copy of the indexed library that embeds nothing, and a registry the test may add to."""
    lib_dir = tmp_path / "lib"
    shutil.copytree(indexed[1], lib_dir)
    monkeypatch.setattr(registry, "ANALYSERS", list(registry.ANALYSERS))
    lib = Library(lib_dir, embedder=NoEmbedder())
    yield lib
    lib.close()


@pytest.fixture
def tempo_not_rerun(monkeypatch):
    def rerun(self, inputs):
        pytest.fail("the tempo analyser ran again")

    monkeypatch.setattr(TempoAnalyser, "process", rerun)


def load_plugin(tmp_path: Path):
    path = tmp_path / "rms_loudness_plugin.py"
    path.write_text(RMS_PLUGIN)
    spec = importlib.util.spec_from_file_location("rms_loudness_plugin", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_a_new_analyser_runs_alone_on_a_library_indexed_before_it(library, indexed, tmp_path, tempo_not_rerun):
    folder = indexed[0]
    plugin = load_plugin(tmp_path)
    registry.register(plugin.RmsLoudness())

    assert outcomes(library.index(folder, workers=1)) == {"indexed": 3}
    rms = library.store.analyser_results("rms-loudness")
    assert sorted(Path(p).name for p in rms) == ["clicks_100bpm.wav", "clicks_128bpm.wav", "tone_a.flac"]
    for path, result in rms.items():
        samples = load_mono(path, sr=MusicnnEmbedder.sample_rate).samples.astype(np.float64)
        assert result.version == "1" and result.error is None
        assert result.values["rms"] == pytest.approx(np.sqrt(np.mean(samples**2)), rel=1e-6)
    assert library.analyser_results(folder / "tone_a.flac")["rms-loudness"] == rms[str(folder / "tone_a.flac")]
    assert outcomes(library.index(folder, workers=1)) == {"unchanged": 3}

    louder = plugin.RmsLoudness()
    louder.version = "2"
    registry.register(louder)
    assert outcomes(library.index(folder, workers=1)) == {"indexed": 3}
    assert {r.version for r in library.store.analyser_results("rms-loudness").values()} == {"2"}
    assert outcomes(library.index(folder, workers=1)) == {"unchanged": 3}


def test_an_analyser_that_reads_patches_gets_the_stored_ones_without_decoding(library, indexed, tempo_not_rerun):
    registry.register(PatchCount())
    assert outcomes(library.index(indexed[0], workers=1)) == {"indexed": 3}
    counts = {path: r.values["patches"] for path, r in library.store.analyser_results("patch-count").items()}
    stored = {a.path: len(a.patches) for a in library.store.analyses(*library._model())}
    assert counts == stored and len(counts) == 3


def test_an_analyser_failing_on_one_file_is_recorded_in_words_and_spoils_nothing(library, indexed, tempo_not_rerun):
    folder = indexed[0]
    before = [r.path for r in library.search(folder / "clicks_100bpm.wav", k=3)]
    registry.register(FailsOnTones())

    events = {Path(e.path).name: e for e in library.index(folder, workers=1)}
    assert {name: e.outcome for name, e in events.items()} == {
        "clicks_100bpm.wav": "indexed", "clicks_128bpm.wav": "indexed", "tone_a.flac": "failed"}
    assert events["tone_a.flac"].reason == "indexed, but the fragile analyser failed on this file: no beat to measure"
    results = {Path(p).name: r for p, r in library.store.analyser_results("fragile").items()}
    assert results["tone_a.flac"].values is None and "no beat to measure" in results["tone_a.flac"].error
    assert results["clicks_100bpm.wav"].values == {"ok": True}

    assert library.info().files_ok == 3 and library.failed() == []
    assert [r.path for r in library.search(folder / "clicks_100bpm.wav", k=3)] == before
    assert outcomes(library.index(folder, workers=1)) == {"unchanged": 3}  # not retried until its version changes


def test_a_new_tempo_estimator_re_estimates_without_embedding(library, indexed, monkeypatch):
    folder = indexed[0]
    bpms = {p: library.tempo(p).bpm for p in library.store.paths_by_id().values()}
    fingerprint = library.store.tempo_fingerprint()
    monkeypatch.setattr(TempoAnalyser, "version", "2")

    assert outcomes(library.index(folder, workers=1)) == {"indexed": 3}
    assert {r.version for r in library.store.analyser_results("tempo").values()} == {"2"}
    assert {p: library.tempo(p).bpm for p in bpms} == bpms  # the same estimator, read again from the same sound
    assert library.store.tempo_fingerprint() != fingerprint  # search reloads the tempo readings, not the vectors


def test_a_library_from_before_the_analysers_keeps_its_analysis(indexed, tmp_path, tempo_not_rerun):
    folder, original = indexed
    shutil.copytree(original, tmp_path / "lib")
    with sqlite3.connect(tmp_path / "lib" / "library.sqlite3") as db:
        db.execute("DROP TABLE analyser_results")
        db.execute("UPDATE meta SET value = '4' WHERE key = 'schema_version'")
    lib = Library(tmp_path / "lib", embedder=NoEmbedder())
    assert outcomes(lib.index(folder, workers=1)) == {"unchanged": 3}
    assert {r.version for r in lib.store.analyser_results("tempo").values()} == {"1"}
    lib.close()


def test_results_follow_a_moved_file_and_go_with_a_removed_one(tmp_path, monkeypatch):
    monkeypatch.setattr(registry, "ANALYSERS", list(registry.ANALYSERS))
    registry.register(load_plugin(tmp_path).RmsLoudness())
    folder = tmp_path / "samples"
    write(folder / "kick_loop.wav", click_track(110, 3.0))
    write(folder / "pad.wav", tone(330, 3.0))
    lib = Library(tmp_path / "lib")
    list(lib.index(folder, workers=1))
    rms = lib.store.analyser_results("rms-loudness")[str(folder / "kick_loop.wav")]

    (folder / "kick_loop.wav").rename(folder / "drums.wav")
    (folder / "pad.wav").unlink()
    assert outcomes(lib.index(folder, workers=1)) == {"renamed": 1, "removed": 1}
    assert lib.store.analyser_results("rms-loudness") == {str(folder / "drums.wav"): rms}
    with sqlite3.connect(lib.store.path) as db:
        assert db.execute("SELECT COUNT(*) FROM analyser_results").fetchone()[0] == 2  # tempo and loudness
    lib.close()


@pytest.mark.parametrize("workers", [1, 2])
def test_the_embedder_given_is_the_one_the_scan_uses(tmp_path, workers):
    folder = tmp_path / "samples"
    for bpm in (100, 120):
        write(folder / f"clicks_{bpm}bpm.wav", click_track(bpm, 3.0))
    lib = Library(tmp_path / "lib", embedder=ConstantEmbedder(0.25))
    assert outcomes(lib.index(folder, workers=workers)) == {"indexed": 2}
    stored = lib.store.analyses("constant", "1")
    assert len(stored) == 2 and all(np.all(a.patches == 0.25) for a in stored)
    lib.close()
