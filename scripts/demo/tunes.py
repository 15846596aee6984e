"""The synth sounds, keys and progressions, and the pitched loops: basslines, chords, pads, arps, a bell."""

from __future__ import annotations

from scripts.demo.harmony import Key, Progression, arpeggio, bassline, chord_hits, melody, per_bar
from scripts.demo.parts import Fx, synth_part
from scripts.demo.synth import Timbre

# ---- synth voices ----------------------------------------------------------------------------

ACID = Timbre("saw", 260, 2400, 0.12, 7.0, decay_s=0.15, sustain=0.6, release_s=0.03, drive=2.0, sweep=1.5)
DEEP_BASS = Timbre("square", 350, 600, 0.08, 1.2, decay_s=0.2, sustain=0.5, sub=0.4)
SUB_808 = Timbre("sine", 2000, decay_s=0.5, sustain=0.35, release_s=0.08, drive=1.8)
REESE = Timbre("saw", 420, resonance=1.5, attack_s=0.01, decay_s=1.0, sustain=1.0, release_s=0.1,
               detune_cents=(-14.0, 14.0), sub=0.5, sweep=0.9)
PLUCK_BASS = Timbre("saw", 320, 1800, 0.05, 1.5, decay_s=0.25, sustain=0.3, release_s=0.04)
ROUND_BASS = Timbre("square", 220, 300, 0.1, decay_s=0.4, sustain=0.6, release_s=0.06, sub=0.5)
DEMBOW_BASS = Timbre("sine", 2000, decay_s=0.25, sustain=0.4, release_s=0.05, drive=1.5)
STAB = Timbre("saw", 900, 2500, 0.07, 2.0, decay_s=0.18, sustain=0.0, release_s=0.06, detune_cents=(-8.0, 8.0))
EP = Timbre("ep", 900, 2500, 0.25, 0.8, decay_s=1.2, sustain=0.3, release_s=0.35, detune_cents=(-4.0, 4.0))
BELL = Timbre("ep", 1500, 4000, 0.1, decay_s=0.35, sustain=0.0, release_s=0.2)
PAD = Timbre("saw", 1200, resonance=0.8, attack_s=0.6, decay_s=1.0, sustain=0.8, release_s=0.7,
             detune_cents=(-12.0, -4.0, 5.0, 13.0), sweep=0.6)
PLUCK = Timbre("saw", 500, 3500, 0.09, 2.5, decay_s=0.2, sustain=0.0, release_s=0.1, detune_cents=(-7.0, 7.0))
SQUARE_ARP = Timbre("square", 800, 2500, 0.12, 1.5, decay_s=0.25, sustain=0.2, release_s=0.12,
                    detune_cents=(-6.0, 6.0))

# ---- keys and progressions -------------------------------------------------------------------

A_MINOR, C_MINOR, D_MINOR, E_MINOR = Key("A", True), Key("C", True), Key("D", True), Key("E", True)
F_MINOR, G_MINOR = Key("F", True), Key("G", True)
C_MAJOR, E_MAJOR, F_MAJOR = Key("C", False), Key("E", False), Key("F", False)
TONIC_ONLY: Progression = ((0, 0),)
I_VI: Progression = ((0, 0), (16, 5))  # two bars: i then VI (minor) / I then vi (major)
POP_MINOR: Progression = ((0, 0), (8, 5), (16, 2), (24, 6))  # i VI III VII, a chord every half bar
DNB_PROGRESSION: Progression = ((0, 0), (16, 5), (32, 2), (48, 6))  # the same, a chord per bar
ROCK_PROGRESSION: Progression = ((0, 0), (8, 4), (16, 5), (24, 3))  # I V vi IV
LOFI_PROGRESSION: Progression = ((0, 1), (8, 4), (16, 0))  # ii7 V7 Imaj7
AMBIENT_PROGRESSION: Progression = ((0, 0), (16, 3))  # Imaj7 IVmaj7

ACID_BARS = (
    (0, 1.0), (0, 0.6), (12, 0.6), None, (3, 1.0), (0, 0.6), (15, 0.6), (12, 1.0),
    (0, 0.6), None, (7, 0.6), (12, 1.0), (10, 0.6), (0, 0.6), (3, 1.0), (5, 0.6),
    (0, 1.0), (12, 0.6), (0, 0.6), (3, 0.6), (0, 1.0), (15, 0.6), (3, 0.6), None,
    (7, 1.0), (0, 0.6), (10, 0.6), (12, 1.0), (0, 0.6), (3, 0.6), None, (-2, 1.0),
)
acid_line = tuple((step, 0.6, hit[0], hit[1]) for step, hit in enumerate(ACID_BARS) if hit)

bass_acid = synth_part("bass_acid_Am", "house", 2, A_MINOR, "bass",
                       bassline(A_MINOR, TONIC_ONLY, acid_line, 1), ACID, mono=True, glide_s=0.012)
bass_deep = synth_part("bass_deep_Fm", "house", 2, F_MINOR, "bass", bassline(F_MINOR, I_VI, per_bar(
    ((2, 1.5, 0, 1.0), (5, 0.75, 0, 0.6), (7, 0.75, 12, 0.7), (10, 1.5, 0, 1.0), (13, 0.75, 0, 0.6),
     (15, 0.75, 7, 0.7)), 2), 2), DEEP_BASS, mono=True)
bass_808 = synth_part("bass_808_Cm", "trap", 2, C_MINOR, "bass", bassline(C_MINOR, TONIC_ONLY, (
    (0, 6, 0, 1.0), (6, 4, 0, 0.9), (10, 6, 3, 1.0),
    (16, 6, -4, 1.0), (22, 3, -4, 0.9), (25, 3, -5, 0.9), (28, 4, -5, 1.0)), 2), SUB_808, mono=True, glide_s=0.045)
bass_reese = synth_part("bass_reese_Dm", "dnb", 4, D_MINOR, "bass", bassline(
    D_MINOR, DNB_PROGRESSION, per_bar(((0, 15.5, 0, 1.0),), 4), 2), REESE, mono=True, glide_s=0.03)
bass_boombap = synth_part("bass_boombap_Gm", "boombap", 2, G_MINOR, "bass", bassline(G_MINOR, I_VI, (
    (0, 6, 0, 1.0), (7, 2, 0, 0.7), (10, 5, 0, 0.9), (16, 9, 0, 1.0), (26, 3, 0, 0.8), (29, 3, 7, 0.8)), 2),
    ROUND_BASS, Fx(lowpass_hz=4000), mono=True)
bass_funk = synth_part("bass_funk_Em", "breakbeat", 2, E_MINOR, "bass", bassline(E_MINOR, TONIC_ONLY, (
    (0, 1, 0, 1.0), (2, 0.5, 12, 0.7), (3, 1, 0, 0.8), (6, 1, 10, 0.7), (7, 0.5, 12, 0.9), (10, 1, 0, 1.0),
    (11, 0.5, 3, 0.6), (12, 1, 5, 0.8), (14, 1, 7, 0.9),
    (16, 1, 0, 1.0), (18, 0.5, 12, 0.7), (19, 1, 0, 0.8), (22, 1, 7, 0.8), (23, 1, 10, 0.8), (26, 1, 12, 1.0),
    (27, 0.5, 10, 0.6), (28, 1, 7, 0.8), (30, 1, 5, 0.7), (31, 0.5, 3, 0.7)), 1), PLUCK_BASS, mono=True)
bass_dembow = synth_part("bass_dembow_Am", "reggaeton", 2, A_MINOR, "bass", bassline(A_MINOR, POP_MINOR, per_bar(
    ((0, 3, 0, 1.0), (3, 3, 0, 0.8), (6, 2, 0, 0.9), (8, 3, 0, 1.0), (11, 3, 0, 0.8), (14, 2, 0, 0.9)), 2), 1),
    DEMBOW_BASS, mono=True)
bass_rock = synth_part("bass_rock_E", "rock", 2, E_MAJOR, "bass", bassline(
    E_MAJOR, ROCK_PROGRESSION, per_bar(tuple((s, 1.7, 0, 1.0 if s % 4 == 0 else 0.8) for s in range(0, 16, 2)), 2), 1),
    PLUCK_BASS, mono=True)
bass_lofi = synth_part("bass_lofi_F", "lofi", 2, F_MAJOR, "bass", bassline(F_MAJOR, LOFI_PROGRESSION, (
    (0, 7, 0, 0.9), (8, 6, 0, 0.8), (14, 2, 7, 0.6), (16, 10, 0, 0.9), (28, 3, 0, 0.6)), 2),
    ROUND_BASS, Fx(lowpass_hz=3000), mono=True, glide_s=0.02)

chords_house = synth_part("chords_house_stab_Fm", "house", 2, F_MINOR, "chords", chord_hits(
    F_MINOR, I_VI, per_bar(((2, 1, 1.0), (5, 1, 0.7), (10, 1, 1.0), (13, 1.5, 0.8)), 2), 53, 4),
    STAB, Fx(reverb_s=1.2, reverb_wet=0.3))
keys_lofi = synth_part("keys_lofi_F", "lofi", 2, F_MAJOR, "keys", chord_hits(
    F_MAJOR, LOFI_PROGRESSION, ((0, 7.5, 0.9), (8, 7.5, 0.8), (16, 12, 0.9), (28, 3.5, 0.6)), 53, 4),
    EP, Fx(reverb_s=1.5, reverb_wet=0.3, lowpass_hz=5000, dust=0.05))
pad_ambient = synth_part("pad_ambient_C", "ambient", 2, C_MAJOR, "pad", chord_hits(
    C_MAJOR, AMBIENT_PROGRESSION, ((0, 15.5, 1.0), (16, 15.5, 1.0)), 55, 4), PAD, Fx(reverb_s=3.0, reverb_wet=0.5))
arp_trance = synth_part("arp_trance_Am", "trance", 2, A_MINOR, "arp", arpeggio(
    A_MINOR, POP_MINOR, (0, 1, 2, 3, 4, 3, 2, 1), 1, 2, 57, 0.75), PLUCK,
    Fx(reverb_s=1.5, reverb_wet=0.2, echo_steps=3, echo_wet=0.35))
arp_synthwave = synth_part("arp_synthwave_Em", "synthwave", 2, E_MINOR, "arp", arpeggio(
    E_MINOR, I_VI, (0, 1, 2, 3, 2, 1), 2, 2, 52, 1.5), SQUARE_ARP,
    Fx(reverb_s=1.8, reverb_wet=0.25, echo_steps=3, echo_wet=0.3))
chords_reggaeton = synth_part("chords_reggaeton_Am", "reggaeton", 2, A_MINOR, "chords", chord_hits(
    A_MINOR, POP_MINOR, per_bar(((0, 1.5, 1.0), (3, 1.5, 0.8), (6, 1, 0.9), (8, 1.5, 1.0), (11, 1.5, 0.8),
                                 (14, 1, 0.9)), 2), 57, 3), PLUCK, Fx(reverb_s=1.0, reverb_wet=0.2))
pad_dnb = synth_part("pad_dnb_Dm", "dnb", 4, D_MINOR, "pad", chord_hits(
    D_MINOR, DNB_PROGRESSION, per_bar(((0, 15.5, 1.0),), 4), 57, 3), PAD, Fx(reverb_s=2.5, reverb_wet=0.4))
keys_boombap = synth_part("keys_boombap_Gm", "boombap", 2, G_MINOR, "keys", chord_hits(
    G_MINOR, I_VI, per_bar(((0, 5.5, 0.9), (6, 1.5, 0.7), (10, 5.5, 0.8)), 2), 55, 4),
    EP, Fx(reverb_s=1.2, reverb_wet=0.25, lowpass_hz=4500))
bell_trap = synth_part("bell_trap_Cm", "trap", 2, C_MINOR, "keys", melody(C_MINOR, (
    (0, 2, 7), (3, 2, 9), (6, 2, 11), (8, 4, 10), (12, 2, 9), (14, 2, 8),
    (16, 2, 5), (19, 2, 7), (22, 2, 9), (24, 6, 8), (30, 2, 6)), 4), BELL,
    Fx(reverb_s=2.0, reverb_wet=0.3, echo_steps=3, echo_wet=0.3))
