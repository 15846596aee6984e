"""Rendering the versions file with FluidSynth through General MIDI soundfonts, sliced into versions.

One FluidSynth call per soundfont renders every tempo version (loading a soundfont costs up to
1.3 s, more than synthesising a version); the render is sliced at the versions' exactly known
times. Rendering happens above 16 kHz and is resampled down: FluidSynth interpolates without an
anti-alias filter, and at 16 kHz cymbal energy above 8 kHz would fold back into the 5-7 kHz band.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

import librosa
import numpy as np
import soundfile as sf

from scripts.corpus.midi_excerpt import Layout
from scripts.corpus.output import SAMPLE_RATE, stable_hash

FADE_SECONDS = 0.01  # fade at the cut end, the same for every version


@dataclass(frozen=True)
class Soundfont:
    """A General MIDI soundfont the corpus renders with."""

    key: str
    path: Path
    licence: str


SOUNDFONTS = (
    Soundfont("fluidr3", Path("/usr/share/sounds/sf2/FluidR3_GM.sf2"), "MIT (fluid-soundfont-gm)"),
    Soundfont(
        "musescore",
        Path("/usr/share/sounds/sf3/MuseScore_General_Lite.sf3"),
        "MIT, parts PD/CC0 (musescore-general-soundfont-small)",
    ),
    Soundfont("timgm6mb", Path("/usr/share/sounds/sf2/TimGM6mb.sf2"), "GPL-2 (timgm6mb-soundfont)"),
)


def fonts_for(piece_id: str, count: int) -> list[Soundfont]:
    """The soundfonts a piece is rendered with: a reproducible choice that rotates over pieces."""
    return sorted(SOUNDFONTS, key=lambda font: stable_hash(piece_id + font.key))[:count]


def audio_name(font: Soundfont, tau: float) -> str:
    return f"{font.key}_tau{tau:.2f}.flac"


def render_font(midi_path: Path, font: Soundfont, layout: Layout, render_sr: int, gain: float,
                wav: Path) -> list[np.ndarray]:
    """Render the versions file once with a soundfont and return each version, 16 kHz mono.

    FluidSynth runs at ``render_sr`` (Hz) with master gain ``gain`` into ``wav`` (deleted once
    read). The whole render shares one gain (attenuated only if it would clip), so versions keep
    the same level relative to each other.
    """
    cmd = ["fluidsynth", "-ni", "-q", "-F", str(wav), "-T", "wav", "-O", "float",
           "-r", str(render_sr), "-g", str(gain), str(font.path), str(midi_path)]
    result = subprocess.run(cmd, capture_output=True, text=True)
    if result.returncode != 0 or not wav.exists():
        raise RuntimeError(f"fluidsynth failed: {(result.stdout + result.stderr).strip()[-300:]}")
    audio, sr = sf.read(wav, dtype="float32", always_2d=True)
    wav.unlink()
    mono = librosa.resample(audio.mean(axis=1), orig_sr=sr, target_sr=SAMPLE_RATE)
    last_start, last_duration = layout[-1]
    needed = int(round((last_start + last_duration) * SAMPLE_RATE))
    mono = np.pad(mono, (0, max(0, needed - len(mono))))  # FluidSynth may stop at the last note
    peak = float(np.abs(mono).max())
    if peak > 0.99:
        mono *= 0.99 / peak
    fade = np.hanning(2 * int(FADE_SECONDS * SAMPLE_RATE))[-int(FADE_SECONDS * SAMPLE_RATE):]
    versions = []
    for start, duration in layout:
        first = int(round(start * SAMPLE_RATE))
        clip = mono[first : first + int(round(duration * SAMPLE_RATE))].copy()
        clip[-len(fade):] *= fade
        versions.append(clip)
    return versions
