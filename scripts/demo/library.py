"""The library itself: full mixes of the parts, and every file with its manifest labels (``LIBRARY``).

Several patterns appear at two or three tempi: the same ``pattern`` label at different ``bpm`` is
the ground truth the app's "same sound at another tempo" search is demonstrated and evaluated on.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

from scripts.demo.drums import KickSpec, clap, kick, metal, snare
from scripts.demo.dsp import Audio, reverb, samples
from scripts.demo.grooves import (
    DNB_KIT, boombap_drums, dnb_break, dnb_twostep, funk_break, house_groove, lofi_drums, reggaeton_dembow,
    rock_beat, techno_drums, trap_drums,
)
from scripts.demo.harmony import Key, voiced
from scripts.demo.parts import Part, full_mix
from scripts.demo.synth import Note, Timbre, render_poly
from scripts.demo.tunes import (
    C_MAJOR, F_MINOR, PLUCK_BASS, STAB, arp_synthwave, arp_trance, bass_808, bass_acid, bass_boombap, bass_deep,
    bass_dembow, bass_funk, bass_lofi, bass_reese, bass_rock, bell_trap, chords_house, chords_reggaeton, keys_boombap,
    keys_lofi, pad_ambient, pad_dnb,
)

full_house = full_mix("full_house_Fm", ((house_groove, 1.0), (bass_deep, 0.8), (chords_house, 0.45)))
full_boombap = full_mix("full_boombap_Gm", ((boombap_drums, 1.0), (bass_boombap, 0.8), (keys_boombap, 0.5)))
full_trap = full_mix("full_trap_Cm", ((trap_drums, 1.0), (bass_808, 0.9), (bell_trap, 0.4)))
full_dnb = full_mix("full_dnb_Dm", ((dnb_break, 1.0), (bass_reese, 0.7), (pad_dnb, 0.4)))
full_reggaeton = full_mix("full_reggaeton_Am", ((reggaeton_dembow, 1.0), (bass_dembow, 0.8), (chords_reggaeton, 0.45)))
full_lofi = full_mix("full_lofi_F", ((lofi_drums, 1.0), (bass_lofi, 0.7), (keys_lofi, 0.6)))
full_funk = full_mix("full_funk_Em", ((funk_break, 1.0), (bass_funk, 0.8)))


@dataclass(frozen=True)
class Item:
    """One file of the library and its manifest labels."""

    file: str
    kind: Literal["loop", "one-shot"]
    style: str
    instruments: tuple[str, ...]
    pattern: str  # the same for a pattern at every tempo: ground truth for tempo-aware search
    render: Callable[[], Audio]  # finished float audio, shape (n,), before level and fades
    bpm: int | None = None
    bars: int | None = None
    key: str | None = None

    def manifest_entry(self) -> dict:
        return {"file": self.file, "bpm": self.bpm, "bars": self.bars, "style": self.style,
                "instruments": list(self.instruments), "kind": self.kind, "key": self.key,
                "pattern": self.pattern}


def loop(part: Part, bpm: int, name: str | None = None) -> Item:
    """``part`` at ``bpm``, named like a sample pack (``<pattern>_<bpm>bpm``) unless ``name`` is given."""
    return Item(f"{name or f'{part.name}_{bpm}bpm'}.flac", "loop", part.style, part.instruments, part.name,
                functools.partial(part.render, bpm), bpm, part.bars, part.key.name if part.key else None)


def one_shot(name: str, style: str, instrument: str, render: Callable[[], Audio], key: Key | None = None) -> Item:
    return Item(f"{name}.flac", "one-shot", style, (instrument,), name, render, key=key.name if key else None)


def stab(notes: Sequence[int], timbre: Timbre, label: str, seconds: float, reverb_wet: float = 0.0) -> Audio:
    """A one-shot chord or note: ``notes`` held one beat at 120 BPM in a 1 s room, cut to ``seconds``."""
    x = render_poly([Note(0, 4, m) for m in notes], timbre, label, 120, 1)
    return (x + reverb_wet * reverb(x, 1.0, f"{label}/reverb"))[: samples(seconds)]


LIBRARY: tuple[Item, ...] = (
    *(loop(house_groove, bpm) for bpm in (120, 124, 128)),
    *(loop(techno_drums, bpm) for bpm in (130, 135)),
    *(loop(boombap_drums, bpm) for bpm in (85, 90, 95)),
    loop(lofi_drums, 70), loop(lofi_drums, 75, "lofi_dusty_beat"),
    loop(dnb_break, 170, "jungle_break_roller"), loop(dnb_break, 175), loop(dnb_twostep, 174),
    *(loop(rock_beat, bpm) for bpm in (100, 110, 120)),
    *(loop(reggaeton_dembow, bpm) for bpm in (90, 95, 100)),
    *(loop(trap_drums, bpm) for bpm in (140, 150)),
    *(loop(funk_break, bpm) for bpm in (95, 105)),
    loop(bass_acid, 124), loop(bass_acid, 128), loop(bass_deep, 120), loop(bass_deep, 124),
    loop(bass_808, 140), loop(bass_808, 150), loop(bass_reese, 174), loop(bass_boombap, 90),
    loop(bass_funk, 105), loop(bass_dembow, 95), loop(bass_rock, 110), loop(bass_lofi, 75),
    loop(chords_house, 120), loop(chords_house, 124), loop(keys_lofi, 70), loop(keys_lofi, 75),
    loop(pad_ambient, 80, "pad_ambient_C"), loop(arp_trance, 138), loop(arp_synthwave, 100),
    loop(chords_reggaeton, 95), loop(pad_dnb, 174), loop(keys_boombap, 90), loop(bell_trap, 140),
    loop(full_house, 120), loop(full_house, 124), loop(full_boombap, 90), loop(full_trap, 140),
    loop(full_dnb, 174), loop(full_reggaeton, 95, "perreo_full_loop_Am"), loop(full_lofi, 75), loop(full_funk, 105),
    one_shot("kick_punchy", "house", "kick", lambda: kick(KickSpec(160, 50, 0.028, 0.2, 0.45, 1.8), "kick_punchy")),
    one_shot("kick_808_long", "trap", "kick",
             lambda: kick(KickSpec(95, 41, 0.05, 0.6, 0.3, 2.5, 1.6), "kick_808_long")),
    one_shot("snare_tight", "dnb", "snare", lambda: snare(DNB_KIT.snare, "snare_tight")),
    one_shot("clap_layered", "house", "clap", lambda: clap("clap_layered", 0.16, 0.6)),
    one_shot("hat_closed", "house", "hihat", lambda: metal("hat_closed", 0.03, 6000, 0.2)),
    one_shot("hat_open", "house", "hihat", lambda: metal("hat_open", 0.15, 6000, 0.7)),
    one_shot("crash_bright", "rock", "cymbal", lambda: metal("crash_bright", 0.55, 3000, 2.0, 0.9, 0.4)),
    one_shot("bass_stab_C", "house", "bass", lambda: stab([36], PLUCK_BASS, "bass_stab_C", 0.6), C_MAJOR),
    one_shot("chord_stab_Fm", "house", "chords", lambda: stab(
        voiced(F_MINOR.chord(0, 4), 53), STAB, "chord_stab_Fm", 0.8, 0.3), F_MINOR),
)
