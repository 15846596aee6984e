"""Tiny audio made on the fly: click tracks at known tempi, tones, noise, and broken files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

SR = 22050


def click_track(bpm: float, seconds: float, sr: int = SR, pitch: float = 1000.0, seed: int = 0) -> np.ndarray:
    """Decaying tone bursts on every beat, accented on the bar, over a little noise."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * sr)) / sr
    out = 0.01 * rng.standard_normal(len(t))
    burst_t = np.arange(int(0.08 * sr)) / sr
    for i, onset in enumerate(np.arange(0, seconds, 60.0 / bpm)):
        n = int(onset * sr)
        amp = 0.9 if i % 4 == 0 else 0.5
        burst = amp * np.sin(2 * np.pi * pitch * burst_t) * np.exp(-burst_t * 40)
        out[n : n + len(burst)] += burst[: len(out) - n]
    return out.astype(np.float32)


def tone(freq: float, seconds: float, sr: int = SR) -> np.ndarray:
    t = np.arange(int(seconds * sr)) / sr
    return (0.5 * np.sin(2 * np.pi * freq * t) + 0.2 * np.sin(2 * np.pi * 2 * freq * t)).astype(np.float32)


def write(path: Path, audio: np.ndarray, sr: int = SR) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(path, audio, sr)
    return path


def write_patterns(folder: Path, bpms: tuple[float, ...]) -> None:
    """Two three-bar loops at each tempo: ``pattern_<bpm>bpm.wav`` (clicks) and ``other_<bpm>bpm.wav``
    (higher clicks over a bass tone), so each tempo has a near twin of the pattern and a different sound."""
    for bpm in bpms:
        seconds = 240 / bpm * 3
        write(folder / f"pattern_{bpm}bpm.wav", click_track(bpm, seconds, pitch=600))
        write(folder / f"other_{bpm}bpm.wav", click_track(bpm, seconds, pitch=2500) + tone(110, seconds))


@pytest.fixture
def sample_folder(tmp_path) -> Path:
    """Six small files: click loops at three tempi and pitches, two tones and a one-shot."""
    folder = tmp_path / "samples"
    write(folder / "clicks_100bpm.wav", click_track(100, 4.8))
    write(folder / "clicks_120bpm.wav", click_track(120, 4.0))
    write(folder / "drums" / "clicks_140bpm_low.wav", click_track(140, 3.5, pitch=300))
    write(folder / "tone_a.flac", tone(220, 3.2))
    write(folder / "tone_e.flac", tone(330, 3.2))
    write(folder / "blip.wav", click_track(120, 0.3))
    return folder


@pytest.fixture
def broken_folder(tmp_path) -> Path:
    """One good file and every kind of bad one a sample folder can hold."""
    folder = tmp_path / "broken"
    good = write(folder / "good.wav", click_track(120, 3.0))
    (folder / "empty.wav").write_bytes(b"")
    (folder / "text.wav").write_text("this is not audio\n" * 50)
    data = good.read_bytes()
    (folder / "truncated.wav").write_bytes(data[:44])
    (folder / "garbage.mp3").write_bytes(np.random.default_rng(0).bytes(5000))
    return folder
