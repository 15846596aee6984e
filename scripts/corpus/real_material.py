"""What the three kinds of real material (``data/real``) share: their split, ids, cut fades and level.

The split is by families of pieces, not files: pieces that share samples would otherwise leak a
held-out piece's sound into training.
"""

from __future__ import annotations

import re

import numpy as np

from scripts.corpus.output import SAMPLE_RATE, split_of

HELDOUT_PERCENT = 30  # pieces whose sha1(split group) mod 100 is below this are held out
FADE_IN_SECONDS = 0.005  # notes sounding at the cut start would click
FADE_OUT_SECONDS = 0.01  # the same fade at the cut end for every version
PEAK_TARGET = 0.98  # a shared per-piece gain keeps the versions' relative level

# Pieces that share samples and patterns split together: several subsongs of different Tecnoballz
# "area" modules correlate 0.25-0.48 sample by sample at tau = 1; all other pairs stay below 0.15.
SPLIT_GROUPS = ((re.compile(r"^tecnoballz-area\d"), "tecnoballz-area"),)


def split_group(piece_id: str) -> str:
    """The unit of the split: the piece, or the family of pieces that share material with it."""
    for pattern, group in SPLIT_GROUPS:
        if pattern.match(piece_id):
            return group
    return piece_id


def real_split(piece_id: str) -> str:
    """Whole families go to one side, so no version of a held-out piece is seen in training."""
    return split_of(split_group(piece_id), HELDOUT_PERCENT)


def slug(text: str) -> str:
    """A file-name-safe lower-case id part."""
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")


def fade(signal: np.ndarray) -> np.ndarray:
    """Short linear fades at both cut ends: the cut start may fall inside a sounding note."""
    out = signal.copy()
    n_in, n_out = int(FADE_IN_SECONDS * SAMPLE_RATE), int(FADE_OUT_SECONDS * SAMPLE_RATE)
    out[:n_in] *= np.linspace(0.0, 1.0, n_in, endpoint=False)
    out[len(out) - n_out:] *= np.linspace(1.0, 0.0, n_out)
    return out
