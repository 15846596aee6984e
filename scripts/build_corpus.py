"""Build a corpus of the SAME music at truly different tempi, rendered from MIDI.

Why MIDI: a phase-vocoder stretch leaves artefacts that move an embedding about as much as a 15 %
tempo change, so it cannot teach or test a tempo translation. A MIDI file can be played at any
tempo with the notes untouched: playing at tau times the tempo (tau = T'/T) divides every
``set_tempo`` value (microseconds per quarter note), hence every event time, by tau.

Sources (Debian packages, all offline; see ``docs/corpus.md``): the OpenTTD OpenMSX music set,
the Planet Blupi music and grooves of the MMA accompaniment library, each rendered with FluidSynth
through two of three General MIDI soundfonts::

    apt-get install -y fluidsynth fluid-soundfont-gm timgm6mb-soundfont \\
        musescore-general-soundfont-small openttd-openmsx planetblupi-music-midi mma
    .venv/bin/python scripts/build_corpus.py            # full build, resumable
    .venv/bin/python scripts/build_corpus.py --limit 4  # quick look

For every piece one excerpt of fixed musical length is cut in ticks (``--excerpt-seconds`` at the
original tempo), so every tempo version holds exactly the same notes. The versions of a piece are
written back to back into ONE MIDI file (at one fixed tempo, event times divided by tau), each
behind a GM System On reset and separated by a silent gap, and rendered with one FluidSynth call
per soundfont: loading a soundfont costs up to 1.3 s, more than synthesising a version. A slice
equals a render of that version alone (waveform correlation 1.000 with chorus and reverb off;
with them on only the free-running chorus LFO phase differs). The render is sliced at the
versions' exactly known times, so each file lasts its excerpt's duration divided by tau; the
notes still sounding at the musical end are cut there, with the same short fade for every
version.

Rendering happens at ``--render-sr`` (32 kHz) and is resampled to 16 kHz: FluidSynth interpolates
without an anti-alias filter, and rendering directly at 16 kHz folds cymbal energy above 8 kHz back
into the 5-7 kHz band (+4 dB measured on OpenMSX "busy_schedule"). At 32 kHz the folded energy
lands above 10 kHz and the resampler removes it.

Output, under ``--out`` (default ``data/corpus``): ``audio/<piece_id>/<soundfont>_tau<tau>.flac``
(16 kHz mono), ``midi/mma/<piece_id>.mid`` (each MMA groove is generated ONCE: MMA randomises
timing on every run) and ``manifest.jsonl`` (one JSON object per audio file, rewritten at the end
of every run from what exists on disk).

The pieces, the excerpt and the rendering live in ``scripts/corpus/`` (see its ``__init__``); this
file is the command line.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:  # run as a file, Python puts scripts/ on the path, not the repository
    sys.path.insert(0, str(REPO))

from scripts.corpus.fluidsynth import SOUNDFONTS  # noqa: E402
from scripts.corpus.midi_pieces import Settings, build_piece  # noqa: E402
from scripts.corpus.midi_sources import Piece, game_music_pieces, mma_pieces  # noqa: E402
from scripts.corpus.output import EXCERPT_SECONDS, TAUS, stable_hash  # noqa: E402


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=REPO / "data" / "corpus", help="corpus folder")
    parser.add_argument("--work-dir", type=Path, default=Path("/tmp/corpus-work"), help="scratch folder")
    parser.add_argument("--taus", default=",".join(map(str, TAUS)), help="tempo ratios T'/T, comma-separated")
    parser.add_argument("--excerpt-seconds", type=float, default=EXCERPT_SECONDS,
                        help="excerpt length at the original tempo")
    parser.add_argument("--gap-seconds", type=float, default=2.0, help="silence between versions in a render")
    parser.add_argument("--mma-grooves", type=int, default=275, help="how many MMA grooves (one per style file first)")
    parser.add_argument("--limit", type=int, default=None, help="build only the first N pieces (mixed sources)")
    parser.add_argument("--fonts-per-piece", type=int, default=2, choices=range(1, len(SOUNDFONTS) + 1))
    parser.add_argument("--render-sr", type=int, default=32_000, help="FluidSynth rate (Hz), resampled to 16 kHz")
    parser.add_argument("--gain", type=float, default=0.6, help="FluidSynth master gain")
    parser.add_argument("--heldout-percent", type=int, default=20)
    parser.add_argument("--jobs", type=int, default=2, help="pieces rendered in parallel")
    return parser.parse_args(argv)


def build_pieces(pieces: list[Piece], settings: Settings, jobs: int, began: float) -> tuple[list[dict], int]:
    """Every piece's records, built in ``jobs`` processes, and how many pieces failed (one progress line each)."""
    records: list[dict] = []
    failed = 0
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        futures = {pool.submit(build_piece, piece, settings): piece for piece in pieces}
        for done, future in enumerate(as_completed(futures), 1):
            try:
                piece_records, line = future.result()
                records.extend(piece_records)
            except Exception as error:  # a broken MIDI file or groove skips that piece only
                failed += 1
                line = f"{futures[future].piece_id}: SKIPPED ({type(error).__name__}: {error})"
            print(f"[{done}/{len(pieces)} {time.perf_counter() - began:.0f} s] {line}", flush=True)
    return records, failed


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    taus = tuple(sorted({float(t) for t in args.taus.split(",")}))
    if any(t <= 0 for t in taus):
        sys.exit("--taus must be positive ratios, e.g. 0.5,1.0,2.0")
    missing = [str(f.path) for f in SOUNDFONTS if not f.path.exists()]
    if missing or shutil.which("fluidsynth") is None or shutil.which("mma") is None:
        sys.exit(f"Missing fluidsynth, mma or soundfonts {' '.join(missing)}; see docs/corpus.md for the apt-get line.")
    settings = Settings(args.out, args.work_dir, taus, args.excerpt_seconds, args.gap_seconds,
                        args.fonts_per_piece, args.render_sr, args.gain, args.heldout_percent)
    pieces = sorted(game_music_pieces() + mma_pieces(args.mma_grooves, args.out), key=lambda p: stable_hash(p.piece_id))
    pieces = pieces[: args.limit]
    print(f"{len(pieces)} pieces x {len(taus)} tempi x {args.fonts_per_piece} soundfonts -> {args.out}", flush=True)

    began = time.perf_counter()
    records, failed = build_pieces(pieces, settings, args.jobs, began)
    records.sort(key=lambda r: (r["piece_id"], r["soundfont"], r["tau"]))
    manifest = args.out / "manifest.jsonl"
    manifest.parent.mkdir(parents=True, exist_ok=True)
    manifest.write_text("".join(json.dumps(r) + "\n" for r in records))
    n_pieces = len({r["piece_id"] for r in records})
    heldout = len({r["piece_id"] for r in records if r["split"] == "heldout"})
    hours = sum(r["duration_s"] for r in records) / 3600
    print(f"{len(records)} files, {n_pieces} pieces ({heldout} held out), {hours:.1f} h of audio, "
          f"{failed} pieces skipped, {time.perf_counter() - began:.0f} s; manifest {manifest}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
