"""Fit the track space on the corpus's training pieces and measure the block weight and patch hop.

Needs the MIDI corpus (``scripts/build_corpus.py``). Prints the tables recorded in
``docs/track-vector.md`` and, with ``--write``, writes ``resources/track_space.safetensors``
(statistics from the training split's tau = 1 renders, block weight chosen here)::

    .venv/bin/python scripts/measure_track_vector.py [--hops 187 93] [--write] [--weight W]

The retrieval task (engine/evaluate.py): a held-out tau = 1 render, translated to each tau with the
tempo block shifted exactly and the MusiCNN part left as is (the learned part comes later), must find
the exact (piece, tau) among ALL versions of ALL held-out pieces. Against it stands plain similarity:
a heavier block finds the same tempo, but other versions of the same music fall out of the top 10.
"""

from __future__ import annotations

import argparse

import numpy as np

from engine.config import PATCHES
from engine.corpus import analyse_renders, load_manifest
from engine.embed.track_vector import DEFAULT_PATH, TrackSpace
from engine.evaluate import same_piece_recall, tempo_retrieval
from engine.translation import Translator, TranslatorConfig

WEIGHTS = (0.0, 0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hops", type=int, nargs="+", default=[PATCHES.hop_frames])
    parser.add_argument("--write", action="store_true", help="write the fitted space to resources/")
    parser.add_argument("--weight", type=float, default=None, help="block weight to ship (default: best measured)")
    args = parser.parse_args()
    renders = load_manifest()
    train = [r for r in renders if r.split == "train" and r.tau == 1.0]
    heldout = [r for r in renders if r.split == "heldout"]
    taus = sorted({r.tau for r in heldout})
    print(f"corpus: {len(train)} training renders at tau=1, {len(heldout)} held-out renders "
          f"({len({r.piece_id for r in heldout})} pieces), taus {taus}")
    fitted = analyse_renders(train)
    base = TrackSpace.fit(fitted.means, fitted.blocks, "musicnn-msd/1")
    print(f"{base.musicnn_dim} of 753 MusiCNN channels vary; median tempo-block norm {base.block_norm:.3f}")

    best = (-1.0, None)
    for hop in args.hops:
        held = analyse_renders(heldout, hop)
        print(f"\n### patch hop {hop} frames\n")
        print("| block weight | " + " | ".join(f"tau {t}" for t in taus)
              + " | mean (block shifted) | mean (not shifted) | same-piece recall@10 |")
        print("|---" * (len(taus) + 4) + "|")
        for w in WEIGHTS:
            space = base.with_block_weight(w)
            vectors = space.vector(held.means[:, None, :], held.blocks)
            shifted = tempo_retrieval(held.renders, vectors, Translator.untrained(space, TranslatorConfig("identity")), taus)
            as_is = tempo_retrieval(held.renders, vectors, lambda v, t: v, taus)
            mean = float(np.mean(list(shifted.values())))
            print(f"| {w} | " + " | ".join(f"{shifted[t]:.2f}" for t in taus)
                  + f" | {mean:.3f} | {np.mean(list(as_is.values())):.3f} | {same_piece_recall(held.renders, vectors):.3f} |")
            if hop == PATCHES.hop_frames and mean > best[0]:
                best = (mean, w)
    weight = args.weight if args.weight is not None else best[1]
    if args.write:
        base.with_block_weight(weight).save(DEFAULT_PATH)
        print(f"\nwrote {DEFAULT_PATH} with block weight {weight}")


if __name__ == "__main__":
    main()
