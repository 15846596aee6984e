"""Train the tempo translation f(z, tau) on real tempo changes and write ``resources/translator.safetensors``.

Needs the MIDI corpus (``scripts/build_corpus.py``), the mixed renders (``scripts/build_real_corpus.py``)
and the shipped track space. Pairs are versions of the same piece through the same soundfont (and
effect chain) at two tempi (tau = tau_b / tau_a, every ordered pair), from the renders' and the mixed
renders' training pieces; the figures are on held-out pieces only, renders and mixed renders, and on
the real set's tracker modules (never trained on)::

    .venv/bin/python scripts/train_translator.py [--epochs 40] [--no-write]

Prints docs/translator.md's table: top-1 rate of the exact (piece, tau) among every version of every
held-out piece (mean over taus), per set, for no translation, the block shift alone (identity on the
MusiCNN part), one learned direction, and the MLP. The block shift ships unless a learned part beats
it on real productions by more than half a point.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from engine.training.corpus import CorpusAnalyses, MaterialSet, material_sets
from engine.models.track_space import TrackSpace
from engine.models.translation import DEFAULT_PATH, TranslatorConfig
from engine.training.translator import fit


def vectors(space: TrackSpace, a: CorpusAnalyses) -> np.ndarray:
    return space.vector(a.means[:, None, :], a.blocks)


def train(space: TrackSpace, sets: list[CorpusAnalyses], kind: str, epochs: int):
    z = np.concatenate([space.split(vectors(space, a))[0] for a in sets])
    keys = [f"{n}|{r.piece_id}|{r.soundfont}" for n, a in enumerate(sets) for r in a.renders]
    groups = np.unique(keys, return_inverse=True)[1]
    taus = np.array([r.tau for a in sets for r in a.renders], np.float32)
    return fit(space, z, groups, taus, TranslatorConfig(kind), epochs=epochs)


def top1(space: TrackSpace, s: MaterialSet, translate) -> float:
    """Mean translation top-1 over taus of one set's held-out pieces, its distractors searched among."""
    return float(np.mean(list(s.translation_rates(space, "heldout", translate).values())))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=40)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    torch.set_num_threads(2)
    sets = material_sets()
    train_sets = [s.train for s in sets if len(s.train.renders)]
    space = TrackSpace.load()
    print(f"train: {sum(len(a.renders) for a in train_sets)} versions; MusiCNN part {space.musicnn_dim} dims, "
          f"block weight {space.block_weight}\n")
    print("| translation | " + " | ".join(f"{s.name} ({len(s.held.renders)} held out)" for s in sets) + " | train s |")
    print("|---" * (len(sets) + 2) + "|")
    print("| none (query as is) | " + " | ".join(f"{top1(space, s, lambda v, t: v):.3f}" for s in sets) + " | - |")
    results = {}
    for kind, label in (("identity", "block shift only"), ("direction", "block shift + one direction"),
                        ("mlp", "block shift + MLP")):
        started = time.perf_counter()
        translator = train(space, train_sets, kind, args.epochs)
        seconds = time.perf_counter() - started
        got = [top1(space, s, translator) for s in sets]
        results[kind] = (translator, got)
        print(f"| {label} | " + " | ".join(f"{g:.3f}" for g in got) + f" | {seconds:.0f} |")
    real = [s.name for s in sets].index("real")
    best = max(results, key=lambda k: results[k][1][real])
    # The block shift alone needs no weights and no runtime: it ships unless learning measurably helps real music.
    kind = "identity" if results["identity"][1][real] >= results[best][1][real] - 0.005 else best
    print(f"\nbest on real productions: {best}; shipped: {kind}")
    if not args.no_write:
        translator, got = results[kind]
        about = {"data": "renders and mixed renders (docs/corpus.md): train split",
                 "heldout_top1": {s.name: round(g, 3) for s, g in zip(sets, got)}}
        translator.save(DEFAULT_PATH, about)
        print(f"wrote {DEFAULT_PATH}")


if __name__ == "__main__":
    main()
