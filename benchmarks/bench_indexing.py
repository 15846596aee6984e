"""Indexing throughput: audio seconds analysed per wall-clock second, and where the time goes.

Synthesises a folder of 30 s mixes (drums, bass, chords: music-like spectra, so the decoder and the
network see realistic input), indexes it into a fresh library with one worker process per core, and
times decode / mel / network / tempo block on one core for the split.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf

from engine.audio.decode import load_mono, probe
from engine.analysis.pipeline import learned_tempo
from engine.analysis.embedding import MusicnnEmbedder, loop_pad
from engine.analysis.mel import log_mel
from engine.analysis.tempo_block import compute_tempo_block
from engine.library.facade import Library
from engine.analysis.tempo import estimate_decoded_tempo

N_FILES, SECONDS, SR = 64, 30.0, 44100


def synth_mix(seed: int, seconds: float = SECONDS, sr: int = SR) -> np.ndarray:
    """A stereo 44.1 kHz mix at a random tempo: kick, noise hats and a detuned saw chord."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * sr)) / sr
    bpm = rng.uniform(80, 160)
    beat = 60 / bpm
    phase = (t % beat) / beat
    kick = np.sin(2 * np.pi * 55 * t) * np.exp(-phase * 12)
    hats = rng.standard_normal(len(t)) * np.exp(-((t % (beat / 2)) / beat) * 40) * 0.2
    root = 110 * 2 ** (rng.integers(0, 12) / 12)
    chord = sum(((t * root * r) % 1.0 - 0.5) for r in (1, 1.26, 1.5)) * 0.15
    mono = kick + hats + chord
    stereo = np.stack([mono, np.roll(mono, 50)], axis=1)
    return (stereo / np.abs(stereo).max() * 0.8).astype(np.float32)


def split_timings(paths: list[Path]) -> dict[str, float]:
    """Seconds per file spent in each stage, single-threaded."""
    emb = MusicnnEmbedder(threads=1)
    totals = dict.fromkeys(("decode", "mel", "network", "tempo block", "tempo estimate"), 0.0)
    load_mono(paths[0])  # first-call costs (librosa's lazy imports, resampler set-up) are not per file
    for path in paths:
        t0 = time.perf_counter()
        decoded = load_mono(path)
        audio = decoded.samples
        t1 = time.perf_counter()
        mel = log_mel(loop_pad(audio, 187 * 256))
        t2 = time.perf_counter()
        patches = emb.embed_mel(mel)
        t3 = time.perf_counter()
        block = compute_tempo_block(audio, 16000)
        t4 = time.perf_counter()
        estimate_decoded_tempo(path, probe(path), decoded, block, learned=learned_tempo(emb, patches, block))
        t5 = time.perf_counter()
        for key, dt in zip(totals, (t1 - t0, t2 - t1, t3 - t2, t4 - t3, t5 - t4)):
            totals[key] += dt
    return {k: v / len(paths) for k, v in totals.items()}


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "samples"
        folder.mkdir()
        paths = []
        for i in range(N_FILES):
            paths.append(folder / f"mix_{i:03d}.wav")
            sf.write(paths[-1], synth_mix(i), SR)
        audio_seconds = N_FILES * SECONDS
        stages = split_timings(paths[:4])
        lib = Library(Path(tmp) / "lib")
        started = time.perf_counter()
        events = list(lib.index(folder))
        wall = time.perf_counter() - started
        indexed = sum(e.outcome == "indexed" for e in events)
        lib.close()
    per_file = sum(stages.values())
    print("\n## Indexing throughput (2 worker processes, one per core)")
    print("| files | audio (s) | wall (s) | x real time |\n|---|---|---|---|")
    print(f"| {indexed} | {audio_seconds:.0f} | {wall:.1f} | {audio_seconds / wall:.0f}x |")
    print("\n## Where one file's time goes (one core, 30 s stereo 44.1 kHz WAV)")
    print("| stage | ms per file | share | x real time (this stage alone) |\n|---|---|---|---|")
    for stage, sec in stages.items():
        print(f"| {stage} | {sec * 1000:.0f} | {sec / per_file:.0%} | {SECONDS / sec:.0f}x |")
    print(f"| total | {per_file * 1000:.0f} | 100% | {SECONDS / per_file:.0f}x |")


if __name__ == "__main__":
    main()
