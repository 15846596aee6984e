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
    onset_hop_seconds: float = 0.008  # 128 samples at 16 kHz: 595 BPM's 101 ms lag spans 12.6 frames
    subdivisions: int = 16  # fine log-BPM samples per grid step, pooled so narrow peaks are never missed
    min_seconds: float = 1.0  # below this a file holds fewer than two beats at 120 BPM: no tempo evidence
    min_onset_db: float = 0.1  # onset-envelope std (dB) below which there are no onsets (steady tones)

    def bpm_grid(self) -> list[float]:
        return [self.bpm_min * 2.0 ** (i / self.bins_per_octave) for i in range(self.n_bins)]

    def shift_steps(self, tau: float) -> float:
        """Grid steps a tempo ratio tau moves the block by (positive: towards faster tempi)."""
        return self.bins_per_octave * math.log2(tau)


@dataclass(frozen=True)
class AudioLimits:
    """Bounds that keep a bad or huge file from stalling a scan."""

    max_seconds_decoded: float = 120.0  # long tracks are read in slices: 40 patches' worth
    max_file_seconds: float = 4 * 3600.0  # beyond this we refuse: likely a recording left running
    min_seconds: float = 0.05  # shorter than this there is nothing to embed
    excerpt_slice_seconds: float = 30.0  # long tracks are read as evenly spread slices of this length
    decode_block_samples: int = 1 << 18  # samples (frames x channels) per read: 1 MiB of float32 at a time
    hash_chunk_bytes: int = 1 << 20  # content hash reads this much at the start, middle and end


@dataclass(frozen=True)
class IndexConfig:
    """Nearest-neighbour index over track vectors: exact search for small libraries, HNSW for big ones.

    The figures behind the threshold and ``hnsw_ef_search`` come from ``benchmarks/bench_index.py``
    (d = 282, 500 isotropic Gaussian clusters: harder for HNSW than real embeddings; 2 cores).
    """

    exact_threshold: int = 5_000  # tracks: from here HNSW answered 1.5-2x faster in every run; exact never misses
    hnsw_m: int = 16  # graph links per node: hnswlib's default, good recall at d ~ 300
    hnsw_ef_construction: int = 100  # build beam width: 100k tracks build in 10-20 s on 2 cores
    hnsw_ef_search: int = 64  # query beam (raised to k if larger): recall@10 0.995 at 100k, 0.97 at ef 24
    hnsw_seed: int = 100  # seeds the random layer each node joins, so rebuilds are alike
    threads: int = 2  # build and batch-query threads: the app must leave the rest of the machine usable
    exact_block_floats: int = 1 << 22  # similarity-matrix block for batched exact queries (16 MB of float32)


MEL = MelConfig()
PATCHES = PatchConfig()
TEMPO_BLOCK = TempoBlockConfig()
LIMITS = AudioLimits()
INDEX = IndexConfig()
