"""The embedding backend interface, and MusiCNN as its first implementation.

An :class:`Embedder` turns mono audio into one vector per patch. Every stored vector carries the
embedder's ``id`` and ``version``; a library analysed with another id or version is re-analysed,
so a user-supplied model can be added later without mixing incompatible vectors.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np

from engine.config import INFERENCE, MEL, PATCHES, MelConfig, PatchConfig
from engine.analysis.mel import log_mel
from engine.models.identity import MUSICNN
from engine.models.runtime import musicnn_network

POOL_DIM = 753  # MusiCNN's front- and mid-end channels (engine.models.torch_musicnn.POOL_DIM, which needs torch)


class Embedder(Protocol):
    """What the library needs from an embedding model."""

    id: str
    version: str
    dimension: int
    sample_rate: int  # Hz the audio passed to ``embed`` must be at

    def embed(self, audio: np.ndarray) -> np.ndarray:
        """Per-patch embeddings of mono float32 audio: float32 (n_patches, dimension), n_patches >= 1."""
        ...


def patch_starts(n_frames: int, cfg: PatchConfig = PATCHES, patch_frames: int = MEL.patch_frames) -> np.ndarray:
    """First frame of every patch: a regular hop, thinned evenly when a file has too many.

    Long files are represented by at most ``cfg.max_patches`` patches spread over their whole length,
    which bounds the cost of a 10-minute track without only looking at its intro.
    """
    starts = np.arange(0, n_frames - patch_frames + 1, cfg.hop_frames)
    if len(starts) > cfg.max_patches:
        starts = starts[np.linspace(0, len(starts) - 1, cfg.max_patches).round().astype(int)]
    return starts


def loop_pad(audio: np.ndarray, min_samples: int) -> np.ndarray:
    """Repeat a short file until it fills a patch.

    Short files are mostly loops and one-shots; repeating is what a loop does when played, and it
    keeps a one-shot's sound dominant instead of diluting it with silence.
    """
    if len(audio) == 0:
        raise ValueError("cannot embed empty audio")
    if len(audio) >= min_samples:
        return audio
    return np.tile(audio, -(-min_samples // len(audio)))[:min_samples]


class MusicnnEmbedder:
    """MusiCNN (MSD tags model): the 753-d temporal mean pool of each 3 s patch.

    The mean pool carries tempo better than the 200-d penultimate layer (measured on re-rendered
    MIDI, see docs/track-vector.md), and it is what the translation function is trained on. The
    network runs on ONNX Runtime or torch (``engine/models/runtime.py`` picks); both give the same vectors
    within float32 rounding, so they share one id and version.

    Parameters
    ----------
    threads : threads the network may use per call (a scan runs one process per core)
    """

    id = MUSICNN.name
    version = MUSICNN.version  # stored with every analysis: a library analysed with another one is redone
    dimension = POOL_DIM
    sample_rate = MEL.sample_rate

    def __init__(self, cfg: MelConfig = MEL, patches: PatchConfig = PATCHES, threads: int = INFERENCE.threads):
        self._cfg, self._patches = cfg, patches
        self._net = musicnn_network(threads)

    def __reduce__(self):
        # A scan worker process gets the embedder as its settings and loads its own network there
        # (a loaded network cannot be pickled), with the threads one process per core may use.
        return type(self), (self._cfg, self._patches, INFERENCE.threads)

    def embed(self, audio: np.ndarray) -> np.ndarray:
        cfg = self._cfg
        return self.embed_mel(log_mel(loop_pad(audio, cfg.patch_frames * cfg.hop_length), cfg))

    def embed_mel(self, log_mel_frames: np.ndarray) -> np.ndarray:
        """Per-patch embeddings of a log-mel spectrogram (n_frames >= 187, n_mels); (n_patches, 753).

        Exposed so a spectrogram stretched in time (the paper's self-supervised signal) can be
        embedded without a round trip through audio.
        """
        cfg = self._cfg
        mel = np.ascontiguousarray(log_mel_frames, dtype=np.float32)
        starts = patch_starts(len(mel), self._patches, cfg.patch_frames)
        out = np.empty((len(starts), self.dimension), dtype=np.float32)
        # One patch per call: measured faster than batching on this CPU (cache-resident activations).
        for i, s in enumerate(starts):
            out[i] = self._net(mel[None, s : s + cfg.patch_frames])[0]
        return out
