"""A sample library's tempi, for the benchmarks: each file's BPM and tempo readings (the gate's beliefs).

The mix is that of a typical producer's sample folders rather than a uniform spread: 10 % of the
files have no tempo (one-shots); of the loops, 25 % are house/techno at 120-128 BPM, 15 % at
140 (trap, dubstep, grime), 15 % drum & bass at 170-175, 20 % hip-hop at 85-95, and 25 % anywhere
in 60-200 (log-uniform). One loop in five has a second reading held by the estimator, at half or
double its tempo, with a share of 0.3-0.45 of its belief (above ``SEARCH.gate_min_share``, so the
tempo gate lists it at both tempi).

Also :func:`machine`, the line each benchmark table prints about the computer it ran on.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np

from engine.search.tempo_gate import TempoBelief

NO_TEMPO = 0.10  # one-shots
SECOND_READING = 0.20  # loops with a half- or double-tempo reading
SECOND_SHARE = (0.30, 0.45)


@dataclass(frozen=True)
class Tempi:
    """Per file: the BPM search shows (None: no tempo) and the estimator's readings, best first."""

    bpms: list[float | None]
    beliefs: list[TempoBelief]

    def candidates(self, i: int) -> tuple[tuple[float, float], ...]:
        """File ``i``'s readings as :class:`engine.library.store.NewAnalysis` stores them ((BPM, share), best first)."""
        return tuple(self.beliefs[i])


def sample_tempi(n: int, seed: int) -> Tempi:
    """``n`` files' tempi drawn from the mix above, reproducibly."""
    rng = np.random.default_rng(seed)
    genre = rng.choice(5, size=n, p=[0.25, 0.15, 0.15, 0.20, 0.25])
    bpm = np.select(
        [genre == 0, genre == 1, genre == 2, genre == 3],
        [rng.uniform(120, 128, n), rng.normal(140, 0.7, n), rng.uniform(170, 175, n), rng.uniform(85, 95, n)],
        np.exp(rng.uniform(np.log(60), np.log(200), n)),
    ).round(1)
    has_tempo = rng.random(n) >= NO_TEMPO
    second = rng.random(n) < SECOND_READING
    octave = np.where(rng.random(n) < 0.5, 0.5, 2.0)
    octave = np.where(bpm * octave < 40, 2.0, np.where(bpm * octave > 300, 0.5, octave))
    share = rng.uniform(*SECOND_SHARE, n).round(3)
    bpms: list[float | None] = []
    beliefs: list[TempoBelief] = []
    for b, t, s2, o, sh in zip(bpm.tolist(), has_tempo.tolist(), second.tolist(), octave.tolist(), share.tolist()):
        if not t:
            bpms.append(None)
            beliefs.append(())
        elif s2:
            bpms.append(b)
            beliefs.append(((b, round(1.0 - sh, 3)), (round(b * o, 1), sh)))
        else:
            bpms.append(b)
            beliefs.append(((b, 1.0),))
    return Tempi(bpms, beliefs)


def machine() -> str:
    """Cores and CPU model, for the line under each table's title."""
    model = "unknown CPU"
    try:
        with open("/proc/cpuinfo") as f:
            model = next((line.split(":", 1)[1].strip() for line in f if line.startswith("model name")), model)
    except OSError:
        pass
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return f"Machine: {cores} cores, {model}"
