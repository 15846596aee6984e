"""Train the tempo translation f(z, tau) on real tempo changes and write ``resources/translator.safetensors``.

Needs the MIDI corpus (``scripts/build_corpus.py``) and the shipped track space. Pairs are renders of
the same piece through the same soundfont at two tempi (tau = tau_b / tau_a, every ordered pair); the
figures are on held-out pieces only::

    .venv/bin/python scripts/train_translator.py [--epochs 40] [--no-write]

Prints the main table of the closing note: top-1 rate of the exact (piece, tau) among ALL versions of
ALL held-out pieces, per target tau, for no translation, the block shift alone (identity on the
MusiCNN part), one learned direction, and the MLP; plus the MLP without the tempo block.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from engine.corpus import CorpusAnalyses, analyse_renders, load_manifest
from engine.embed.track_vector import TrackSpace
from engine.evaluate import same_piece_recall, tempo_retrieval
from engine.translation import DEFAULT_PATH, TranslatorConfig, fit

GOAL_TAUS = (0.7, 0.85, 1.0, 1.2, 1.4)


def vectors(space: TrackSpace, a: CorpusAnalyses) -> np.ndarray:
    return space.vector(a.means[:, None, :], a.blocks)


def train(space: TrackSpace, a: CorpusAnalyses, kind: str, epochs: int):
    v = vectors(space, a)
    z, _ = space.split(v)
    keys = [f"{r.piece_id}|{r.soundfont}" for r in a.renders]
    groups = np.unique(keys, return_inverse=True)[1]
    taus = np.array([r.tau for r in a.renders], np.float32)
    return fit(space, z, groups, taus, TranslatorConfig(kind), epochs=epochs)


def row(name: str, rates: dict[float, float], taus: list[float]) -> str:
    goal = np.mean([rates[t] for t in GOAL_TAUS])
    return f"| {name} | " + " | ".join(f"{rates[t]:.2f}" for t in taus) + f" | {np.mean(list(rates.values())):.3f} | {goal:.3f} |"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=40)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    torch.set_num_threads(2)
    renders = load_manifest()
    train_set = analyse_renders([r for r in renders if r.split == "train"])
    held = analyse_renders([r for r in renders if r.split == "heldout"])
    taus = sorted({r.tau for r in held.renders})
    space = TrackSpace.load()
    print(f"train: {len(train_set.renders)} renders; held out: {len(held.renders)} renders of "
          f"{len({r.piece_id for r in held.renders})} pieces; MusiCNN part {space.musicnn_dim} dims, "
          f"block weight {space.block_weight}")

    vh = vectors(space, held)
    print("\n| translation | " + " | ".join(f"tau {t}" for t in taus) + " | mean | mean over 0.7-1.4 |")
    print("|---" * (len(taus) + 3) + "|")
    print(row("none (query as is)", tempo_retrieval(held.renders, vh, lambda v, t: v, taus), taus))
    results = {}
    for kind, label in (("identity", "block shift only"), ("direction", "block shift + one direction"),
                        ("mlp", "block shift + MLP")):
        started = time.perf_counter()
        translator = train(space, train_set, kind, args.epochs)
        seconds = time.perf_counter() - started
        rates = tempo_retrieval(held.renders, vh, translator, taus)
        results[kind] = (translator, rates, seconds)
        print(row(label, rates, taus))
    no_block = space.with_block_weight(0.0)
    mlp_no_block = train(no_block, train_set, "mlp", args.epochs)
    print(row("MLP, MusiCNN only (no tempo block)",
              tempo_retrieval(held.renders, vectors(no_block, held), mlp_no_block, taus), taus))

    best_kind = max(results, key=lambda k: np.mean([results[k][1][t] for t in GOAL_TAUS]))
    best, rates, train_seconds = results[best_kind]
    batch = np.repeat(vh[:1], 1024, axis=0)
    started = time.perf_counter()
    for _ in range(10):
        best(batch, 1.3)
    per_vector_ms = (time.perf_counter() - started) / (10 * len(batch)) * 1000
    print(f"\nbest: {best_kind} (trained in {train_seconds:.0f} s); f costs {per_vector_ms * 1000:.1f} us per vector "
          f"(batch of 1024); plain-similarity same-piece recall@10 {same_piece_recall(held.renders, vh):.3f}")
    if not args.no_write:
        about = {"data": "MIDI corpus (scripts/build_corpus.py): train split, real re-renders at taus "
                         + ",".join(str(t) for t in taus),
                 "heldout_top1": {str(t): round(v, 3) for t, v in rates.items()}}
        best.save(DEFAULT_PATH, about)
        print(f"wrote {DEFAULT_PATH}")


if __name__ == "__main__":
    main()
