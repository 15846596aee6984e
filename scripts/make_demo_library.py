"""Build the demo sample library in ``resources/demo/`` by synthesis, bit for bit.

Run from the repository root::

    .venv/bin/python scripts/make_demo_library.py             # rebuilds resources/demo/
    .venv/bin/python scripts/make_demo_library.py --out DIR   # builds elsewhere, e.g. to compare hashes

Every sound is synthesised here with numpy/scipy from fixed seeds (no recorded samples), so the
library is ours to ship under the project's MIT licence and two runs write identical files. It holds
drum loops in nine styles, bass, chord/pad/arp and full-mix loops, each a whole number of 4/4 bars
between 70 and 175 BPM, several of them as the SAME pattern at two or three tempi (what the app's
"same sound at another tempo" search is demonstrated on), plus tempo-less one-shots. Files are FLAC,
22 050 Hz mono 16-bit, peak -1 dBFS, labelled in ``manifest.json`` for evaluations.

Loops are rendered with room for tails (releases, reverb, echoes) and the tails are folded back onto
the start, as a looping sampler would play them, so each loop repeats seamlessly; 2 ms fades keep
the first and last samples at zero so a one-time preview does not click either.

The synthesis lives in ``scripts/demo/`` (see its ``__init__``); this file is the command line.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a file, Python puts scripts/ on the path, not the repository
    sys.path.insert(0, str(ROOT))

from scripts.demo.library import LIBRARY  # noqa: E402
from scripts.demo.writer import build, to_pcm16  # noqa: E402

OUT_DIR = ROOT / "resources" / "demo"
__all__ = ["LIBRARY", "build", "main", "to_pcm16"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT_DIR, help=f"output folder (default {OUT_DIR})")
    build(parser.parse_args().out)


if __name__ == "__main__":
    main()
