"""The packaged app's pieces that can be checked without building it: the self-test, the entry point's
dispatch, and what the spec bundles. ``make package-check`` builds the app and runs the self-test in it."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from sbf import cli
from tests.conftest import click_track, tone, write

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def loops(tmp_path) -> Path:
    folder = tmp_path / "loops"
    for bpm, pitch in ((100, 800.0), (120, 800.0), (125, 2000.0)):
        write(folder / f"clicks_{bpm}bpm.wav", click_track(bpm, 240 / bpm * 2, pitch=pitch))
    write(folder / "pad.wav", tone(220, 3.0))
    return folder


def test_selftest_indexes_searches_at_a_target_tempo_and_passes(qapp, loops, capsys):
    assert cli.main(["gui", "--selftest", str(loops), "--workers", "1"]) == 0
    out = capsys.readouterr().out
    assert "first window after" in out and "indexed 4 files" in out and "(0 failed)" in out
    assert "query: clicks_100bpm.wav (100 BPM), tempo knob to 125 BPM" in out
    assert "1. " in out and "clicks_125bpm.wav" in out and "self-test passed" in out


def test_selftest_fails_when_no_file_has_a_tempo(qapp, tmp_path, capsys):
    for pitch in (300.0, 3000.0):  # one-shots: a third of a second has no tempo
        write(tmp_path / "hits" / f"hit_{pitch:.0f}.wav", click_track(120, 0.3, pitch=pitch))
    assert cli.main(["gui", "--selftest", str(tmp_path / "hits"), "--workers", "1"]) == 1
    assert "self-test FAILED: no file with a tempo" in capsys.readouterr().err


def load_entry():
    spec = importlib.util.spec_from_file_location("sbf_entry", ROOT / "packaging" / "entry.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_one_executable_is_both_the_app_and_sbf(monkeypatch):
    calls = []
    monkeypatch.setattr("sbf.cli.main", lambda argv: calls.append(("sbf", argv)) or 0)
    monkeypatch.setattr("desktop.app.main", lambda argv: calls.append(("app", argv)) or 0)
    entry = load_entry()
    for argv in (["index", "/samples"], [], ["--selftest"], ["gui", "--demo"]):
        assert entry.run(argv) == 0
    assert calls == [("sbf", ["index", "/samples"]), ("app", []), ("app", ["--selftest"]), ("sbf", ["gui", "--demo"])]


def test_the_spec_bundles_the_resources_and_leaves_torch_out():
    """Runs the spec with stand-ins for PyInstaller's build steps and reads what it asks for."""
    asked: dict = {}

    class Analysis:
        def __init__(self, scripts, **options):
            asked.update(options, scripts=scripts)
            self.pure, self.scripts, self.binaries = [], [], []
            self.datas = [("/qt/translations/qtbase_de.qm", "PySide6/Qt/translations", "DATA"),
                          ("/qt/plugins/platforms/libqoffscreen.so", "PySide6/Qt/plugins/platforms", "DATA")]

    def collect(*parts, **options):
        asked["collected"] = parts

    stand_ins = {"Analysis": Analysis, "PYZ": lambda *a, **k: None, "EXE": lambda *a, **k: None, "COLLECT": collect,
                 "SPECPATH": str(ROOT / "packaging")}
    spec = ROOT / "packaging" / "sbf.spec"
    exec(compile(spec.read_text(), str(spec), "exec"), stand_ins)

    assert [Path(s).name for s in asked["scripts"]] == ["entry.py"]
    assert all(Path(source).exists() for source, _ in asked["datas"])
    shipped = {Path(source).name for source, _ in asked["datas"]}
    assert {"demo", "onnx", "translator.safetensors", "track_space.safetensors", "tempo_classifier.safetensors",
            "LICENSE-musicnn-ISC.md"} <= shipped
    assert {"torch", "engine.training.translator", "engine.training.tempo_classifier"} <= set(asked["excludes"])
    kept = [d[0] for d in asked["collected"][2]]
    assert kept == ["/qt/plugins/platforms/libqoffscreen.so"]  # Qt's translations are left out
