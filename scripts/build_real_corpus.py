"""Build development material of REAL produced music under ``data/real`` (see ``docs/corpus.md``).

Why: the MIDI tempo corpus (``scripts/build_corpus.py``) is General MIDI through three soundfonts;
a model tuned only on it may learn the soundfonts. Three kinds of material stand closer to real
productions:

1. ``--trackers``: tracker modules (MOD/XM/S3M/IT from Debian game-data packages) re-rendered by
   libopenmpt (openmpt123's library) with the tempo factor tau, which scales the tick length, so
   the same samples play at the same pitch, faster or slower: a true tempo change of produced
   (sample-based) music, with a known tempo read from what libopenmpt plays (speed and tempo per
   row). ``manifest.jsonl``.
2. ``--productions``: SuperTuxKart and Wesnoth soundtracks (mixed, mastered recordings), two 30 s
   excerpts per track, tempo unknown: distractors and level/spectrum statistics.
   ``distractors.jsonl`` (``bpm`` null, so NOT for ``engine.training.corpus.load_manifest``).
3. ``--mixed``: the MIDI corpus passed through a seeded per-piece effect chain (EQ, bus
   compression, reverb, Haas/mid-side width folded back to mono), the same chain for every version
   of a piece, so renders sound more produced while the tempo ratios stay exact.
   ``mixed/manifest.jsonl``.

Everything is resumable: a piece whose ``records.jsonl`` exists is not built again, and the
manifests are rewritten at the end of every run from those records::

    nice -n 10 .venv/bin/python scripts/build_real_corpus.py --trackers --productions
    nice -n 10 .venv/bin/python scripts/build_real_corpus.py --mixed   # after data/corpus exists

The three builders live in ``scripts/corpus/`` (``trackers``, ``productions``, ``mixed``); this file
is the command line.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

# librosa's numba functions are cached next to the installed package; on the dev machine that cache
# crashed `onset_detect`/`beat_track` with a segfault, a private cache directory does not.
os.environ.setdefault("NUMBA_CACHE_DIR", "/tmp/numba-cache-build-real")

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:  # run as a file, Python puts scripts/ on the path, not the repository
    sys.path.insert(0, str(REPO))

from scripts.corpus.mixed import build_mixed  # noqa: E402
from scripts.corpus.productions import build_productions  # noqa: E402
from scripts.corpus.trackers import build_trackers  # noqa: E402


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--trackers", action="store_true", help="tracker modules at 7 tempi -> manifest.jsonl")
    parser.add_argument("--productions", action="store_true", help="game soundtracks -> distractors.jsonl")
    parser.add_argument("--mixed", action="store_true", help="the MIDI corpus through effect chains")
    parser.add_argument("--out", type=Path, default=Path("data/real"))
    parser.add_argument("--corpus", type=Path, default=Path("data/corpus"), help="the MIDI corpus (--mixed)")
    parser.add_argument("--work-dir", type=Path, default=Path("/tmp/real-work"), help="package downloads")
    parser.add_argument("--jobs", type=int, default=1)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if not (args.trackers or args.productions or args.mixed):
        sys.exit("nothing to do: give --trackers, --productions and/or --mixed")
    out = args.out if args.out.is_absolute() else REPO / args.out
    corpus = args.corpus if args.corpus.is_absolute() else REPO / args.corpus
    if args.trackers:
        build_trackers(out, args.jobs)
    if args.productions:
        build_productions(out, args.work_dir)
    if args.mixed:
        build_mixed(corpus, out, args.jobs)
    return 0


if __name__ == "__main__":
    sys.exit(main())
