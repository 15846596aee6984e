"""Tempo search against a plain BPM filter, on renders and on real productions, side by side.

Three sets (:func:`engine.training.corpus.material_sets`, docs/corpus.md), each searched on its own:

- renders: the MIDI corpus; queries are the held-out renders, the library is every render (the
  training pieces' as distractors);
- mixed: the same renders through a produced-sounding effect chain, split the same way;
- real: tracker modules re-rendered at other tempi by openmpt123 (never trained or tuned on), among
  SuperTuxKart and Wesnoth excerpts.

Every file's BPM is what the app stores after a scan: the full estimate (signal, priors and the
shipped tempo classifier), with names withheld (the corpora's names hold tempo ratios, not tempi),
and the estimator's other readings for the gate. Every search runs the app's own code: a
:class:`engine.search.session.SearchSession` over a :class:`engine.search.session.VectorLibrary` in the shipped
TrackSpace, with the shipped Translator::

    .venv/bin/python scripts/eval_search.py [--contour]    # a few minutes the first time (analyses cached)

Table 1, tempo estimates: Accuracy1/2 of the BPM the library holds, and how well confidence predicts
a right answer. Table 2, translation: a query translated to tau must retrieve the exact (piece, tau)
among every version of every piece (and the distractors). Table 3, the same piece at the asked tempo:
each query asks for the tempo of every other version of its piece (the target BPM is that version's
true BPM); the hit is that version (any soundfont or chain), #1. Table 4, the knob at 0.8x and 1.25x
the query's true tempo: of the top 10, the share within +-8 % of the target (true BPMs), and the
character kept (the same piece, or the same style label, as the query). ``--contour`` adds Table 5,
the contour grid on the renders (recall@10 of a piece's other versions). The sets
themselves are built in ``scripts/evaluation/searched_set.py``.
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:  # run as a file, Python puts scripts/ on the path, not the repository
    sys.path.insert(0, str(REPO))

from engine.config import SEARCH, TEMPO, SearchConfig  # noqa: E402
from engine.models.track_space import TrackSpace  # noqa: E402
from engine.models.translation import Translator, TranslatorConfig  # noqa: E402
from engine.search.session import SearchError, SearchSession  # noqa: E402
from engine.training.corpus import material_sets  # noqa: E402
from scripts.evaluation.searched_set import SearchedSet  # noqa: E402

RANK_DEPTH = 50  # results fetched per search; a hit below this counts as rank infinity
TOP = 10
FILTER_PERCENT = TEMPO.tolerance * 100  # the BPM filter of any sample browser: +-4 %
IN_TEMPO = 0.08  # Table 4: a result is "at the asked tempo" within +-8 %
KNOB_RATIOS = (0.8, 1.25)
CONFIDENCE_BINS = (0.0, 0.3, 0.5, 0.7, 0.9, 1.01)


@dataclass(frozen=True)
class Method:
    name: str
    mode: str
    window: float | None  # percent; None: no gate
    min_share: float = SEARCH.gate_min_share  # the gate's admission of the estimator's other readings


METHODS = (
    Method("similar", "similar", None),
    Method(f"BPM filter: similar within +-{FILTER_PERCENT:.0f} % of the target", "similar", FILTER_PERCENT),
    Method("target, gate off (pure translation)", "target", None),
    Method(f"**target, default gate (+-{SEARCH.bpm_window:g} %, other readings >= {SEARCH.gate_min_share:g})**",
           "target", SEARCH.bpm_window),
    Method(f"target, +-{SEARCH.bpm_window:g} % gate on the estimate alone", "target", SEARCH.bpm_window, 1.01),
)


def within(a: float, b: float, tolerance: float) -> bool:
    return abs(math.log(a / b)) <= math.log1p(tolerance)


# --- Table 1: the BPMs behind the gate -----------------------------------------------------------------------


def table_tempo(sets: list[SearchedSet]) -> None:
    print("\n### Table 1: the BPM each library file holds (full estimate, names withheld)\n")
    print("Accuracy1: within 4 % of the truth; Accuracy2: octave errors (x2, /2, x3, /3) forgiven; none: given no "
          "tempo. Then Accuracy1 per confidence band (files in the band).\n")
    bands = list(zip(CONFIDENCE_BINS[:-1], CONFIDENCE_BINS[1:]))
    print("| set | files | Acc1 | Acc2 | none | " + " | ".join(f"conf {lo:.1f}-{min(hi, 1):.1f}" for lo, hi in bands) + " |")
    print("|---" * (5 + len(bands)) + "|")
    for s in sets:
        rows = [i for i in s.held if s.renders[i].bpm_reliable and TEMPO.bpm_min <= s.renders[i].bpm <= TEMPO.bpm_max]
        truth = np.array([s.renders[i].bpm for i in rows])
        est, conf = s.estimates.bpm[rows], s.estimates.confidence[rows]
        ok1 = np.array([not math.isnan(e) and within(e, t, TEMPO.tolerance) for e, t in zip(est, truth)])
        ok2 = np.array([not math.isnan(e) and any(within(e, t * f, TEMPO.tolerance) for f in (1, 2, 3, 0.5, 1 / 3))
                        for e, t in zip(est, truth)])
        cells = []
        for lo, hi in bands:
            inside = (conf >= lo) & (conf < hi)
            cells.append(f"{ok1[inside].mean():.2f} ({inside.sum()})" if inside.any() else "-")
        print(f"| {s.name} | {len(rows)} | **{ok1.mean():.3f}** | {ok2.mean():.3f} | {np.isnan(est).mean():.3f} | "
              + " | ".join(cells) + " |")


# --- Table 2: translation --------------------------------------------------------------------------------------


def table_translation(sets: list[SearchedSet], space: TrackSpace) -> None:
    print("\n### Table 2: translation top-1, the exact (piece, tau) among every version of every piece\n")
    print("Queries: each held-out version; targets: every other version of its piece (tau_b / tau_a). Searched "
          "among all versions of all pieces of the set, and its distractors.\n")
    identity = Translator.untrained(space, TranslatorConfig("identity"))
    print("| translation | " + " | ".join(f"{s.name} | {s.name}, ratios 0.5-2x" for s in sets) + " |")
    print("|---" * (2 * len(sets) + 1) + "|")
    translators = [("none (query as is)", lambda v, t: v), ("block shift only", identity)]
    if sets[0].translator.cfg.kind != "identity":
        translators.append((f"shipped ({sets[0].translator.cfg.kind})", sets[0].translator))
    for name, f in translators:
        print(f"| {name} | " + " | ".join(f"{translation_top1(s, f):.3f} | {translation_top1(s, f, 0.5, 2.0):.3f}"
                                          for s in sets) + " |")


def translation_top1(s: SearchedSet, translate, lo: float = 0.0, hi: float = math.inf) -> float:
    unit = s.vectors / np.linalg.norm(s.vectors, axis=1, keepdims=True)
    hits = []
    for q in s.held:
        r = s.renders[q]
        others = [i for i in s.versions[r.piece_id] if s.renders[i].tau != r.tau]
        taus = [t for t in sorted({s.renders[i].tau / r.tau for i in others}) if lo - 1e-6 <= t <= hi + 1e-6]
        if not taus:
            continue
        moved = translate(np.repeat(s.vectors[q][None, :], len(taus), axis=0), np.array(taus, np.float32))
        sims = (moved / np.linalg.norm(moved, axis=1, keepdims=True)) @ unit.T
        sims[:, q] = -np.inf
        for tau, best in zip(taus, sims.argmax(axis=1)):
            hits.append(s.renders[best].piece_id == r.piece_id and math.isclose(s.renders[best].tau / r.tau, tau, rel_tol=1e-3))
    return float(np.mean(hits))


# --- Tables 3 and 4: the knob ----------------------------------------------------------------------------------


def knob_trials(s: SearchedSet, method: Method) -> tuple[list[float], list[tuple[int, float, list[int]]]]:
    """Ranks of the same piece at each asked tempo, and (query, target BPM, top rows) at the knob ratios."""
    library = s.library(method.min_share)
    ranks, knob = [], []
    for q in s.held:
        r = s.renders[q]
        session = SearchSession(library, k=RANK_DEPTH)
        session.set_query(r.path)
        session.set_mode(method.mode)
        session.set_bpm_window(method.window)
        for tau in sorted({s.renders[i].tau for i in s.versions[r.piece_id]} - {r.tau}):
            wanted = [i for i in s.versions[r.piece_id] if s.renders[i].tau == tau]
            found = ask(s, session, s.renders[wanted[0]].bpm)
            ranks.append(next((n + 1 for n, i in enumerate(found) if i in wanted), math.inf))
        for ratio in KNOB_RATIOS:
            target = r.bpm * ratio
            if SEARCH.bpm_min <= target <= SEARCH.bpm_max:
                knob.append((q, target, ask(s, session, target)[:TOP]))
    return ranks, knob


def ask(s: SearchedSet, session: SearchSession, bpm: float) -> list[int]:
    try:
        session.set_target_bpm(bpm)
        return [s.row[x.path] for x in session.results()]
    except SearchError:  # the query has no tempo to translate from
        return []


def table_knob(sets: list[SearchedSet]) -> None:
    results = {(s.name, m.name): knob_trials(s, m) for s in sets for m in METHODS}
    print("\n### Table 3: the same piece at the asked tempo, #1 (and within the top 5)\n")
    print("| method | " + " | ".join(f"{s.name} top-1 | {s.name} top-5" for s in sets) + " |")
    print("|---" * (2 * len(sets) + 1) + "|")
    for m in METHODS:
        cells = []
        for s in sets:
            ranks = np.array(results[(s.name, m.name)][0])
            cells += [f"{np.mean(ranks == 1):.3f}", f"{np.mean(ranks <= 5):.3f}"]
        print(f"| {m.name} | " + " | ".join(cells) + " |")
    print(f"\n### Table 4: the top {TOP} at {' and '.join(f'{r}x' for r in KNOB_RATIOS)} the query's tempo\n")
    print(f"In tempo: within +-{IN_TEMPO * 100:.0f} % of the target (true BPM). Character: the query's piece or "
          "style. Slots: results per list.\n")
    print("| method | " + " | ".join(f"{s.name} in tempo | {s.name} character | {s.name} slots" for s in sets) + " |")
    print("|---" * (3 * len(sets) + 1) + "|")
    for m in METHODS:
        cells = []
        for s in sets:
            knob = results[(s.name, m.name)][1]
            slots = sum(len(top) for _, _, top in knob) or 1
            near = sum(not math.isnan(s.renders[i].bpm) and within(s.renders[i].bpm, t, IN_TEMPO)
                       for _, t, top in knob for i in top)
            kept = sum(s.renders[i].piece_id == s.renders[q].piece_id or s.renders[i].style == s.renders[q].style
                       for q, _, top in knob for i in top)
            cells += [f"{near / slots:.3f}", f"{kept / slots:.3f}", f"{slots / max(1, len(knob)):.1f}"]
        print(f"| {m.name} | " + " | ".join(cells) + " |")


# --- Table 5: contour ------------------------------------------------------------------------------------------


def table_contour(s: SearchedSet) -> None:
    print(f"\n### Table 5: the same piece at an unknown tempo ({s.name}): recall@{TOP} of the query's other versions\n")
    print("| search | mean recall@10 | tau error (median %) |")
    print("|---|---|---|")
    library = s.library(SEARCH.gate_min_share)
    variants: list[tuple[str, str, SearchConfig]] = [("similar", "similar", SEARCH)]
    for merge, points in (("min", 17), ("min", 33), ("rrf", 33)):
        cfg = dataclasses.replace(SEARCH, contour_merge=merge, contour_points=points)
        variants.append((f"contour, {merge}, {points} points{' (default)' if cfg == SEARCH else ''}", "contour", cfg))
    for name, mode, cfg in variants:
        recall, errors = [], []
        for q in s.held:
            r = s.renders[q]
            session = SearchSession(library, k=TOP, cfg=cfg)
            session.set_query(r.path)
            session.set_mode(mode)
            others = set(s.versions[r.piece_id]) - {q}
            hits = [x for x in session.results() if s.row[x.path] in others]
            recall.append(len(hits) / min(TOP, len(others)))
            if mode == "contour":
                errors += [abs(h.tau / (s.renders[s.row[h.path]].tau / r.tau) - 1) * 100 for h in hits]
        print(f"| {name} | {np.mean(recall):.3f} | {np.median(errors) if errors else float('nan'):.1f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contour", action="store_true", help="add the contour table (renders)")
    args = parser.parse_args()
    space = TrackSpace.load()
    translator = Translator.load(space)
    sets = [SearchedSet(s, space, translator) for s in material_sets()]
    print(f"## Tempo search, renders and real productions side by side\n\nTrack space: {space.identity}; "
          f"translator: {translator.cfg.kind}.")
    for s in sets:
        print(f"- {s.name}: {len(s.held)} queries among {len(s.renders)} files "
              f"({len({s.renders[i].piece_id for i in s.held})} pieces asked about)")
    table_tempo(sets)
    table_translation(sets, space)
    table_knob(sets)
    if args.contour:
        table_contour(sets[0])


if __name__ == "__main__":
    main()
