"""The track vector: the standardised MusiCNN mean pool, normalised, joined with a weighted tempo block.

Why two parts: MusiCNN's embedding moves smoothly with tempo but almost symmetrically in log tau, so
on its own a translated query cannot tell 0.8x from 1.25x. The tempo block (onset autocorrelation on
a log-BPM grid) moves by an exact shift, which pins the tempo down. docs/track-vector.md records the
measurements behind the standardisation and the block weight.

Why standardise: only about 200 of MusiCNN's 753 pooled channels vary across music at all (the rest
are dead ReLUs or constants); unscaled, a few loud channels would dominate the cosine distance.

Why normalise the MusiCNN part on its own: standardised on MIDI renders, produced music lands about
twice as far from the mean (norm 31 where renders give 14.6), so with one fixed scale the tempo block
carried half its intended weight on real recordings. Scaled to unit length per file, the MusiCNN
part weighs the same on any material, and ``block_weight`` is the tempo block's share, stated once.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from safetensors import safe_open
from safetensors.numpy import load_file, save_file

from engine.config import RESOURCES

DEFAULT_PATH = RESOURCES / "track_space.safetensors"
MIN_STD = 1e-4  # channels that vary less than this across the fitting corpus are dropped


@dataclass(frozen=True, eq=False)
class TrackSpace:
    """How per-patch embeddings and a tempo block become one searchable vector.

    mean, std : (D,) corpus statistics of track-mean embeddings, D = the embedder's dimension
    keep : (K,) indices of the channels that vary
    block_norm : median L2 norm of the corpus's tempo blocks
    block_weight : norm of a typical tempo block relative to the MusiCNN part's (1 = equal)
    embedder : "id/version" of the embedder the statistics were fitted for
    calibration : what the statistics and the weight were fitted on, and how (part of the identity)
    """

    mean: np.ndarray
    std: np.ndarray
    keep: np.ndarray
    block_norm: float
    block_weight: float
    embedder: str
    block_bins: int
    calibration: str = ""

    LAYOUT = 2  # 1: one fixed scale for the MusiCNN part; 2: each part normalised on its own

    @property
    def musicnn_dim(self) -> int:
        return len(self.keep)

    @property
    def dimension(self) -> int:
        return self.musicnn_dim + self.block_bins

    @property
    def fingerprint(self) -> str:
        """Changes whenever the vectors this space produces would change (for caches)."""
        h = hashlib.blake2b(digest_size=8)
        for part in (self.mean, self.std, self.keep):
            h.update(np.ascontiguousarray(part).tobytes())
        h.update(f"{self.block_norm}|{self.block_weight}|{self.embedder}|{self.block_bins}|{self.calibration}|"
                 f"{self.LAYOUT}".encode())
        return h.hexdigest()

    @property
    def identity(self) -> str:
        """Which calibration a library's vectors come from, for people: embedder, weight, material, hash."""
        return f"{self.embedder} track space v{self.LAYOUT} (block weight {self.block_weight:g}; " \
               f"{self.calibration or 'uncalibrated'}; {self.fingerprint})"

    def musicnn_part(self, patches: np.ndarray) -> np.ndarray:
        """Standardised track mean of per-patch embeddings at unit length: (n, D) -> (K,), or (B, n, D) -> (B, K)."""
        track = patches.mean(axis=-2)
        z = ((track - self.mean) / self.std)[..., self.keep]
        return (z / np.maximum(np.linalg.norm(z, axis=-1, keepdims=True), 1e-6)).astype(np.float32)

    def block_part(self, block: np.ndarray) -> np.ndarray:
        """The tempo block scaled so a typical one has ``block_weight`` times the MusiCNN part's (unit) norm.

        Not normalised per file: a block's size says how periodic the file is (drum loops ~0.7,
        pads and noise ~0.1), and a weakly periodic file should not get a strong, random tempo vote.
        """
        return (block * (self.block_weight / self.block_norm)).astype(np.float32)

    def vector(self, patches: np.ndarray, block: np.ndarray) -> np.ndarray:
        """Track vector (K + n_bins,) from per-patch embeddings (n, D) and a tempo block (n_bins,)."""
        return np.concatenate([self.musicnn_part(patches), self.block_part(block)], axis=-1)

    def split(self, vectors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(..., K + n_bins) -> the MusiCNN part (..., K) and the scaled block part (..., n_bins)."""
        return vectors[..., : self.musicnn_dim], vectors[..., self.musicnn_dim :]

    def save(self, path: Path = DEFAULT_PATH) -> None:
        about = {"block_norm": self.block_norm, "block_weight": self.block_weight, "embedder": self.embedder,
                 "block_bins": self.block_bins, "calibration": self.calibration, "layout": self.LAYOUT}
        tensors = {"mean": self.mean.astype(np.float32), "std": self.std.astype(np.float32), "keep": self.keep.astype(np.int64)}
        save_file(tensors, str(path), metadata={"about": json.dumps(about, sort_keys=True)})

    @classmethod
    def load(cls, path: Path = DEFAULT_PATH) -> TrackSpace:
        with safe_open(str(path), framework="numpy") as f:
            about = json.loads(f.metadata()["about"])
        if about.get("layout", 1) != cls.LAYOUT:
            raise ValueError(f"{path} holds a track space of layout {about.get('layout', 1)}, not {cls.LAYOUT}: "
                             "refit it with scripts/measure_track_vector.py --write")
        t = load_file(str(path))
        return cls(t["mean"], t["std"], t["keep"], float(about["block_norm"]), float(about["block_weight"]),
                   about["embedder"], int(about["block_bins"]), about.get("calibration", ""))

    @classmethod
    def fit(cls, track_means: np.ndarray, blocks: np.ndarray, embedder: str, block_weight: float = 1.0,
            calibration: str = "") -> TrackSpace:
        """Fit on the track-mean embeddings (N, D) and tempo blocks (N, n_bins) of a varied corpus."""
        mean = track_means.mean(axis=0)
        std = track_means.std(axis=0)
        keep = np.flatnonzero(std > MIN_STD)
        norms = np.linalg.norm(blocks, axis=1)
        block_norm = float(np.median(norms[norms > 0])) if (norms > 0).any() else 1.0
        return cls(mean.astype(np.float32), np.where(std > MIN_STD, std, 1.0).astype(np.float32), keep, block_norm,
                   block_weight, embedder, blocks.shape[1], calibration)

    def with_block_weight(self, block_weight: float) -> TrackSpace:
        return dataclasses.replace(self, block_weight=block_weight)
