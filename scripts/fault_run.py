"""A fresh run on thousands of files with bad ones mixed in, killed and unplugged on the way (issue 14).

What a new user's first scan of a real sample folder throws at the app, end to end through ``sbf``:

1. ``--good`` distinct short loops and one-shots (a few with Latin-1 names), and about 4 % bad files:
   empty, noise renamed .wav, cut-off WAV and FLAC files, text called .mp3, a dangling link, a link loop.
2. ``sbf index`` is killed with SIGKILL ``--kills`` times mid-scan; after each kill, every worker
   process must be gone within 2 s (they belong to the killed scan, not to anyone).
3. One last scan runs to the end: every good file indexed once (no duplicates), every bad one listed.
4. BPM corrections are made, the folder is moved away (a drive unplugged) and scanned: nothing
   removed. It is moved back and scanned: nothing analysed again, and the corrections are kept.

Prints one table. Needs a few minutes on 2 cores for 5,000 files::

    python scripts/fault_run.py --good 5000 --kills 10
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf

SR = 22_050
TAG = "SBF_FAULT_RUN"  # inherited by the scan's workers: how their leftovers are found after a kill


def sbf(*args: str, library: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "sbf", *args, "--library-dir", str(library)],
                          capture_output=True, text=True, errors="surrogateescape", env=env or os.environ.copy(),
                          check=False)


def sbf_json(*args: str, library: Path):
    out = sbf(*args, "--json", library=library)
    if out.returncode != 0:
        raise SystemExit(f"sbf {' '.join(args)} failed ({out.returncode}): {out.stderr.strip()}")
    return json.loads(out.stdout)


def make_folder(root: Path, good: int, seed: int = 0) -> tuple[list[Path], list[Path]]:
    """``good`` distinct sounds and ~4 % bad files under ``root`` (in 20 sub-folders)."""
    rng = np.random.default_rng(seed)
    good_paths, bad_paths = [], []
    for i in range(good):
        folder = root / f"pack_{i % 20:02d}"
        folder.mkdir(parents=True, exist_ok=True)
        bpm = float(rng.uniform(70, 170))
        if i % 5 == 4:  # a one-shot: a decaying tone
            t = np.arange(int(SR * rng.uniform(0.2, 0.8))) / SR
            audio = np.sin(2 * np.pi * rng.uniform(40, 400) * t) * np.exp(-t * rng.uniform(4, 20))
            name = f"oneshot_{i:05d}.wav"
        else:  # a loop of clicks and noise hits at its tempo, two bars
            n = int(SR * 8 * 60 / bpm)
            audio = rng.normal(0, 0.01, n)
            beat = int(SR * 60 / bpm)
            for start in range(0, n, beat // 2):
                hit = min(n - start, 800)
                audio[start:start + hit] += rng.uniform(0.2, 0.8) * rng.normal(0, 1, hit) * np.exp(-np.arange(hit) / 120)
            name = f"loop_{i:05d}_{bpm:.0f}bpm.wav"
        if i % 250 == 7:
            name = name.encode().replace(b"_", b"_caf\xe9_", 1).decode("utf-8", "surrogateescape")  # Latin-1
        path = folder / name
        sf.write(os.fsencode(path), (0.5 * audio / max(1e-6, np.abs(audio).max())).astype(np.float32), SR,
                 subtype="PCM_16")
        good_paths.append(path)
    bad = root / "bad"
    bad.mkdir(exist_ok=True)
    n_bad = max(6, good * 4 // 96)
    for j in range(n_bad):
        kind = j % 6
        path = bad / f"bad_{j:04d}" if kind < 4 else None
        if kind == 0:
            (path := path.with_suffix(".wav")).write_bytes(b"")
        elif kind == 1:
            (path := path.with_suffix(".wav")).write_bytes(rng.bytes(5000))
        elif kind == 2:  # a WAV cut off in its header
            full = bad / f"full_{j}.tmp"
            sf.write(full, rng.normal(0, 0.1, SR).astype(np.float32), SR, subtype="PCM_16", format="WAV")
            (path := path.with_suffix(".wav")).write_bytes(full.read_bytes()[:30])
            full.unlink()
        elif kind == 3:
            (path := path.with_suffix(".mp3")).write_text("not audio at all\n" * 20)
        elif kind == 4:
            path = bad / f"dangling_{j:04d}.wav"
            path.symlink_to(bad / "nowhere.wav")
        else:
            loop_dir = bad / f"loop_{j:04d}"
            loop_dir.mkdir()
            (loop_dir / "again").symlink_to(loop_dir)
            path = loop_dir / "again"
        bad_paths.append(path)
    return good_paths, bad_paths


def leftover_workers(tag: str) -> list[int]:
    """Processes still alive that carry this run's tag in their environment."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            if f"{TAG}={tag}".encode() in (entry / "environ").read_bytes():
                found.append(int(entry.name))
        except OSError:
            continue
    return found


def killed_scans(folder: Path, library: Path, kills: int, seed: int) -> list[tuple[float, int, float]]:
    """Kill ``kills`` scans mid-way; for each: when, how many of its processes were alive just before (the
    scan and its workers), and seconds until the last of them was gone (inf: not within 10 s)."""
    rng = random.Random(seed)
    timings = []
    for k in range(kills):
        tag = f"{os.getpid()}-{k}"
        env = {**os.environ, TAG: tag}
        scan = subprocess.Popen([sys.executable, "-m", "sbf", "index", str(folder), "--library-dir", str(library),
                                 "--workers", "2", "--json"], env=env, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        after = rng.uniform(4.0, 12.0)
        time.sleep(after)
        alive = len(leftover_workers(tag))
        scan.send_signal(signal.SIGKILL)
        scan.wait()
        killed = time.monotonic()
        while leftover_workers(tag) and time.monotonic() - killed < 10:
            time.sleep(0.1)
        timings.append((after, alive, time.monotonic() - killed if not leftover_workers(tag) else float("inf")))
    return timings


def stored_paths(library: Path) -> list[bytes]:
    """Every file row of the library, read-only (duplicates would show as repeated paths)."""
    db = next(library.glob("*.db"), None) or next(library.glob("*.sqlite*"))
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as con:
        con.text_factory = bytes  # paths are stored byte for byte (names that are not UTF-8 included)
        return [row[0] for row in con.execute("SELECT path FROM files")]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--good", type=int, default=5000)
    parser.add_argument("--kills", type=int, default=10)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--keep", action="store_true", help="leave the temporary folder for a look")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="sbf-fault-run-"))
    folder, library = work / "Samples", work / "library"
    started = time.monotonic()
    good, bad = make_folder(folder, args.good, args.seed)
    print(f"Made {len(good)} good and {len(bad)} bad files in {time.monotonic() - started:.0f} s ({folder})")

    timings = killed_scans(folder, library, args.kills, args.seed)
    final = sbf_json("index", str(folder), library=library)
    info = sbf_json("info", library=library)
    failed = {f["path"] for f in sbf_json("failed", library=library)}
    rows = stored_paths(library)
    listed_bad = sum(any(str(b) == f or f.startswith(str(b)) for f in failed) for b in bad)

    corrected = [p for p in good if "loop_" in p.name][:20]
    for p in corrected:
        sbf("tempo", str(p), "--set", "123", library=library)
    unplugged = work / "unplugged"
    folder.rename(unplugged)
    away = sbf("index", str(folder), "--json", library=library)
    info_away = sbf_json("info", library=library)
    unplugged.rename(folder)
    back = sbf_json("index", str(folder), library=library)
    kept = sum(sbf_json("tempo", str(p), library=library)[0].get("bpm") == 123 for p in corrected)

    print()
    print("| check | result |")
    print("|---|---|")
    print(f"| kills during the scan | {len(timings)} (after {', '.join(f'{a:.0f}' for a, _, _ in timings)} s) |")
    print(f"| processes alive at each kill (scan + workers) | {', '.join(str(n) for _, n, _ in timings)} |")
    worst = max((t for _, _, t in timings), default=0.0)
    print(f"| workers gone after each kill, worst | {worst:.1f} s ({'ok' if worst <= 2 else 'TOO SLOW'}) |")
    print(f"| good files indexed | {info['files_ok']} of {len(good)} |")
    print(f"| bad files listed as failed | {listed_bad} of {len(bad)} |")
    print(f"| file rows / distinct paths | {len(rows)} / {len(set(rows))} |")
    print(f"| last scan after the kills | {final['counts']} |")
    print(f"| scan with the folder unplugged | exit {away.returncode}: {away.stderr.strip() or away.stdout.strip()[:120]} |")
    print(f"| files still in the library while unplugged | {info_away['files_ok']} |")
    print(f"| scan after replugging | {back['counts']} |")
    print(f"| BPM corrections kept | {kept} of {len(corrected)} |")
    print(f"| total time | {time.monotonic() - started:.0f} s |")
    if not args.keep:
        subprocess.run(["rm", "-rf", str(work)], check=False)


if __name__ == "__main__":
    main()
