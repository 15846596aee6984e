"""Calibrate the track space on renders AND real productions, choose the block weight by measurement.

Needs the MIDI corpus (``scripts/build_corpus.py``) and the real-production material
(``scripts/build_real_corpus.py``, docs/corpus.md). Prints the tables of docs/track-vector.md and,
with ``--write``, writes ``resources/track_space.safetensors``::

    .venv/bin/python scripts/measure_track_vector.py [--write] [--weight W]

Material, three sets side by side (pieces held out by their manifests' split):

- renders: the MIDI corpus, FluidSynth through General MIDI soundfonts;
- mixed renders: the same renders through a produced-sounding effect chain (EQ, bus compression,
  reverb, width);
- real: tracker modules (sampled instruments, made by people) re-rendered at other tempi by
  openmpt123, among SuperTuxKart and Wesnoth music as distractors.

The statistics (per-channel mean and std, the tempo block's median norm) are fitted on the training
pieces of the renders and mixed renders at their own tempo, plus the productions. The weight is
chosen on those training pieces only; the held-out renders and every tracker piece (never trained
or tuned on) are read once, for the table.

Two figures per weight and set. Translation top-1: a piece's tau = 1 version, translated to tau with
the block shift alone (the learned part is measured by scripts/train_translator.py), must retrieve
the exact (piece, tau) among every version of every piece of the set (and the distractors).
Same-piece recall@10: plain similarity keeps the character (a heavier block turns "similar" into
"same tempo").
"""

from __future__ import annotations

import argparse

import numpy as np

from engine.training.corpus import MaterialSet, material_sets
from engine.models.identity import MUSICNN
from engine.models.track_space import DEFAULT_PATH, TrackSpace
from engine.training.evaluate import same_piece_recall
from engine.models.translation import Translator, TranslatorConfig

WEIGHTS = (0.5, 0.75, 1.0, 1.25, 1.5, 2.0, 2.5, 3.0)
CALIBRATION = "fitted on MIDI renders, mixed renders and SuperTuxKart/Wesnoth productions"


def fit_space(sets: list[MaterialSet], weight: float) -> TrackSpace:
    """Statistics from every set's training pieces at their own tempo, and the productions (the real
    set's tracker pieces are all held out, so they count only through its distractors)."""
    parts = [(s.train.means[[r.tau == 1.0 for r in s.train.renders]], s.train.blocks[[r.tau == 1.0 for r in s.train.renders]])
             for s in sets]
    parts += [(s.distractors.means, s.distractors.blocks) for s in sets if s.distractors is not None]
    means = np.concatenate([m for m, _ in parts])
    blocks = np.concatenate([b for _, b in parts])
    return TrackSpace.fit(means, blocks, MUSICNN.key, weight, CALIBRATION)


def figures(space: TrackSpace, s: MaterialSet, split: str) -> tuple[float, float, dict[float, float]]:
    """(translation top-1 over all taus but 1, same-piece recall@10, top-1 per tau) on one split of a set."""
    rates = s.translation_rates(space, split, Translator.untrained(space, TranslatorConfig("identity")))
    a = s.held if split == "heldout" else s.train
    recall = same_piece_recall(a.renders, space.vector(a.means[:, None, :], a.blocks))
    return float(np.mean(list(rates.values()))), recall, rates


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help="write the fitted space to resources/")
    parser.add_argument("--weight", type=float, default=None, help="block weight to ship (default: chosen here)")
    args = parser.parse_args()
    sets = material_sets()
    for s in sets:
        print(f"{s.name}: {len(s.train.renders)} train / {len(s.held.renders)} held-out versions"
              + (f", {len(s.distractors.renders)} distractors" if s.distractors is not None else ""))
    base = fit_space(sets, 1.0)
    print(f"{base.musicnn_dim} of 753 MusiCNN channels vary; median tempo-block norm {base.block_norm:.3f}")
    for s in sets:
        z = (s.held.means - base.mean) / base.std
        print(f"{s.name}: norm of the standardised MusiCNN part, median {np.median(np.linalg.norm(z[:, base.keep], axis=1)):.1f}"
              f" (sqrt K = {np.sqrt(base.musicnn_dim):.1f})")

    chosen = {}
    for split in ("train", "heldout"):
        shown = [s for s in sets if len(s.train.renders)] if split == "train" else sets
        print(f"\n### {split} pieces: translation top-1 (block shift) / same-piece recall@10 (plain similarity)\n")
        print("| block weight | " + " | ".join(f"{s.name}: top-1 | recall@10" for s in shown) + " | mean top-1 |")
        print("|---" * (2 * len(shown) + 2) + "|")
        for w in WEIGHTS:
            got = [figures(base.with_block_weight(w), s, split) for s in shown]
            mean_top1 = float(np.mean([g[0] for g in got]))
            chosen.setdefault(split, {})[w] = (mean_top1, got)
            print(f"| {w} | " + " | ".join(f"{g[0]:.3f} | {g[1]:.3f}" for g in got) + f" | {mean_top1:.3f} |")
    train = chosen["train"]
    best = max(v[0] for v in train.values())
    # The lightest block within a point of the best translation keeps the most character under plain similarity.
    weight = args.weight if args.weight is not None else min(w for w, v in train.items() if v[0] >= best - 0.01)
    print(f"\nchosen on the training pieces: block weight {weight} (best mean top-1 {best:.3f}; the lightest block "
          "within 0.01 of it keeps the most same-piece recall)")
    for s, g in zip(sets, chosen["heldout"][weight][1]):
        print(f"held out, {s.name}: " + ", ".join(f"tau {t}: {v:.2f}" for t, v in g[2].items()))
    if args.write:
        fit_space(sets, weight).save(DEFAULT_PATH)
        print(f"\nwrote {DEFAULT_PATH} with block weight {weight}")


if __name__ == "__main__":
    main()
