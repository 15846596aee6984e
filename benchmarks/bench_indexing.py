"""Indexing throughput: audio seconds analysed per wall-clock second, and where the time goes.

Synthesises a folder of 30 s mixes (drums, bass, chords: music-like spectra, so the decoder and the
network see realistic input), indexes it into a fresh library with one worker process per core, and
times decode / mel / network / tempo block on one core for the split.

Issue 17's table comes first: three kinds of sample library (30 s excerpts, loops of 6.3 s on
average, one-shots of 0.75 s), each synthesised with some variety (tempo, bar count, drums or bass
or chords, sample rate, bit depth, channels, names with and without a tempo) from a fixed seed,
and each indexed end to end through ``Library.index`` with 2 worker processes into a fresh library,
start-up included (the ``Library``, the worker pool, the models in each worker), with the
projection to 100k and 500k files at that rate.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf

from benchmarks.sample_library import machine
from engine.audio.decode import load_mono, probe
from engine.analysis.pipeline import learned_tempo
from engine.analysis.embedding import MusicnnEmbedder, loop_pad
from engine.analysis.mel import log_mel
from engine.analysis.tempo_block import compute_tempo_block
from engine.library.facade import Library
from engine.analysis.tempo import estimate_decoded_tempo

N_FILES, SECONDS, SR = 64, 30.0, 44100
# Issue 17's libraries: files per row, sized so the three rows take about a minute on 2 cores.
N_EXCERPTS, N_LOOPS, N_ONE_SHOTS = 40, 240, 480
LOOP_MEAN_S, ONE_SHOT_MEAN_S = 6.3, 0.75
WORKERS = 2
PROJECTED = (100_000, 500_000)
GOALS = ("≥ 220x", "≥ 40 files/s", "≥ 80 files/s")  # issue 17's, on 2 cores


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


# --------------------------------------------------------------------------- issue 17's three libraries


def _hit(kind: str, sr: int, rng: np.random.Generator, seconds: float | None = None) -> np.ndarray:
    """One drum hit or note, mono float64: ``kick``, ``snare``, ``hat``, ``clap``, or a tonal ``pluck``,
    ``stab``, ``bass``, ``808`` or ``pad`` (at a random pitch), about ``seconds`` long."""
    length = seconds or {"kick": 0.45, "snare": 0.3, "hat": 0.12, "clap": 0.3}.get(kind, 0.5)
    t = np.arange(max(1, int(length * sr))) / sr
    decay = np.exp(-t * 5.0 / length)
    if kind == "kick":
        f = rng.uniform(45, 60) + rng.uniform(80, 160) * np.exp(-t * 30)
        return np.sin(2 * np.pi * np.cumsum(f) / sr) * decay
    if kind in ("snare", "clap"):
        noise = rng.standard_normal(t.size) * np.exp(-t * (25 if kind == "snare" else 18))
        if kind == "clap":  # three quick bursts
            noise *= 1.0 + (np.sin(2 * np.pi * 90 * t) > 0.6) * (t < 0.03)
        return noise * 0.6 + np.sin(2 * np.pi * rng.uniform(170, 230) * t) * np.exp(-t * 30) * 0.5
    if kind == "hat":
        noise = rng.standard_normal(t.size + 1)
        return np.diff(noise) * 0.3 * np.exp(-t * rng.uniform(30, 80))
    f0 = {"bass": 41.2, "808": 41.2, "pad": 110.0}.get(kind, 220.0) * 2 ** (rng.integers(0, 24) / 12)
    if kind == "808":
        return np.sin(2 * np.pi * f0 * t) * np.exp(-t * 1.5 / length) * np.minimum(1.0, t * 200)
    harmonics = (1, 2, 3, 5) if kind != "pad" else (1, 1.005, 1.26, 1.5, 2.0)
    tone = sum(np.sin(2 * np.pi * f0 * h * t + rng.uniform(0, 6.3)) / (i + 1) for i, h in enumerate(harmonics))
    if kind == "pad":  # slow swell, no onset to speak of
        return tone * np.minimum(1.0, t / (0.4 * length)) * np.minimum(1.0, (length - t) / (0.2 * length) + 1e-3)
    return tone * (decay if kind != "pluck" else np.exp(-t * 12))


def _sequence(n: int, sr: int, events: list[tuple[float, np.ndarray, float]]) -> np.ndarray:
    """Lay hits (start s, samples, gain) on a track ``n`` samples long, cut at its end."""
    out = np.zeros(n)
    for start, hit, gain in events:
        i = int(start * sr)
        if i < n:
            m = min(hit.size, n - i)
            out[i : i + m] += gain * hit[:m]
    return out


def _part(kind: str, n: int, sr: int, bpm: float, rng: np.random.Generator) -> np.ndarray:
    """One instrument playing for ``n`` samples at ``bpm``: ``drums``, ``top`` (hats and claps only),
    ``bass``, ``arp`` (sixteenth plucks) or ``chords`` (a pad chord per bar)."""
    step = 60.0 / bpm / 4  # a sixteenth
    steps = int(np.ceil(n / sr / step))
    events: list[tuple[float, np.ndarray, float]] = []
    if kind in ("drums", "top"):
        kick, snare, hat, clap = (_hit(k, sr, rng) for k in ("kick", "snare", "hat", "clap"))
        kicks = [(1, 0, 0, 0) * 4, (1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0),
                 (1, 0, 0, 1, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0)][rng.integers(0, 3)]
        hats = 2 if rng.random() < 0.6 else 1
        for s in range(steps):
            swing = step * 0.15 * (s % 2) * (rng.random() < 0.3)
            if kind == "drums" and kicks[s % 16]:
                events.append((s * step, kick, 1.0))
            if s % 8 == 4:
                events.append((s * step, snare if kind == "drums" else clap, 0.8))
            if s % hats == 0:
                events.append((s * step + swing, hat, rng.uniform(0.3, 0.7)))
    elif kind in ("bass", "arp"):
        notes = [_hit("bass" if kind == "bass" else "pluck", sr, rng, step * (2 if kind == "bass" else 1.5))
                 for _ in range(4)]
        every = 2 if kind == "bass" else 1
        for s in range(0, steps, every):
            if rng.random() < 0.75:
                events.append((s * step, notes[(s // 4) % 4], 0.5))
    else:  # chords
        chords = [_hit("pad", sr, rng, step * 16) for _ in range(2)]
        for s in range(0, steps, 16):
            events.append((s * step, chords[(s // 16) % 2], 0.4))
    return _sequence(n, sr, events)


def _write(path: Path, mono: np.ndarray, sr: int, rng: np.random.Generator) -> Path:
    """Save at -1 dBFS peak: stereo (slightly decorrelated) nine times in ten, 24-bit WAV mostly,
    16-bit WAV or FLAC sometimes."""
    mono = mono / (np.abs(mono).max() or 1.0) * 0.89
    data = np.stack([mono, np.roll(mono, 23)], axis=1) if rng.random() < 0.9 else mono
    fmt = rng.choice(["wav24", "wav16", "flac"], p=[0.6, 0.3, 0.1])
    path = path.with_name(path.name + (".flac" if fmt == "flac" else ".wav"))
    sf.write(path, data.astype(np.float32), sr, subtype="PCM_16" if fmt != "wav24" else "PCM_24")
    return path


def _genre_bpm(rng: np.random.Generator) -> float:
    """A loop's tempo from a producer's mix: house, trap, drum & bass, hip-hop, anything (as sample_library)."""
    genre = rng.choice(5, p=[0.25, 0.15, 0.15, 0.20, 0.25])
    return float(round([rng.uniform(120, 128), rng.normal(140, 0.7), rng.uniform(170, 175),
                        rng.uniform(85, 95), np.exp(rng.uniform(np.log(60), np.log(200)))][genre], 1))


def make_excerpts(folder: Path, n: int, seed: int = 17) -> float:
    """``n`` 30 s excerpts of tracks (drums, bass, chords and an arp at one tempo, the drums out for a
    stretch); returns the seconds of audio written."""
    rng = np.random.default_rng(seed)
    for i in range(n):
        sr = 44100 if rng.random() < 0.7 else 48000
        bpm, count = _genre_bpm(rng), int(SECONDS * sr)
        parts = rng.choice(["drums", "top", "bass", "arp", "chords"], size=rng.integers(2, 6), replace=False)
        tracks = {str(k): _part(str(k), count, sr, bpm, rng) for k in parts}
        if "drums" in tracks and rng.random() < 0.5:  # a breakdown: the drums out for 8 s
            a = int(rng.uniform(0, 20) * sr)
            tracks["drums"][a : a + 8 * sr] = 0.0
        mix = sum(tracks.values())
        _write(folder / f"track_{i:03d}_excerpt", mix, sr, rng)
    return n * SECONDS


def make_loops(folder: Path, n: int, seed: int = 17) -> float:
    """``n`` loops, each a whole number of bars (1, 2, 4 or 8) at a producer's tempo: drum loops, top
    loops, bass, arps, chords and full grooves; half name their tempo. Returns the seconds written."""
    rng = np.random.default_rng(seed)
    total = 0.0
    for i in range(n):
        sr = 44100 if rng.random() < 0.7 else 48000
        bpm = _genre_bpm(rng)
        bars = int(rng.choice([1, 2, 4, 8], p=[0.09, 0.44, 0.42, 0.05]))
        seconds = bars * 240.0 / bpm
        kind = str(rng.choice(["drums", "top", "bass", "arp", "chords", "groove"], p=[0.35, 0.1, 0.15, 0.15, 0.1, 0.15]))
        count = int(round(seconds * sr))
        mono = (_part(kind, count, sr, bpm, rng) if kind != "groove"
                else sum(_part(k, count, sr, bpm, rng) for k in ("drums", "bass", "chords")))
        name = f"{kind}_loop_{i:03d}" + (f"_{bpm:g}bpm" if rng.random() < 0.5 else "")
        _write(folder / name, mono, sr, rng)
        total += count / sr
    return total


def make_one_shots(folder: Path, n: int, seed: int = 17) -> float:
    """``n`` one-shots: kicks, snares, claps, hats, plucks, stabs, bass notes, 808s and pad hits, each at
    its own length. Returns the seconds of audio written."""
    rng = np.random.default_rng(seed)
    lengths = {"kick": (0.25, 0.9), "snare": (0.2, 0.6), "clap": (0.2, 0.6), "hat": (0.05, 0.4),
               "pluck": (0.3, 1.2), "stab": (0.4, 1.5), "bass": (0.4, 1.5), "808": (0.8, 2.5), "pad": (1.0, 3.0)}
    kinds = list(lengths)
    share = np.array([0.18, 0.14, 0.08, 0.16, 0.1, 0.1, 0.1, 0.08, 0.06])
    total = 0.0
    for i in range(n):
        sr = 44100 if rng.random() < 0.7 else 48000
        kind = kinds[rng.choice(len(kinds), p=share / share.sum())]
        seconds = rng.uniform(*lengths[kind])
        mono = _hit(kind, sr, rng, seconds)
        _write(folder / f"{kind}_{i:03d}", mono, sr, rng)
        total += mono.size / sr
    return total


def library_rows() -> list[dict[str, float | str]]:
    """Issue 17's three rows: each library synthesised, then indexed from scratch, start-up included."""
    rows = []
    for (label, make, n), goal in zip((("30 s excerpts", make_excerpts, N_EXCERPTS), ("loops", make_loops, N_LOOPS),
                                       ("one-shots", make_one_shots, N_ONE_SHOTS)), GOALS):
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp) / "samples"
            folder.mkdir()
            audio_seconds = make(folder, n)
            started = time.perf_counter()
            lib = Library(Path(tmp) / "lib")
            events, first = [], None
            for event in lib.index(folder, workers=WORKERS):
                first = first or time.perf_counter() - started
                events.append(event)
            wall = time.perf_counter() - started
            lib.close()
        indexed = sum(e.outcome == "indexed" for e in events)
        if label != "30 s excerpts":
            label = f"{label} ({audio_seconds / n:.2f} s mean)"
        rows.append({"library": label, "files": n, "indexed": indexed, "audio": audio_seconds, "wall": wall,
                     "first": first or wall, "goal": goal})
    return rows


def _hours(seconds: float) -> str:
    return f"{seconds / 3600:.1f} h" if seconds >= 3600 else f"{seconds / 60:.0f} min"


def print_library_rows(rows: list[dict[str, float | str]]) -> None:
    print(f"\n## Issue 17: sample libraries indexed end to end ({WORKERS} worker processes, start-up included)")
    print(machine())
    print("files/s and x real time over the whole wall time; first file: from start to the first file's result "
          "(the Library, the worker pool, the models); projection: time = files / (files/s)")
    print("| library | files (indexed) | audio (s) | first file (s) | wall (s) | files/s | x real time | "
          + " | ".join(f"{n // 1000}k files" for n in PROJECTED) + " | goal |")
    print("|---|---|---|---|---|---|---|" + "---|" * (len(PROJECTED) + 1))
    for r in rows:
        rate = float(r["files"]) / float(r["wall"])
        projection = " | ".join(_hours(n / rate) for n in PROJECTED)
        print(f"| {r['library']} | {r['files']} ({r['indexed']}) | {float(r['audio']):.0f} | {float(r['first']):.1f} | "
              f"{float(r['wall']):.1f} | "
              f"{rate:.1f} | {float(r['audio']) / float(r['wall']):.0f}x | {projection} | {r['goal']} |")


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
    print_library_rows(library_rows())
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
