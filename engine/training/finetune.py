"""Fine-tuning the tempo translation on a user's own library (``sbf train translator``).

The shipped translation was learned from MIDI re-rendered at other tempi: real tempo changes, but
General MIDI instruments. A user's library holds other sounds, so we continue training on them with
the paper's self-supervised signal (McCallum et al. 2024): each file's log-mel spectrogram stretched
in time (:mod:`engine.training.mel_stretch`). A pair is (the file as stored, the file stretched to a random tempo
ratio tau); f learns to move the first onto the second. The tempo block is not learned: its exact
shift is used for the stretched version as for any query.

A fifth of the files (chosen by a hash of their path, so always the same ones) is held out and
measured before and after: top-1 retrieval of the exact (file, tau) among all stretched versions of
the held-out files. Every run starts from the shipped translation, so repeated runs do not drift.

Like a scan, a run is a generator of progress events; stop iterating to cancel, and nothing is
written: the result is saved, atomically, only once everything else is done.

Training needs torch, which the packaged app leaves out: there, ``sbf train translator`` says how to
get the developer install (:func:`engine.models.runtime.require_training`) instead of importing this module.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from engine.audio.decode import AudioError, load_mono
from engine.config import FINE_TUNE, PATCHES, FineTuneConfig, PatchConfig
from engine.analysis.embedding import MusicnnEmbedder
from engine.analysis.mel import log_mel
from engine.errors import TrainingError
from engine.models.track_space import TrackSpace
from engine.training.evaluate import tempo_retrieval
from engine.library.facade import Library
from engine.training.mel_stretch import stretched_example
from engine.models.torch_translator import MusicnnTranslator
from engine.models.translation import Translator, TranslatorConfig, shift_tempo_block
from engine.training.translator import train_epochs


class NotEnoughFiles(TrainingError, ValueError):
    """The library is too small to learn anything from."""


@dataclass(frozen=True)
class FineTuneResult:
    """What a run did and how much it helped.

    before, after : held-out top-1 rate of the exact (file, tau) per target tau, for the starting
    translation (the shipped one) and the fine-tuned one.
    """

    path: str  # where the fine-tuned translation was written
    started_from: str  # "shipped" or "untrained" (no shipped translation found)
    train_files: int
    heldout_files: int
    pairs: int
    skipped_files: int  # could not be decoded any more (moved, changed or damaged since the scan)
    before: dict[float, float]
    after: dict[float, float]
    seconds: float


@dataclass(frozen=True)
class FineTuneProgress:
    """One step of a run.

    stage : "embedding" (done/total files), "training" (done/total epochs) or "saved" (the last event)
    loss : mean squared error per MusiCNN dimension of the last epoch, while training
    result : on the "saved" event only
    """

    stage: str
    done: int
    total: int
    loss: float | None = None
    result: FineTuneResult | None = None


@dataclass(frozen=True)
class _Version:
    """A held-out file (``piece_id`` = its path) at tempo ratio ``tau``, as :func:`tempo_retrieval` reads it."""

    piece_id: str
    tau: float


def split_heldout(paths: Sequence[str], share: float) -> tuple[list[str], list[str]]:
    """(training, held-out) paths: the ``share`` of paths with the smallest hash, at least one each side.

    By hash, so a file stays on its side across runs and as the library grows.
    """
    order = sorted(paths, key=lambda p: hashlib.blake2b(p.encode(), digest_size=8).digest())
    n_held = min(max(1, round(share * len(order))), len(order) - 1)
    return order[n_held:], order[:n_held]


def fine_tune(library: Library, cfg: FineTuneConfig = FINE_TUNE) -> Iterator[FineTuneProgress]:
    """Fine-tune the shipped translation on ``library`` and save it as the library's own.

    Writes ``library.translator_path`` (the shipped file is never touched), after the last
    "training" event and before the "saved" one.

    Raises
    ------
    NotEnoughFiles
        Fewer than ``cfg.min_files`` indexed files can still be read.
    """
    started = time.monotonic()
    space = library.space
    analyses = library.current_analyses()
    if len(analyses) < cfg.min_files:
        raise NotEnoughFiles(f"Fine-tuning needs at least {cfg.min_files} indexed sounds; this library has "
                             f"{len(analyses)}. Index a sample folder first (sbf index DIR).")
    base, started_from = _starting_translator(library)
    rng = np.random.default_rng(cfg.seed)
    train_paths, held_paths = split_heldout(list(analyses), cfg.heldout_share)
    train_paths = _sample(train_paths, cfg.max_files, rng)
    held_paths = _sample(held_paths, cfg.max_heldout_files, rng)
    embedder = MusicnnEmbedder(patches=PatchConfig(PATCHES.hop_frames, cfg.max_patches))
    held_taus = tuple(round(t, 3) for t in cfg.heldout_taus)
    log_range = np.log2([cfg.tau_min, cfg.tau_max])

    total = len(train_paths) + len(held_paths)
    z_from, z_to, pair_taus, skipped = [], [], [], 0
    versions: list[_Version] = []
    vectors: list[np.ndarray] = []
    for done, path in enumerate(train_paths + held_paths, 1):
        stored, held = analyses[path], done > len(train_paths)
        taus = held_taus if held else tuple(np.exp2(rng.uniform(*log_range, cfg.versions_per_file)))
        parts = _stretched_parts(path, taus, embedder, space)
        if parts is None:
            skipped += 1
        elif held:
            versions += [_Version(path, 1.0)] + [_Version(path, t) for t in taus]
            vectors += [space.vector(stored.patches, stored.tempo_block)[None, :],
                        _stretched_vectors(space, parts, stored.tempo_block, taus)]
        else:
            z_from.append(np.repeat(space.musicnn_part(stored.patches)[None, :], len(taus), axis=0))
            z_to.append(parts)
            pair_taus.extend(taus)
        yield FineTuneProgress("embedding", done, total)
    if not z_from or not versions:
        raise NotEnoughFiles("Too few of the library's sounds could still be read to fine-tune on: "
                             "rescan the library (sbf index DIR) and try again.")

    # trainable, whatever runtime ran base
    net = MusicnnTranslator.from_state(space.musicnn_dim, base.cfg.kind, base.cfg.hidden, base.net.state_dict())
    epochs = train_epochs(net, np.concatenate(z_from), np.concatenate(z_to), np.array(pair_taus, np.float32),
                          cfg.epochs, cfg.lr, cfg.weight_decay, cfg.seed, cfg.batch)
    for epoch, loss in enumerate(epochs, 1):
        yield FineTuneProgress("training", epoch, cfg.epochs, loss)
    tuned = Translator(space, net, base.cfg)

    held_vectors = np.concatenate(vectors)
    before = tempo_retrieval(versions, held_vectors, base, held_taus)
    after = tempo_retrieval(versions, held_vectors, tuned, held_taus)
    n_held = len(versions) // (len(held_taus) + 1)
    about = {"fine_tuned": {"started_from": started_from, "train_files": len(z_from), "heldout_files": n_held,
                            "pairs": len(pair_taus), "epochs": cfg.epochs, "lr": cfg.lr,
                            "heldout_top1_before": {str(t): round(v, 3) for t, v in before.items()},
                            "heldout_top1_after": {str(t): round(v, 3) for t, v in after.items()}},
             "base": base.about}
    tuned.save(library.translator_path, about)
    result = FineTuneResult(str(library.translator_path), started_from, len(z_from), n_held, len(pair_taus), skipped,
                            before, after, time.monotonic() - started)
    yield FineTuneProgress("saved", 1, 1, result=result)


def _sample(paths: list[str], cap: int, rng: np.random.Generator) -> list[str]:
    if len(paths) <= cap:
        return paths
    return [paths[i] for i in np.sort(rng.choice(len(paths), cap, replace=False))]


def _stretched_parts(path: str, taus: Sequence[float], embedder: MusicnnEmbedder,
                     space: TrackSpace) -> np.ndarray | None:
    """MusiCNN parts (len(taus), K) of the file's log-mel stretched to each tau; None if it cannot be decoded."""
    try:
        audio = load_mono(path, sr=embedder.sample_rate).samples
    except AudioError:
        return None
    mel = log_mel(audio)
    return np.stack([space.musicnn_part(stretched_example(mel, tau, embedder)) for tau in taus])


def _stretched_vectors(space: TrackSpace, parts: np.ndarray, block: np.ndarray, taus: Sequence[float]) -> np.ndarray:
    """Track vectors (len(taus), D) of stretched versions: their MusiCNN parts and the file's block shifted exactly.

    A stretched spectrogram has no audio to compute a tempo block from; the shift is what the block of
    the same music at that tempo is, by construction of the log-BPM grid.
    """
    blocks = shift_tempo_block(block, np.asarray(taus))
    return np.concatenate([parts, space.block_part(blocks)], axis=1)


def _starting_translator(library: Library) -> tuple[Translator, str]:
    """The shipped translation, or an untrained MLP (identity on the MusiCNN part) when none is shipped
    or the shipped one has nothing to train."""
    try:
        shipped = Translator.load(library.space, library.shipped_translator)
    except FileNotFoundError:
        return Translator.untrained(library.space, TranslatorConfig("mlp")), "untrained"
    if shipped.cfg.kind == "identity":
        return Translator.untrained(library.space, TranslatorConfig("mlp")), "untrained"
    return shipped, "shipped"
