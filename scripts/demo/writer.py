"""Writing the library: each item as 16-bit FLAC at -1 dBFS peak, plus ``manifest.json`` and ``LICENSE``."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import numpy.typing as npt
import soundfile as sf

from scripts.demo.dsp import ONE_SHOT_FADE_S, SR, peak_normalised, with_fades
from scripts.demo.library import LIBRARY, Item

PEAK_DBFS = -1.0
LOOP_FADE_S = 0.002
LICENSE_TEXT = (
    "The audio files in this folder and manifest.json were generated entirely by synthesis with\n"
    "scripts/make_demo_library.py (numpy/scipy, fixed seeds, no recorded samples). They are part of\n"
    "Similar But Faster and released under the same MIT licence as the rest of the project: use,\n"
    "copy, modify and redistribute them freely, in music or software, with or without credit.\n"
)


def to_pcm16(item: Item) -> npt.NDArray[np.int16]:
    """The exact samples written for ``item``: peak -1 dBFS, faded, 16-bit."""
    x = item.render()
    if not np.all(np.isfinite(x)):
        raise ValueError(f"{item.file}: synthesis produced non-finite samples")
    if item.kind == "loop":
        x = x - x.mean()  # saturation leaves a little DC; a loop's own mean is exactly its DC
    x = with_fades(x, LOOP_FADE_S, LOOP_FADE_S if item.kind == "loop" else ONE_SHOT_FADE_S)
    return np.round(peak_normalised(x, 10 ** (PEAK_DBFS / 20)) * 32767).astype(np.int16)


def build(out_dir: Path) -> None:
    """Write every file of ``LIBRARY``, ``manifest.json`` and ``LICENSE`` into ``out_dir``.

    Stale ``.flac`` files are removed first so the folder is exactly what the manifest lists.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    names = [item.file for item in LIBRARY]
    if len(set(names)) != len(names):
        raise ValueError("two library items share a file name")
    for stale in out_dir.glob("*.flac"):
        stale.unlink()
    for item in LIBRARY:
        sf.write(out_dir / item.file, to_pcm16(item), SR, format="FLAC", subtype="PCM_16")
        print(f"  {item.file}")
    manifest = [item.manifest_entry() for item in LIBRARY]
    (out_dir / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")
    (out_dir / "LICENSE").write_text(LICENSE_TEXT)
