"""What both corpus builders share: the sample rate and tempo ratios, reproducible hashes and
splits, and FLAC files that a killed run never leaves half-written.

Both corpora must line up (``build_real_corpus.py --mixed`` re-renders the MIDI corpus, and the
tracker versions sit beside its pieces in one evaluation), so these are stated once.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import soundfile as sf

SAMPLE_RATE = 16_000  # Hz, the MusiCNN front end's rate
TAUS = (0.5, 0.7, 0.85, 1.0, 1.2, 1.4, 2.0)  # tempo ratios T'/T every piece is rendered at
EXCERPT_SECONDS = 20.0  # an excerpt's musical length at the original tempo


def stable_hash(text: str) -> int:
    """A hash that is the same on every run, process and machine (``hash()`` is salted per process)."""
    return int(hashlib.sha1(text.encode()).hexdigest()[:12], 16)


def split_of(group: str, heldout_percent: int) -> str:
    """Whole pieces (or families of pieces) go to one side, so no version of a held-out piece is trained on."""
    return "heldout" if stable_hash(group) % 100 < heldout_percent else "train"


def write_flac(path: Path, signal: np.ndarray) -> None:
    """16-bit mono FLAC, written to a temporary name first so a killed run leaves no partial file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.stem + ".part.flac")
    sf.write(tmp, np.clip(signal, -1.0, 1.0), SAMPLE_RATE, subtype="PCM_16", format="FLAC")
    tmp.replace(path)
