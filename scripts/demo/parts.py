"""Parts: a tempo-free pattern plus its effects, rendered at any BPM as one seamless loop.

Effects are given in musical units (echo in steps), so a part sounds the same at every tempo; a
rendered part is cached because full mixes reuse the parts they are made of.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from scripts.demo.dsp import Audio, butter, crackle, echo, fold, loop_samples, peak_normalised, reverb
from scripts.demo.drums import DrumPattern, Kit, render_drums
from scripts.demo.harmony import Key
from scripts.demo.synth import Note, Timbre, render_mono, render_poly


@dataclass(frozen=True)
class Fx:
    """Per-part effects, in musical units so they sound the same at every tempo."""

    reverb_s: float = 0.0
    reverb_wet: float = 0.0
    echo_steps: int = 0  # delay in 16th steps (3 = dotted 8th)
    echo_feedback: float = 0.35
    echo_wet: float = 0.0
    lowpass_hz: float | None = None  # dull the top like an old sampler
    dust: float = 0.0  # vinyl crackle level, relative to the loop's peak


def finish_loop(x: Audio, fx: Fx, label: str, bpm: float, bars: int) -> Audio:
    """Apply ``fx`` to a rendered part (loop + tail), then fold it to exactly one loop."""
    if fx.echo_wet:
        x = x + fx.echo_wet * echo(x, fx.echo_steps * 15.0 / bpm, fx.echo_feedback)
    if fx.reverb_wet:
        x = x + fx.reverb_wet * reverb(x, fx.reverb_s, f"{label}/reverb")
    if fx.lowpass_hz:
        x = butter(x, "lowpass", fx.lowpass_hz)
    x = fold(x, loop_samples(bpm, bars))
    if fx.dust:
        x = x + fx.dust * float(np.max(np.abs(x))) * crackle(len(x), label)
    return x


@dataclass(frozen=True)
class Part:
    """A tempo-free musical pattern; ``render(bpm)`` plays it as one seamless loop, shape (n,)."""

    name: str  # shared by every tempo the pattern is rendered at
    style: str
    bars: int
    instruments: tuple[str, ...]
    render: Callable[[float], Audio]
    key: Key | None = None


def drum_part(name: str, style: str, bars: int, pattern: DrumPattern, kit: Kit, fx: Fx = Fx()) -> Part:
    @functools.cache  # full mixes reuse the parts they are made of
    def render(bpm: float) -> Audio:
        return finish_loop(render_drums(pattern, kit, name, bpm, bars), fx, name, bpm, bars)

    return Part(name, style, bars, pattern.instruments(), render)


def synth_part(name: str, style: str, bars: int, key: Key, instrument: str, notes: Sequence[Note],
               timbre: Timbre, fx: Fx = Fx(), mono: bool = False, glide_s: float = 0.0) -> Part:
    """A pitched part: a monophonic line with optional glide (bass) or one voice per note."""

    @functools.cache  # full mixes reuse the parts they are made of
    def render(bpm: float) -> Audio:
        if mono:
            x = render_mono(notes, timbre, name, bpm, bars, glide_s)
        else:
            x = render_poly(notes, timbre, name, bpm, bars)
        return finish_loop(x, fx, name, bpm, bars)

    return Part(name, style, bars, (instrument,), render, key)


def full_mix(name: str, layers: Sequence[tuple[Part, float]]) -> Part:
    """Parts summed at the given gains (each first brought to peak 1) through a gently saturating bus.

    The first layer (the drums) gives the style; the first pitched layer gives the key.
    """
    first = layers[0][0]
    if any(part.bars != first.bars for part, _ in layers):
        raise ValueError(f"{name}: every layer must last the same number of bars")

    def render(bpm: float) -> Audio:
        return np.tanh(1.5 * peak_normalised(sum(gain * peak_normalised(part.render(bpm)) for part, gain in layers)))

    instruments = tuple(dict.fromkeys(i for part, _ in layers for i in part.instruments))
    key = next((part.key for part, _ in layers if part.key), None)
    return Part(name, first.style, first.bars, instruments, render, key)
