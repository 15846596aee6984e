"""The tempo task in the mel domain: the paper's self-supervised signal, measured on the MIDI corpus.

Each corpus piece's tau = 1 render is turned into versions at other tempi by stretching its log-mel
spectrogram in time (cubic spline, ``engine/training/mel_stretch.py``) instead of re-rendering the MIDI. A query
(a held-out tau = 1 render, translated to tau) must retrieve the exact (piece, tau) among ALL
stretched versions of ALL held-out pieces (``engine/training/evaluate.py``'s task, other soundfonts of the same
piece count as hits). A stretched version's tempo block is the source's block shifted exactly: a
stretched spectrogram has no audio to compute one from.

Rows: no translation, the block shift alone, one direction and an MLP trained on the mel signal of
the train split (here, in a few minutes), the shipped MLP (trained on real re-renders) and the
shipped MLP fine-tuned on the mel signal as ``sbf train translator`` does. The same translators are
then measured on the real re-renders; then how close a stretched spectrogram's embedding comes to a
real re-render's, and what each way of producing a version at another tempo costs::

    .venv/bin/python scripts/eval_mel_domain.py [--epochs 100] [--train-versions 2]

Embeddings are cached under data/measure/.
"""

from __future__ import annotations

import argparse
import concurrent.futures as cf
import dataclasses
import hashlib
import multiprocessing
import time

import numpy as np
import torch

from engine.config import FINE_TUNE
from engine.training.corpus import CACHE_DIR, Render, analyse_renders, load_manifest
from engine.models.track_space import TrackSpace
from engine.training.evaluate import tempo_retrieval
from engine.models.torch_translator import MusicnnTranslator
from engine.models.translation import DEFAULT_PATH, Translator, TranslatorConfig, shift_tempo_block
from engine.training.translator import fit, train_epochs

TAUS = (0.5, 0.7, 0.85, 1.0, 1.2, 1.4, 2.0)
GOAL_TAUS = (0.7, 0.85, 1.0, 1.2, 1.4)


@dataclasses.dataclass(frozen=True)
class MelVersions:
    """Stretched versions of tau = 1 renders.

    renders : one per version, ``tau`` the stretch (1.0: the source itself); source : (N,) index of
    each version's source in ``sources``; means : (N, 753) track-mean embeddings; blocks : (S, n_bins)
    the sources' tempo blocks.
    """

    sources: list[Render]
    renders: list[Render]
    source: np.ndarray
    means: np.ndarray
    blocks: np.ndarray

    def vectors(self, space: TrackSpace) -> np.ndarray:
        taus = np.array([r.tau for r in self.renders])
        blocks = shift_tempo_block(self.blocks[self.source], taus)
        return np.concatenate([space.musicnn_part(self.means[:, None, :]), space.block_part(blocks)], axis=1)


def _init() -> None:
    torch.set_num_threads(1)  # one process per core
    global _EMB
    from engine.analysis.embedding import MusicnnEmbedder

    _EMB = MusicnnEmbedder()


def _embed(job: tuple[str, tuple[float, ...]]) -> tuple[np.ndarray, np.ndarray]:
    from engine.audio.decode import load_mono
    from engine.analysis.mel import log_mel
    from engine.analysis.tempo_block import compute_tempo_block
    from engine.training.mel_stretch import stretched_example

    path, taus = job
    audio = load_mono(path, sr=_EMB.sample_rate)
    mel = log_mel(audio.samples)
    means = np.stack([stretched_example(mel, t, _EMB).mean(axis=0) for t in taus])
    return means, compute_tempo_block(audio.samples, audio.sample_rate)


def stretch_corpus(sources: list[Render], taus_of: list[tuple[float, ...]]) -> MelVersions:
    """Embed every source at each of its taus (both cores), cached by the exact jobs."""
    jobs = [(r.path, tuple(round(t, 3) for t in taus)) for r, taus in zip(sources, taus_of)]
    digest = hashlib.blake2b(repr(jobs).encode(), digest_size=8).hexdigest()
    cache = CACHE_DIR / f"mel_stretch_{digest}.npz"
    if cache.exists():
        data = np.load(cache)
        means, blocks = data["means"], data["blocks"]
    else:
        ctx = multiprocessing.get_context("spawn")
        with cf.ProcessPoolExecutor(2, mp_context=ctx, initializer=_init) as pool:
            results = list(pool.map(_embed, jobs, chunksize=2))
        means, blocks = np.concatenate([m for m, _ in results]), np.stack([b for _, b in results])
        cache.parent.mkdir(parents=True, exist_ok=True)
        np.savez(cache, means=means, blocks=blocks)
    renders = [dataclasses.replace(sources[i], tau=t) for i, (_, taus) in enumerate(jobs) for t in taus]
    source = np.repeat(np.arange(len(jobs)), [len(t) for _, t in jobs])
    return MelVersions(sources, renders, source, means, blocks)


def row(name: str, rates: dict[float, float]) -> str:
    goal = np.mean([rates[t] for t in GOAL_TAUS])
    return f"| {name} | " + " | ".join(f"{rates[t]:.2f}" for t in TAUS) + f" | {np.mean(list(rates.values())):.3f} | {goal:.3f} |"


def header(first: str) -> str:
    return (f"| {first} | " + " | ".join(f"tau {t}" for t in TAUS) + " | mean | mean over 0.7-1.4 |\n"
            + "|---" * (len(TAUS) + 3) + "|")


def mean_cosine(a: np.ndarray, b: np.ndarray) -> float:
    """Mean cosine of row pairs of (N, K) arrays."""
    return float(np.mean(np.sum(a * b, axis=1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))))


def fine_tuned(base: Translator, mel: MelVersions, space: TrackSpace) -> Translator:
    """``base`` trained further on (source as is -> its stretched versions) pairs, with the settings of
    ``sbf train translator`` (engine/training/finetune.py)."""
    z, _ = space.split(mel.vectors(space))
    stretched = np.array([r.tau != 1.0 for r in mel.renders])
    src_row = {s: i for i, (s, r) in enumerate(zip(mel.source, mel.renders)) if r.tau == 1.0}
    z_from = z[[src_row[s] for s in mel.source[stretched]]]
    taus = np.array([r.tau for r in mel.renders], np.float32)[stretched]
    net = MusicnnTranslator.from_state(space.musicnn_dim, base.cfg.kind, base.cfg.hidden, base.net.state_dict())
    for _ in train_epochs(net, z_from, z[stretched], taus, FINE_TUNE.epochs, FINE_TUNE.lr, FINE_TUNE.weight_decay,
                          FINE_TUNE.seed, FINE_TUNE.batch):
        pass
    return Translator(space, net, base.cfg)


def per_excerpt_cost(mel_source: Render, translator: Translator, vector: np.ndarray) -> tuple[float, float]:
    """(ms to stretch a 20 s excerpt's log-mel and re-embed it, mean over TAUS; us per vector for f, batch 1024),
    in the calling thread setting."""
    from engine.audio.decode import load_mono
    from engine.analysis.embedding import MusicnnEmbedder
    from engine.analysis.mel import log_mel
    from engine.training.mel_stretch import stretched_example

    emb = MusicnnEmbedder()
    mel = log_mel(load_mono(mel_source.path).samples)
    stretched_example(mel, 1.2, emb)  # warm-up
    started = time.perf_counter()
    for tau in TAUS:
        stretched_example(mel, tau, emb)
    stretch_ms = (time.perf_counter() - started) / len(TAUS) * 1000
    batch = np.repeat(vector[None, :], 1024, axis=0)
    translator(batch, 1.3)
    started = time.perf_counter()
    for _ in range(10):
        translator(batch, 1.3)
    f_us = (time.perf_counter() - started) / (10 * len(batch)) * 1e6
    return stretch_ms, f_us


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=100, help="epochs for the translators trained on the mel signal")
    parser.add_argument("--train-versions", type=int, default=2, help="random stretches per training source")
    args = parser.parse_args()
    # One thread: on a shared machine two threads' barrier spin-waits made the MLP's training 30x slower.
    torch.set_num_threads(1)
    started = time.perf_counter()
    space = TrackSpace.load()
    renders = load_manifest()
    held_sources = [r for r in renders if r.split == "heldout" and r.tau == 1.0]
    train_sources = [r for r in renders if r.split == "train" and r.tau == 1.0]
    rng = np.random.default_rng(0)
    train_taus = [(1.0, *np.exp2(rng.uniform(-1, 1, args.train_versions))) for _ in train_sources]
    held = stretch_corpus(held_sources, [TAUS] * len(held_sources))
    train = stretch_corpus(train_sources, train_taus)
    print(f"held out: {len(held_sources)} tau = 1 renders ({len({r.piece_id for r in held_sources})} pieces), each "
          f"mel-stretched to {TAUS}; train: {len(train_sources)} renders, each with {args.train_versions} stretches "
          f"at log-uniform random tau in [0.5, 2]. Embedded in {time.perf_counter() - started:.0f} s.")
    print("Tempo block of every stretched version: the source's block shifted exactly (no audio to compute it from).")

    z_train, _ = space.split(train.vectors(space))
    groups, taus_train = train.source, np.array([r.tau for r in train.renders], np.float32)
    translators: dict[str, Translator] = {"block shift only": Translator.untrained(space, TranslatorConfig("identity"))}
    for kind, label in (("direction", "block shift + one direction (mel-trained)"), ("mlp", "block shift + MLP (mel-trained)")):
        t0 = time.perf_counter()
        translators[label] = fit(space, z_train, groups, taus_train, TranslatorConfig(kind), epochs=args.epochs)
        print(f"{label}: trained in {time.perf_counter() - t0:.0f} s")
    if DEFAULT_PATH.exists():
        shipped = Translator.load(space, DEFAULT_PATH)
        translators[f"shipped {shipped.cfg.kind} (real re-renders)"] = shipped
        translators["shipped, fine-tuned on the mel signal (sbf train translator settings)"] = fine_tuned(shipped, train, space)
    else:
        print(f"({DEFAULT_PATH} not found: no shipped-translator rows)")

    vh = held.vectors(space)
    print("\n### Mel domain: top-1 of the exact (piece, tau) among all stretched versions of the held-out pieces\n")
    print(header("translation"))
    print(row("none (query as is)", tempo_retrieval(held.renders, vh, lambda v, t: v, TAUS)))
    for label, translator in translators.items():
        print(row(label, tempo_retrieval(held.renders, vh, translator, TAUS)))

    real = analyse_renders([r for r in renders if r.split == "heldout"])
    vr = space.vector(real.means[:, None, :], real.blocks)
    print("\n### The same translators on real re-renders (the main task: all versions of the held-out pieces)\n")
    print(header("translation"))
    print(row("none (query as is)", tempo_retrieval(real.renders, vr, lambda v, t: v, TAUS)))
    for label, translator in translators.items():
        print(row(label, tempo_retrieval(real.renders, vr, translator, TAUS)))

    # How faithful is the signal: the stretched embedding against the real re-render of the same
    # piece and soundfont at the same tau, next to how far the real render moved from tau = 1.
    real_at = {(r.piece_id, r.soundfont, r.tau): i for i, r in enumerate(real.renders)}
    zr, _ = space.split(vr)
    zm, _ = space.split(vh)
    print("\n### Fidelity: cosine of MusiCNN parts, mean over held-out renders\n")
    print("| cosine | " + " | ".join(f"tau {t}" for t in TAUS) + " |\n" + "|---" * (len(TAUS) + 1) + "|")
    cells_real, cells_stretch = [], []
    for tau in TAUS:
        rows = [i for i, r in enumerate(held.renders) if r.tau == tau]
        truth = [real_at[(held.renders[i].piece_id, held.renders[i].soundfont, tau)] for i in rows]
        origin = [real_at[(held.renders[i].piece_id, held.renders[i].soundfont, 1.0)] for i in rows]
        cells_stretch.append(mean_cosine(zm[rows], zr[truth]))
        cells_real.append(mean_cosine(zr[origin], zr[truth]))
    print("| real render at tau vs. real render at 1 (how far tempo moves it) | "
          + " | ".join(f"{c:.3f}" for c in cells_real) + " |")
    print("| mel-stretched to tau vs. real render at tau | " + " | ".join(f"{c:.3f}" for c in cells_stretch) + " |")

    stretch_ms, f_us = per_excerpt_cost(held_sources[0], translators["block shift + MLP (mel-trained)"], vh[0])
    print(f"\nCost per example (1 thread): mel-stretch + re-embed a 20 s excerpt {stretch_ms:.0f} ms (mean over "
          f"the taus above); f on a track vector {f_us:.1f} us (MLP, batch of 1024), {stretch_ms * 1000 / f_us:.0f}x less.")
    print(f"Total {time.perf_counter() - started:.0f} s.")


if __name__ == "__main__":
    main()
