"""Keeping the window responsive while worker threads of the same Python process compute.

The GUI thread shares Python's GIL with the library, audio and render threads. Three things made
it wait for long (``benchmarks/bench_gui_stall.py`` found them):

- librosa compiles parts of itself with numba on first use, holding the GIL for up to half a second:
  the audio thread runs them once on a moment of silence as soon as the window has started
  (:func:`preload_audio_code`), not before it shows: on the first start after installing, the
  compilation takes 10 s or more, and the window must not wait for it;
- a full garbage collection walks everything loaded (the networks, Qt, numpy), about 100 ms on the
  GUI thread: what exists once the app has started lives as long as the app, so it is frozen out of
  later collections (``gc.freeze``);
- every Python call Qt makes from the GUI thread (a table cell to paint) waits for a busy worker to
  hand over the GIL, by default after 5 ms: the hand-over is made sooner.
"""

from __future__ import annotations

import gc
import sys

import librosa
import numpy as np

from engine.config import DESKTOP, MEL, DesktopConfig


def preload_audio_code() -> None:
    """Resample and stretch a moment of silence, as ``engine.audio.decode.load_mono`` and ``engine.audio.stretched`` do."""
    silence = np.zeros(4096, np.float32)
    librosa.resample(silence, orig_sr=44100, target_sr=MEL.sample_rate, res_type="soxr_hq")
    librosa.effects.time_stretch(silence, rate=1.25)


def prepare_process(cfg: DesktopConfig = DESKTOP) -> None:
    """Call on the GUI thread before the window shows (again is harmless)."""
    sys.setswitchinterval(cfg.gil_switch_seconds)
    gc.collect()
    gc.freeze()
