"""Resumable builds of the real material: a piece's records are saved once its audio exists, and
every manifest is rewritten from all pieces' records at the end of a run.
"""

from __future__ import annotations

import json
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path


def cached_records(piece_dir: Path, build) -> list[dict]:
    """The piece's records from ``records.jsonl``, or ``build()``'s, saved there once its audio exists.

    The records file is written last, so its presence means the piece is complete: this is what
    makes every step resumable.
    """
    records_path = piece_dir / "records.jsonl"
    if records_path.exists():
        return [json.loads(line) for line in records_path.read_text().splitlines()]
    records = build()
    piece_dir.mkdir(parents=True, exist_ok=True)
    records_path.write_text("".join(json.dumps(r) + "\n" for r in records))
    return records


def write_manifest(path: Path, records: list[dict]) -> None:
    """Rewrite a manifest, sorted by path, so reruns produce identical bytes."""
    records = sorted(records, key=lambda r: r["path"])
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    hours = sum(r["duration_s"] for r in records) / 3600
    print(f"{path}: {len(records)} files, {len({r['piece_id'] for r in records})} pieces, {hours:.2f} h", flush=True)


def run_parallel(function, items: list, jobs: int) -> list:
    """``function`` over ``items``, in ``jobs`` processes; one process runs in this one (easier to debug)."""
    if jobs <= 1:
        return [function(item) for item in items]
    with ProcessPoolExecutor(jobs) as pool:
        return list(pool.map(function, items))
