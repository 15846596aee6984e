"""One piece of the MIDI corpus: its audio files at every tempo and soundfont, and their records.

A piece is resumable: versions already on disk are not rendered again, and its records are read
back from what exists, so the manifest always describes the files there are.
"""

from __future__ import annotations

import shutil
import time
from dataclasses import dataclass
from pathlib import Path

import mido
import numpy as np
import soundfile as sf

from scripts.corpus.fluidsynth import Soundfont, audio_name, fonts_for, render_font
from scripts.corpus.midi_excerpt import Excerpt, cut_excerpt, versions_midi
from scripts.corpus.midi_sources import Piece, generate_mma_midi
from scripts.corpus.output import SAMPLE_RATE, split_of, write_flac

SILENT_RMS = 1e-4  # below -80 dBFS a version is taken as a failed render and dropped


@dataclass(frozen=True)
class Settings:
    """Everything a worker needs to turn a piece into audio files."""

    out: Path
    work: Path
    taus: tuple[float, ...]
    excerpt_seconds: float
    gap_seconds: float
    fonts_per_piece: int
    render_sr: int
    gain: float
    heldout_percent: int


def build_piece(piece: Piece, settings: Settings) -> tuple[list[dict], str]:
    """Make (or find) every audio file of a piece; returns its manifest records and a log line."""
    began = time.perf_counter()
    if piece.source == "mma" and not piece.midi_path.exists():
        generate_mma_midi(piece, settings.excerpt_seconds, settings.work)
    excerpt = cut_excerpt(mido.MidiFile(piece.midi_path), settings.excerpt_seconds, piece.lead_seconds)
    folder = settings.out / "audio" / piece.piece_id
    fonts = fonts_for(piece.piece_id, settings.fonts_per_piece)
    todo = [f for f in fonts if not all((folder / audio_name(f, tau)).exists() for tau in settings.taus)]
    rendered = render_versions(piece.piece_id, excerpt, todo, settings) if todo else 0
    records = manifest_records(piece, excerpt, settings)
    seconds = time.perf_counter() - began
    return records, f"{piece.piece_id}: {rendered} rendered, {len(records)} on disk, {seconds:.1f} s"


def render_versions(piece_id: str, excerpt: Excerpt, fonts: list[Soundfont], settings: Settings) -> int:
    """Render ``excerpt`` at every tau with each of ``fonts`` into the piece's folder; returns the files written."""
    midi, layout = versions_midi(excerpt, settings.taus, settings.gap_seconds, settings.render_sr)
    scratch = settings.work / "render" / piece_id
    scratch.mkdir(parents=True, exist_ok=True)
    midi.save(scratch / "versions.mid")
    rendered = 0
    for font in fonts:
        clips = render_font(scratch / "versions.mid", font, layout, settings.render_sr, settings.gain,
                            scratch / f"{font.key}.wav")
        for tau, clip in zip(settings.taus, clips):
            if np.sqrt(np.mean(clip**2)) < SILENT_RMS:
                continue  # a soundfont lacking an instrument; the manifest simply has no line for it
            write_flac(settings.out / "audio" / piece_id / audio_name(font, tau), clip)
            rendered += 1
    shutil.rmtree(scratch)
    return rendered


def manifest_records(piece: Piece, excerpt: Excerpt, settings: Settings) -> list[dict]:
    """One record per audio file of the piece that exists on disk."""
    records = []
    for font in fonts_for(piece.piece_id, settings.fonts_per_piece):
        for tau in settings.taus:
            path = settings.out / "audio" / piece.piece_id / audio_name(font, tau)
            if not path.exists():
                continue
            records.append(
                {
                    "path": path.relative_to(settings.out).as_posix(),
                    "piece_id": piece.piece_id,
                    "source": piece.source,
                    "soundfont": font.key,
                    "tau": tau,
                    "bpm": round(excerpt.bpm_start * tau, 3),
                    "bpm_mean": round(excerpt.bpm_mean * tau, 3),
                    "tempo_changes": excerpt.tempo_changes,
                    "piece_tempo_changes": excerpt.piece_tempo_changes,
                    "time_signature": excerpt.time_signature,
                    "style": piece.style,
                    "groove": piece.groove,
                    "has_drums": excerpt.has_drums,
                    "duration_s": round(sf.info(path).frames / SAMPLE_RATE, 4),
                    "excerpt_start_s": round(excerpt.start_seconds, 3),
                    "licence": piece.licence,
                    "soundfont_licence": font.licence,
                    "split": split_of(piece.piece_id, settings.heldout_percent),
                }
            )
    return records
