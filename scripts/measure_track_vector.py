"""Fit the track space on the corpus's training pieces and measure the block weight and patch hop.

Needs the MIDI corpus (``scripts/build_corpus.py``). Writes ``resources/track_space.safetensors``
(statistics from the training split's tau = 1 renders, block weight chosen here) and prints the
tables recorded in ``docs/track-vector.md``::

    .venv/bin/python scripts/measure_track_vector.py [--corpus data/corpus] [--hops 187 93]

The retrieval task: every held-out piece is rendered at several tempi (same notes, real tempo
change) with two soundfonts. A query is the tau = 1 render; it is translated to each tau (tempo
block shifted exactly, MusiCNN part left as is: the learned translation is a later step) and must
find the exact (piece, tau) among ALL versions of ALL held-out pieces, the query file excluded.
"""

from __future__ import annotations

import argparse
import concurrent.futures as cf
import json
import multiprocessing
from pathlib import Path

import numpy as np

from engine.config import PATCHES, PatchConfig
from engine.embed.track_vector import DEFAULT_PATH, TrackSpace

WEIGHTS = (0.0, 0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0)


def _init(hop: int) -> None:
    import torch

    from engine.embed.embedder import MusicnnEmbedder

    torch.set_num_threads(1)
    global _EMB
    _EMB = MusicnnEmbedder(patches=PatchConfig(hop_frames=hop, max_patches=PATCHES.max_patches))


def _analyse(path: str) -> tuple[np.ndarray, np.ndarray]:
    from engine.analysis import analyse_file

    a = analyse_file(path, _EMB)
    return a.patches.mean(axis=0), a.tempo_block


def analyse_all(paths: list[str], hop: int, cache: Path) -> tuple[np.ndarray, np.ndarray]:
    """Track means (N, 753) and tempo blocks (N, n_bins), cached per hop."""
    if cache.exists():
        data = np.load(cache)
        if list(data["paths"]) == paths:
            return data["means"], data["blocks"]
    ctx = multiprocessing.get_context("spawn")
    with cf.ProcessPoolExecutor(2, mp_context=ctx, initializer=_init, initargs=(hop,)) as pool:
        results = list(pool.map(_analyse, paths, chunksize=4))
    means, blocks = np.stack([r[0] for r in results]), np.stack([r[1] for r in results])
    cache.parent.mkdir(parents=True, exist_ok=True)
    np.savez(cache, paths=np.array(paths), means=means, blocks=blocks)
    return means, blocks


def retrieval_table(rows: list[dict], means: np.ndarray, blocks: np.ndarray, space: TrackSpace, taus: list[float]):
    """Top-1 rate of the exact (piece, tau) per target tau, with the block shifted and not."""
    from engine.embed.tempo_block import shift_tempo_block

    vecs = space.vector(means[:, None, :], blocks)
    unit = vecs / np.linalg.norm(vecs, axis=1, keepdims=True)
    key = [(r["piece_id"], round(r["tau"], 3)) for r in rows]
    queries = [i for i, r in enumerate(rows) if abs(r["tau"] - 1) < 1e-6]
    hits = {mode: {t: [] for t in taus} for mode in ("shift", "identity")}
    for q in queries:
        for tau in taus:
            for mode in hits:
                block = shift_tempo_block(blocks[q], tau) if mode == "shift" else blocks[q]
                v = space.vector(means[q][None, :], block)
                sims = unit @ (v / np.linalg.norm(v))
                sims[q] = -np.inf
                hits[mode][tau].append(key[int(np.argmax(sims))] == (rows[q]["piece_id"], round(tau, 3)))
    return {mode: {t: float(np.mean(h)) for t, h in per.items()} for mode, per in hits.items()}


def same_piece_recall(rows: list[dict], means: np.ndarray, blocks: np.ndarray, space: TrackSpace) -> float:
    """Plain similarity, no translation: recall@10 of the other versions (tempi, soundfonts) of the same
    piece. A block weight that is too high trades this (sounding alike) for tempo agreement."""
    vecs = space.vector(means[:, None, :], blocks)
    unit = vecs / np.linalg.norm(vecs, axis=1, keepdims=True)
    sims = unit @ unit.T
    np.fill_diagonal(sims, -np.inf)
    pieces = np.array([r["piece_id"] for r in rows])
    top = np.argsort(-sims, axis=1)[:, :10]
    same = pieces[top] == pieces[:, None]
    n_same = np.array([(pieces == p).sum() - 1 for p in pieces])
    return float(np.mean(same.sum(axis=1) / np.minimum(10, n_same)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=Path("data/corpus"))
    parser.add_argument("--hops", type=int, nargs="+", default=[PATCHES.hop_frames])
    parser.add_argument("--write", action="store_true", help="write the fitted space to resources/")
    parser.add_argument("--weight", type=float, default=None, help="block weight to ship (default: best measured)")
    args = parser.parse_args()
    manifest = [json.loads(line) for line in (args.corpus / "manifest.jsonl").read_text().splitlines()]
    for r in manifest:
        r["abspath"] = str(args.corpus / r["path"]) if not Path(r["path"]).is_absolute() else r["path"]
    train = [r for r in manifest if r["split"] == "train" and abs(r["tau"] - 1) < 1e-6]
    heldout = sorted((r for r in manifest if r["split"] == "heldout"), key=lambda r: r["abspath"])
    taus = sorted({round(r["tau"], 3) for r in heldout})
    print(f"corpus: {len(train)} training renders at tau=1, {len(heldout)} held-out renders "
          f"({len({r['piece_id'] for r in heldout})} pieces), taus {taus}")

    train_means, train_blocks = analyse_all([r["abspath"] for r in train], PATCHES.hop_frames,
                                            Path("data/measure") / f"train_{PATCHES.hop_frames}.npz")
    base = TrackSpace.fit(train_means, train_blocks, "musicnn-msd/1")
    print(f"{base.musicnn_dim} of 753 MusiCNN channels vary; median tempo-block norm {base.block_norm:.3f}")

    best = (-1.0, None)
    for hop in args.hops:
        means, blocks = analyse_all([r["abspath"] for r in heldout], hop, Path("data/measure") / f"heldout_{hop}.npz")
        print(f"\n### patch hop {hop} frames\n")
        print("| block weight | " + " | ".join(f"tau {t}" for t in taus) + " | mean | identity mean | same-piece recall@10 |")
        print("|---" * (len(taus) + 4) + "|")
        for w in WEIGHTS:
            space = base.with_block_weight(w)
            table = retrieval_table(heldout, means, blocks, space, taus)
            mean = float(np.mean(list(table["shift"].values())))
            ident = float(np.mean(list(table["identity"].values())))
            recall = same_piece_recall(heldout, means, blocks, space)
            print(f"| {w} | " + " | ".join(f"{table['shift'][t]:.2f}" for t in taus)
                  + f" | {mean:.3f} | {ident:.3f} | {recall:.3f} |")
            if hop == PATCHES.hop_frames and mean > best[0]:
                best = (mean, w)
    weight = args.weight if args.weight is not None else best[1]
    if args.write:
        base.with_block_weight(weight).save(DEFAULT_PATH)
        print(f"\nwrote {DEFAULT_PATH} with block weight {weight}")


if __name__ == "__main__":
    main()
