"""The shipped demo library (resources/demo) matches its manifest, is clean audio, has the rhythm
its labels claim, and is exactly what scripts/make_demo_library.py generates."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import librosa
import numpy as np
import pytest
import soundfile as sf
from scipy import signal

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "resources" / "demo"
SCRIPT = ROOT / "scripts" / "make_demo_library.py"
FIELDS = {"file", "bpm", "bars", "style", "instruments", "kind", "key", "pattern"}


@pytest.fixture(scope="module")
def manifest() -> list[dict]:
    return json.loads((DEMO / "manifest.json").read_text())


@pytest.fixture(scope="module")
def loops(manifest: list[dict]) -> list[dict]:
    return [entry for entry in manifest if entry["kind"] == "loop"]


@pytest.fixture(scope="module")
def generator():
    """The generator script, imported as a module (scripts/ is not a package)."""
    spec = importlib.util.spec_from_file_location("make_demo_library", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    return module


def kick_onsets(x: np.ndarray, sr: int) -> np.ndarray:
    """Kick times in seconds: onsets of the smoothed amplitude below 100 Hz, loop-aware.

    The loop's end is prepended so a kick on the downbeat reads as a rise, as it does on repeat.
    """
    hop, pre = 64, int(0.3 * sr)
    low = signal.sosfilt(signal.butter(4, 100, fs=sr, output="sos"), np.concatenate([x[-pre:], x]))
    amp = signal.sosfiltfilt(signal.butter(2, 20, fs=sr, output="sos"), np.abs(signal.hilbert(low)))
    frames = amp[: len(amp) // hop * hop].reshape(-1, hop).mean(axis=1)
    rise = np.concatenate([[0.0, 0.0], np.maximum(0.0, frames[2:] - frames[:-2])])
    onsets = librosa.onset.onset_detect(onset_envelope=rise, sr=sr, hop_length=hop, units="time",
                                        delta=0.1, wait=int(0.08 * sr / hop)) - pre / sr
    return onsets[(onsets > -0.03) & (onsets < len(x) / sr - 0.03)]


def test_manifest_lists_exactly_the_audio_files(manifest: list[dict]) -> None:
    listed = [entry["file"] for entry in manifest]
    assert len(listed) == len(set(listed)), "a file is listed twice"
    assert set(listed) == {path.name for path in DEMO.glob("*.flac")}
    assert "MIT" in (DEMO / "LICENSE").read_text()


def test_manifest_entries_are_complete(manifest: list[dict]) -> None:
    for entry in manifest:
        assert set(entry) == FIELDS, entry["file"]
        assert entry["kind"] in ("loop", "one-shot")
        assert entry["instruments"] and all(isinstance(i, str) for i in entry["instruments"])
        assert entry["key"] is None or isinstance(entry["key"], str)


def test_loops_last_whole_bars_at_their_tempo(loops: list[dict]) -> None:
    for entry in loops:
        info = sf.info(DEMO / entry["file"])
        bars = info.frames / info.samplerate * entry["bpm"] / 240
        assert abs(bars - round(bars)) < 0.01, entry["file"]
        assert round(bars) == entry["bars"] >= 1, entry["file"]
        assert 70 <= entry["bpm"] <= 175, entry["file"]


def test_one_shots_are_short_and_tempo_free(manifest: list[dict]) -> None:
    for entry in (e for e in manifest if e["kind"] == "one-shot"):
        assert entry["bpm"] is None and entry["bars"] is None, entry["file"]
        assert 0.2 <= sf.info(DEMO / entry["file"]).duration < 2.5, entry["file"]


def test_every_file_decodes_clean(manifest: list[dict]) -> None:
    for entry in manifest:
        x, sr = sf.read(DEMO / entry["file"])
        assert sr == 22_050 and x.ndim == 1, entry["file"]
        assert np.all(np.isfinite(x)), entry["file"]
        assert -1.2 < 20 * np.log10(np.max(np.abs(x))) < -0.8, f"{entry['file']} is not at -1 dBFS peak"
        assert abs(x[0]) < 1e-3 and abs(x[-1]) < 1e-3, f"{entry['file']} would click"


def test_library_is_big_and_varied_enough_to_demo(loops: list[dict], manifest: list[dict]) -> None:
    assert len(loops) >= 40
    assert 6 <= len(manifest) - len(loops) <= 10
    assert len({entry["style"] for entry in loops}) >= 7
    assert min(e["bpm"] for e in loops) <= 75 and max(e["bpm"] for e in loops) >= 170
    tempi_per_pattern: dict[str, set[int]] = {}
    for entry in loops:
        tempi_per_pattern.setdefault(entry["pattern"], set()).add(entry["bpm"])
    assert sum(len(tempi) >= 2 for tempi in tempi_per_pattern.values()) >= 8
    assert any("bpm" not in entry["file"] for entry in loops), "some loops should not name their tempo"
    assert sum(p.stat().st_size for p in DEMO.iterdir()) < 8 * 2**20


@pytest.mark.parametrize(("pattern", "kick_steps"), [
    ("house_groove", [0, 4, 8, 12]),  # four on the floor
    ("boombap_drums", [0, 7, 10]),  # the kick of the first bar: on 1, swung "a" of 2, and-of-3
])
def test_kicks_land_where_the_pattern_puts_them(loops: list[dict], pattern: str, kick_steps: list[int]) -> None:
    for entry in (e for e in loops if e["pattern"] == pattern):
        x, sr = sf.read(DEMO / entry["file"])
        step_s = 15 / entry["bpm"]
        first_bar = kick_onsets(x, sr)
        first_bar = first_bar[first_bar < 16 * step_s - 0.03]
        assert np.round(first_bar / step_s).astype(int).tolist() == kick_steps, entry["file"]


@pytest.mark.parametrize("name", ["house_groove_124bpm.flac", "bass_acid_Am_128bpm.flac", "kick_punchy.flac"])
def test_generator_reproduces_the_shipped_file(generator, name: str) -> None:
    item = next(item for item in generator.LIBRARY if item.file == name)
    shipped, _ = sf.read(DEMO / name, dtype="int16")
    rebuilt = generator.to_pcm16(item)
    assert rebuilt.shape == shipped.shape
    assert np.max(np.abs(rebuilt.astype(int) - shipped)) <= 1  # one LSB of slack for other platforms' maths
