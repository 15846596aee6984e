"""One source of truth for every constant of the analysis pipeline.

MusiCNN fixes the front end (16 kHz, 512-point FFT, hop 256, 96 mel bands, 187-frame patches); the
rest (patch hop, caps, tempo grid, block weight) are our choices, documented in
``docs/track-vector.md`` with the measurements behind them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class MelConfig:
    """Log-mel front end exactly as MusiCNN was trained on it."""

    sample_rate: int = 16_000  # Hz
    n_fft: int = 512
    hop_length: int = 256  # samples, 16 ms
    n_mels: int = 96
    patch_frames: int = 187  # 3 s patches (187 * 256 / 16000 = 2.99 s)

    @property
    def patch_seconds(self) -> float:
        return self.patch_frames * self.hop_length / self.sample_rate


@dataclass(frozen=True)
class PatchConfig:
    """How a file of any length becomes a bounded set of patches."""

    hop_frames: int = 187  # non-overlapping: each patch costs 2.8 GFLOP, overlap multiplies it
    max_patches: int = 40  # about 2 minutes of audio; longer files are sampled evenly


@dataclass(frozen=True)
class TempoBlockConfig:
    """Onset-autocorrelation tempo block on a log-BPM grid.

    A tempo change by ratio tau (T' = tau * T) is an exact shift of ``bins_per_octave * log2(tau)``
    grid steps, which is what makes the translation exact on this block.
    """

    bpm_min: float = 30.0
    bins_per_octave: int = 16
    n_bins: int = 70  # 30 * 2 ** (69 / 16) = 595 BPM at the top

    def bpm_grid(self) -> list[float]:
        return [self.bpm_min * 2.0 ** (i / self.bins_per_octave) for i in range(self.n_bins)]

    def shift_steps(self, tau: float) -> float:
        """Grid steps a tempo ratio tau moves the block by (positive: towards faster tempi)."""
        return self.bins_per_octave * math.log2(tau)


@dataclass(frozen=True)
class AudioLimits:
    """Bounds that keep a bad or huge file from stalling a scan."""

    max_seconds_decoded: float = 150.0  # long tracks are read in slices up to this much audio
    max_file_seconds: float = 4 * 3600.0  # beyond this we refuse: likely a recording left running
    min_seconds: float = 0.05  # shorter than this there is nothing to embed


MEL = MelConfig()
PATCHES = PatchConfig()
TEMPO_BLOCK = TempoBlockConfig()
LIMITS = AudioLimits()
