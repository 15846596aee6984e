"""How often ``engine.analysis.tempo`` gets a file's BPM right, against librosa and the tempo block alone.

Labelled data:

* the demo library ``resources/demo/manifest.json``: synthesised loops of whole 4/4 bars at known
  BPM, and one-shots. It has no split and ``TempoConfig``'s weights were chosen looking at it
  (with the corpus train split), so its figures are not held-out ones;
* the MIDI corpus ``data/corpus/manifest.jsonl``: the same excerpts rendered at several tempi
  (``bpm`` = quarter notes per minute at the excerpt's start), held-out split only. Whole files are
  "tracks"; the first 1, 2, 4 or 8 bars of each, cut sample-exactly at the known tempo, are "loops".

Files whose tempo changes inside the excerpt, and labels outside the range the estimator reports
(``TEMPO.bpm_min..bpm_max``), are left out. Every row is name-free (the estimator never sees a file
name, so the label cannot leak) except the one that says it uses names. Accuracy1: within 4 % of
the label; Accuracy2: within 4 % of the label times 1, 2, 3, 1/2 or 1/3 (octave errors forgiven).
"librosa alone" is ``librosa.feature.tempo`` with its defaults; "tempo-block argmax" the grid
tempo of the block's largest value (30-595 BPM); "tempo classifier alone" the shipped classifier on
the (cut) file's track vector; the full combination is what a scan stores: signal, priors and the
classifier's vote (``engine.analysis.pipeline.learned_tempo``).

    .venv/bin/python scripts/eval_tempo.py                 # all held-out files: about 6 min on 2 cores
    .venv/bin/python scripts/eval_tempo.py --max-per-set 100 --workers 1
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
import zlib
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import librosa
import numpy as np

from engine.analysis.pipeline import learned_tempo
from engine.audio.decode import AudioError, load_mono
from engine.analysis.embedding import MusicnnEmbedder
from engine.config import TEMPO, TEMPO_BLOCK
from engine.analysis.tempo_block import compute_tempo_block
from engine.analysis.tempo import estimate_tempo, signal_evidence
from engine.analysis.tempo_tags import tempo_from_name
from engine.models.tempo_classifier import shipped_classifier

REPO = Path(__file__).resolve().parent.parent

OCTAVE_FACTORS = (1.0, 2.0, 3.0, 1 / 2, 1 / 3)
LOOP_BARS = (1, 2, 4, 8)
MIN_LOOP_SECONDS = 1.5  # shorter cuts would be refused as one-shots by design, not by mistake
METHODS = ("librosa alone", "tempo-block argmax", "tempo classifier alone", "combination without the classifier",
           "full combination", "full combination + file names")


@dataclass(frozen=True)
class Item:
    """One labelled file, or a cut of one: ``bars`` > 0 cuts that many bars from the start."""

    path: str
    kind: str  # "loops", "tracks" or "one-shots"
    bpm: float | None
    origin: str  # "demo" or "corpus"
    bars: int = 0
    quarters_per_bar: float = 4.0


def demo_items(folder: Path) -> list[Item]:
    manifest = folder / "manifest.json"
    if not manifest.exists():
        print(f"note: no demo library at {manifest}; build it with scripts/make_demo_library.py", file=sys.stderr)
        return []
    return [Item(str(folder / e["file"]), "loops" if e["kind"] == "loop" else "one-shots", e["bpm"], "demo")
            for e in json.loads(manifest.read_text())]


def corpus_items(folder: Path, split: str) -> list[Item]:
    manifest = folder / "manifest.jsonl"
    if not manifest.exists():
        print(f"note: no corpus manifest at {manifest}; build it with scripts/build_corpus.py", file=sys.stderr)
        return []
    items = []
    for line in manifest.read_text().splitlines():
        row = json.loads(line)
        if row["split"] != split or row["tempo_changes"] or not TEMPO.bpm_min <= row["bpm"] <= TEMPO.bpm_max:
            continue
        path = str(folder / row["path"])
        items.append(Item(path, "tracks", row["bpm"], "corpus"))
        numerator, denominator = (int(x) for x in row["time_signature"].split("/"))
        quarters = numerator * 4 / denominator
        bar_seconds = quarters * 60.0 / row["bpm"]
        fitting = [b for b in LOOP_BARS if MIN_LOOP_SECONDS <= b * bar_seconds <= row["duration_s"]]
        if fitting:
            bars = fitting[zlib.crc32(row["path"].encode()) % len(fitting)]
            items.append(Item(path, "loops", row["bpm"], "corpus", bars, quarters))
    return items


def subsample(items: list[Item], per_set: int) -> list[Item]:
    """At most ``per_set`` items of each (origin, kind), the same ones on every run."""
    chosen = []
    for key in sorted({(i.origin, i.kind) for i in items}):
        group = sorted((i for i in items if (i.origin, i.kind) == key),
                       key=lambda i: zlib.crc32(f"{i.path}{i.bars}".encode()))
        chosen.extend(group[:per_set])
    return chosen


@lru_cache(maxsize=1)
def _embedder() -> MusicnnEmbedder:
    return MusicnnEmbedder(threads=1)  # one process per core


def estimate_all(item: Item) -> dict[str, float | None] | None:
    """Every method's BPM for one item (None: no tempo), or None when the file cannot be read.

    The file name is only seen by the last method.
    """
    try:
        decoded = load_mono(item.path)
    except AudioError as e:
        print(f"skipped {item.path}: {e.reason}", file=sys.stderr)
        return None
    samples, sr = decoded.samples, decoded.sample_rate
    duration = decoded.duration_s
    if item.bars:
        duration = item.bars * item.quarters_per_bar * 60.0 / item.bpm
        samples = samples[: round(duration * sr)]
    block = compute_tempo_block(samples, sr)
    signal = signal_evidence(samples, sr, block)
    grid = TEMPO_BLOCK.bpm_grid()
    names = tempo_from_name(item.path) if item.origin == "demo" else ()
    embedder = _embedder()
    patches = embedder.embed(samples)
    learned = learned_tempo(embedder, patches, block)
    combined = estimate_tempo(duration, signal, learned=learned)
    return {
        "librosa alone": float(librosa.feature.tempo(y=samples, sr=sr)[0]),
        "tempo-block argmax": grid[int(np.argmax(block))] if np.any(block) else None,
        "tempo classifier alone": shipped_classifier()(shipped_classifier().space.vector(patches, block))[0],
        "combination without the classifier": estimate_tempo(duration, signal).bpm,
        "full combination": combined.bpm,
        "full combination + file names": estimate_tempo(duration, signal, declared=names, learned=learned).bpm,
        "confidence": combined.confidence,
    }


def correct(estimate: float | None, label: float, factors: tuple[float, ...]) -> bool:
    return estimate is not None and any(abs(math.log(estimate / (label * f))) <= math.log1p(TEMPO.tolerance)
                                        for f in factors)


def table(items: list[Item], results: list[dict[str, float | None]], columns: dict[str, Callable[[Item], bool]]) -> str:
    """Markdown: one row per method, Acc1 and Acc2 for each column's items."""
    columns = {name: keep for name, keep in columns.items() if any(keep(i) for i in items)}
    head = "| method | " + " | ".join(f"{name} Acc1 | {name} Acc2" for name in columns) + " |"
    lines = [head, "|" + "---|" * (1 + 2 * len(columns))]
    for method in METHODS:
        cells = []
        for keep in columns.values():
            # names exist only in the demo library; elsewhere that row would repeat the one above
            pairs = [(i, r) for i, r in zip(items, results)
                     if keep(i) and (method != METHODS[-1] or i.origin == "demo")]
            if not pairs:
                cells += ["-", "-"]
                continue
            for factors in ((1.0,), OCTAVE_FACTORS):
                hits = sum(correct(r[method], i.bpm, factors) for i, r in pairs)
                cells.append(f"{100 * hits / len(pairs):.1f} %")
        lines.append(f"| {method} | " + " | ".join(cells) + " |")
    counts = ", ".join(f"{name} {sum(keep(i) for i in items)}" for name, keep in columns.items())
    return "\n".join([*lines, "", f"Files: {counts}."])


def confidence_line(items: list[Item], results: list[dict[str, float | None]], threshold: float = 0.5) -> str:
    """How much the combination's confidence is worth: accuracy of the answers above ``threshold``."""
    pairs = [(i, r) for i, r in zip(items, results) if i.kind != "one-shots"]
    sure = [(i, r) for i, r in pairs if r["confidence"] >= threshold]
    if not sure:
        return ""
    hits = sum(correct(r["full combination"], i.bpm, (1.0,)) for i, r in sure)
    return (f"Full combination, confidence >= {threshold}: {100 * len(sure) / len(pairs):.0f} % of loops and tracks, "
            f"Acc1 {100 * hits / len(sure):.1f} %.")


def one_shot_line(items: list[Item], results: list[dict[str, float | None]]) -> str:
    shots = [r for i, r in zip(items, results) if i.kind == "one-shots"]
    loops = [r for i, r in zip(items, results) if i.kind == "loops"]
    if not shots:
        return ""
    found = sum(r["full combination"] is None for r in shots)
    missed_loops = sum(r["full combination"] is None for r in loops)
    return (f"One-shots (demo): {found}/{len(shots)} given no tempo; loops wrongly given no tempo: "
            f"{missed_loops}/{len(loops)}.")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--demo", type=Path, default=REPO / "resources" / "demo", help="demo library folder")
    parser.add_argument("--corpus", type=Path, default=REPO / "data" / "corpus", help="MIDI corpus folder")
    parser.add_argument("--split", default="heldout", help="corpus split to evaluate on")
    parser.add_argument("--max-per-set", type=int, default=1000, help="files per (source, kind), sub-sampled")
    parser.add_argument("--workers", type=int, default=2, help="processes")
    args = parser.parse_args(argv)
    items = subsample(demo_items(args.demo) + corpus_items(args.corpus, args.split), args.max_per_set)
    if not items:
        print("No labelled data found.", file=sys.stderr)
        return 2
    started = time.monotonic()
    with ProcessPoolExecutor(args.workers) as pool:
        results = list(pool.map(estimate_all, items, chunksize=4))
    items, results = [i for i, r in zip(items, results) if r], [r for r in results if r]
    print(table(items, results, {"loops": lambda i: i.kind == "loops", "tracks": lambda i: i.kind == "tracks"}))
    print()
    print(table(items, results, {"demo loops": lambda i: i.kind == "loops" and i.origin == "demo",
                                 "corpus loops": lambda i: i.kind == "loops" and i.origin == "corpus"}))
    print()
    print(one_shot_line(items, results))
    print(confidence_line(items, results))
    print(f"\n{len(items)} files in {time.monotonic() - started:.0f} s with {args.workers} workers.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
