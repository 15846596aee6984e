"""The MIDI corpus passed through per-piece mixing chains (``data/real/mixed``), its split kept.

Paths in ``mixed/manifest.jsonl`` are relative to ``mixed/``, so
``load_manifest(Path("data/real/mixed"))`` reads it like the corpus itself.
"""

from __future__ import annotations

import json
import math
import sys
import time
from pathlib import Path

import numpy as np
import soundfile as sf

from scripts.corpus.effects import apply_chain, effect_chain, reverb_ir, rms_db
from scripts.corpus.output import write_flac
from scripts.corpus.real_material import PEAK_TARGET
from scripts.corpus.records import cached_records, run_parallel, write_manifest


def build_mixed_piece(rows: list[dict], corpus: Path, out: Path) -> list[dict]:
    """All versions of one corpus piece through its chain, with one shared gain (relative levels kept).

    The gain gives the reference version back its input level (EQ cuts, the Haas sum and the
    reverb's dry/wet mix lower it by several dB), unless that would push a version above PEAK_TARGET.
    """
    started = time.time()
    piece_id = rows[0]["piece_id"]
    signals = [sf.read(corpus / r["path"], dtype="float64")[0] for r in rows]
    reference = min(range(len(rows)), key=lambda i: (abs(rows[i]["tau"] - 1.0), rows[i]["soundfont"]))
    chain = effect_chain(piece_id, rms_db(signals[reference]))
    reverb = {k: chain["reverb"][k] for k in ("rt60_s", "predelay_ms", "damping_hz", "seed")}
    ir = reverb_ir(**reverb)
    mixed = [apply_chain(s, chain, ir) for s in signals]
    level_gain = 10 ** ((rms_db(signals[reference]) - rms_db(mixed[reference])) / 20)
    gain = min(level_gain, PEAK_TARGET / max(float(np.abs(m).max()) for m in mixed))
    chain["output_gain_db"] = round(20 * math.log10(gain), 2)
    print(f"{piece_id}: {chain['chain']}, {len(rows)} files, {time.time() - started:.1f} s", flush=True)
    records = []
    for row, signal in zip(rows, mixed):
        name = f"mixed/{piece_id}/{Path(row['path']).name}"
        write_flac(out / name, signal * gain)
        records.append({**row, "path": name.removeprefix("mixed/"),
                        "source_path": row["path"], "soundfont": f"{row['soundfont']}+{chain['chain']}",
                        "source_soundfont": row["soundfont"], "effects": chain})
    return records


def mixed_piece(args: tuple[list[dict], Path, Path]) -> list[dict]:
    """One corpus piece's mixed records, built unless its ``records.jsonl`` exists (a worker function)."""
    rows, corpus, out = args
    return cached_records(out / "mixed" / rows[0]["piece_id"], lambda: build_mixed_piece(rows, corpus, out))


def build_mixed(corpus: Path, out: Path, jobs: int) -> None:
    """Every piece of the MIDI corpus mixed; ``mixed/manifest.jsonl`` keeps the corpus's split.

    Paths in that manifest are relative to ``mixed/``, so ``load_manifest(Path("data/real/mixed"))``
    reads it.
    """
    manifest = corpus / "manifest.jsonl"
    if not manifest.exists():
        sys.exit(f"{manifest} does not exist yet: build the MIDI corpus first")
    by_piece: dict[str, list[dict]] = {}
    for line in manifest.read_text().splitlines():
        row = json.loads(line)
        by_piece.setdefault(row["piece_id"], []).append(row)
    items = [(rows, corpus, out) for _, rows in sorted(by_piece.items())]
    print(f"{len(items)} corpus pieces to mix", flush=True)
    results = run_parallel(mixed_piece, items, jobs)
    write_manifest(out / "mixed" / "manifest.jsonl", [r for records in results for r in records])
