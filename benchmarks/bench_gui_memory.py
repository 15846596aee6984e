"""Peak memory of the desktop app with a 100,000-file library open, and how long it takes to list it.

A real library database (:class:`engine.library.store.Store`, written with ``put_analysis`` in
transactions of 5,000) holds 100,000 analyses: 1-3 synthetic patches of 753 float32 and a tempo
block per file from a fixed RNG, tempi and second readings from :mod:`benchmarks.sample_library`.
It is built once and cached in ``data/bench/gui_100k/`` (git-ignored), with its HNSW index, which
the engine caches beside the database the first time it searches (as it would have after indexing).

The files need not exist: opening a library neither rescans it nor checks its files (the list shows
what the database holds, and a missing file only fails when played). The pack folders exist (the
window watches them) and the query is a real sound, a demo loop copied in, whose size and mtime the
database records: a query must be current on disk to use its stored analysis.

The app then starts offscreen in a process of its own, as ``sbf gui --screenshot OUT.png --query
QUERY --bpm 140`` does (:mod:`benchmarks.gui_memory_child`: the same window and driver, plus two
listeners), and the table gives, from the process' launch: when the window listed the library,
when it showed the query's results at 140 BPM, and the resident set (VmRSS) then and its peak
(VmHWM; ``wait4``'s ``ru_maxrss`` for the whole run). Goal: peak <= 500 MB.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from benchmarks.sample_library import machine, sample_tempi
from engine.config import DEMO_DIR
from engine.config import TEMPO_BLOCK
from engine.analysis.embedding import MusicnnEmbedder
from engine.library.facade import DB_NAME, Library
from engine.library.store import SCHEMA_VERSION, NewAnalysis, Store

N_FILES = 100_000
PATCH_DIM = 753
PACKS = 50
BATCH = 5_000
SEED = 100_000
GOAL_MB = 500
QUERY_BPM = 140.0
QUERY_SOUND = DEMO_DIR / "bass_808_Cm_140bpm.flac"
LIBRARY_DIR = Path("data/bench/gui_100k")
STAMP = f"n={N_FILES} dim={PATCH_DIM} seed={SEED} schema={SCHEMA_VERSION} model={MusicnnEmbedder.id}/{MusicnnEmbedder.version}"


def build_library(library_dir: Path = LIBRARY_DIR) -> tuple[Path, str]:
    """The cached 100k-file library (built on a miss): its query file, and how it was had."""
    library_dir = library_dir.resolve()
    stamp = library_dir / "bench-stamp.txt"
    query = library_dir / "samples" / "pack00" / QUERY_SOUND.name
    if stamp.exists() and stamp.read_text() == STAMP and query.exists():
        return query, "cached"
    shutil.rmtree(library_dir, ignore_errors=True)
    started = time.perf_counter()
    root = library_dir / "samples"
    for p in range(PACKS):
        (root / f"pack{p:02d}").mkdir(parents=True, exist_ok=True)
    shutil.copy2(QUERY_SOUND, query)
    st = query.stat()
    tempi = sample_tempi(N_FILES, SEED)
    rng = np.random.default_rng(SEED)
    store = Store(library_dir / DB_NAME)
    model = (MusicnnEmbedder.id, MusicnnEmbedder.version)
    for start in range(0, N_FILES, BATCH):
        with store.transaction() as db:
            for i in range(start, min(start + BATCH, N_FILES)):
                bpm = tempi.bpms[i]
                if i == 0:  # the query: a real file, at the tempo its name says
                    path, size, mtime, bpm, cands = str(query), st.st_size, st.st_mtime_ns, QUERY_BPM, ((QUERY_BPM, 1.0),)
                else:
                    name = f"oneshot_{i:06d}.wav" if bpm is None else f"loop_{i:06d}_{round(bpm)}bpm.wav"
                    path, size, mtime, cands = str(root / f"pack{i % PACKS:02d}" / name), 100_000 + i, 1_700_000_000 * 10**9 + i, tempi.candidates(i)
                patches = rng.standard_normal((int(rng.integers(1, 4)), PATCH_DIM), dtype=np.float32)
                block = rng.random(TEMPO_BLOCK.n_bins, dtype=np.float32)
                store.put_analysis(db, NewAnalysis(
                    path, str(root), size, mtime, f"{i:032x}", float(rng.uniform(0.5, 8.0)), "wav", patches, block,
                    bpm, 0.0 if bpm is None else 0.8, "signal" if bpm is not None else "none", cands), *model)
    store.close()
    written = time.perf_counter() - started
    lib = Library(library_dir)  # the engine's search index, cached beside the database as after indexing
    lib.search(str(query), k=20, mode="target", target_bpm=QUERY_BPM)
    lib.close()
    stamp.write_text(STAMP)
    return query, f"built in {written:.0f} s, search index in {time.perf_counter() - started - written:.0f} s"


def run_app(library_dir: Path, query: Path) -> tuple[dict, float]:
    """Start the app on the library; its events (see gui_memory_child) and wait4's peak RSS in MB."""
    out = library_dir / "screenshot.png"
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "SBF_LIBRARY_DIR": str(library_dir)}
    launched = time.time()
    with open(library_dir / "app-stderr.txt", "w+") as err:
        proc = subprocess.Popen([sys.executable, "-m", "benchmarks.gui_memory_child", str(library_dir), str(query),
                                 str(QUERY_BPM), str(out), repr(launched)], env=env, stdout=subprocess.PIPE,
                                stderr=err, text=True)
        stdout = proc.stdout.read()  # until the app exits (the child's own timeout ends it)
        _pid, status, usage = os.wait4(proc.pid, 0)  # this child's own rusage, not the largest child's so far
        proc.returncode = os.waitstatus_to_exitcode(status)
        err.seek(0)
        stderr = err.read()
    lines = [line for line in stdout.splitlines() if line.startswith("{")]
    if not lines:
        raise RuntimeError(f"the app printed no report (exit {proc.returncode}): {stderr[-2000:]}")
    return json.loads(lines[-1]), usage.ru_maxrss / 1024


def sizes(library_dir: Path) -> dict[str, float]:
    """What the library holds, MB: the stored patches and the files' track vectors (282-d float32)."""
    import sqlite3

    db = sqlite3.connect(library_dir / DB_NAME)
    patches, blocks, files = db.execute("SELECT SUM(LENGTH(patches)), SUM(LENGTH(tempo_block)), COUNT(*) FROM analyses").fetchone()
    db.close()
    hnsw = sum(p.stat().st_size for p in library_dir.glob("index-*"))
    return {"patches": patches / 2**20, "blocks": blocks / 2**20, "files": files, "hnsw": hnsw / 2**20,
            "db": (library_dir / DB_NAME).stat().st_size / 2**20}


def main() -> None:
    query, how = build_library()
    library_dir = LIBRARY_DIR.resolve()
    events, maxrss = run_app(library_dir, query)
    s = sizes(library_dir)
    print(f"\n## The app with a {N_FILES:,}-file library: time to list it and peak memory (offscreen, "
          f"sbf gui --screenshot --query ... --bpm {QUERY_BPM:g})")
    print(machine())
    print(f"Library in {LIBRARY_DIR}/ ({how}): {s['db']:,.0f} MB database, of which {s['patches']:,.0f} MB patches; "
          f"HNSW cache {s['hnsw']:,.0f} MB. Goal: peak RSS <= {GOAL_MB} MB.\n")
    print("| from launch | s | RSS (MB) | peak so far (MB) | |")
    print("|---|---|---|---|---|")
    notes = {"qt_ready": "Qt imported, QApplication made",
             "listed": f"{events.get('listed', {}).get('tracks', 0):,} tracks listed",
             "answered": (f"{events.get('answered', {}).get('results', 0)} results at {QUERY_BPM:g} BPM, window held "
                          f"{events.get('answered', {}).get('window')} files; error: {events.get('answered', {}).get('error')}"),
             "exit": f"screenshot saved, exit {events['exit']['status']} {events['exit']['error'] or ''}".strip()}
    for key in ("started", "qt_ready", "listed", "answered", "exit"):
        e = events.get(key)
        if e is None:
            print(f"| {key} | - | - | - | never happened |")
            continue
        print(f"| {key} | {e['s']:.1f} | {e['VmRSS']:,.0f} | {e['VmHWM']:,.0f} | {notes.get(key, 'python started')} |")
    peak = max(events["exit"]["VmHWM"], maxrss)
    print(f"\nPeak RSS {peak:,.0f} MB (VmHWM {events['exit']['VmHWM']:,.0f}, ru_maxrss {maxrss:,.0f}): goal <= {GOAL_MB} MB "
          f"{'met' if peak <= GOAL_MB else 'NOT met'}")


if __name__ == "__main__":
    main()
