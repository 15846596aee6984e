"""The drum kits, the drum patterns (16 steps a bar; see ``DrumPattern``) and the drum loops made of them."""

from __future__ import annotations

from scripts.demo.drums import DrumPattern, KickSpec, Kit, SnareSpec
from scripts.demo.parts import Fx, drum_part

HOUSE_KIT = Kit("house", KickSpec(150, 52, 0.03, 0.22, 0.3, 1.5), SnareSpec(200, 0.06, 0.12, (1500, 7000), 0.35))
TECHNO_KIT = Kit("techno", KickSpec(130, 48, 0.035, 0.18, 0.4, 2.5),
                 SnareSpec(220, 0.05, 0.1, (1500, 8000), 0.3), 1.15, 7000, 0.025, 1.4, 0.2)
BOOMBAP_KIT = Kit("boombap", KickSpec(110, 50, 0.04, 0.25, 0.5, 2.0), SnareSpec(185, 0.08, 0.18, (1000, 6000), 0.4),
                  0.9, 5000, 0.035, 0.9, 0.25)
DNB_KIT = Kit("dnb", KickSpec(170, 55, 0.02, 0.15, 0.6, 1.8, 0.35), SnareSpec(240, 0.05, 0.15, (2000, 9000), 0.35),
              1.1, 7000, 0.025, 0.7, 0.15)
ROCK_KIT = Kit("rock", KickSpec(120, 58, 0.03, 0.2, 0.5, 1.4), SnareSpec(190, 0.09, 0.2, (1000, 8000), 0.45),
               0.95, 5500, 0.05, 1.2, 0.3)
REGGAETON_KIT = Kit("reggaeton", KickSpec(140, 50, 0.03, 0.25, 0.3, 2.0), SnareSpec(300, 0.04, 0.1, (2000, 8000), 0.5))
TRAP_KIT = Kit("trap", KickSpec(90, 42, 0.05, 0.55, 0.4, 2.5, 1.2), SnareSpec(230, 0.05, 0.12, (1800, 8000), 0.3),
               1.2, 7500, 0.02, 1.0, 0.1)
FUNK_KIT = Kit("funk", KickSpec(115, 55, 0.035, 0.2, 0.5, 1.6, 0.45), SnareSpec(200, 0.07, 0.15, (1200, 7000), 0.45),
               1.0, 6000, 0.03, 0.8, 0.2)

# ---- drum patterns (16 steps a bar; see DrumPattern) -----------------------------------------

HOUSE_BAR = {"kick": "X...X...X...X...", "clap": "....X.......X...",
             "hat": "xo.oxo.oxo.oxo.o", "open_hat": "..x...x...x...x."}
HOUSE = DrumPattern((HOUSE_BAR, {**HOUSE_BAR, "clap": "....X.......X..o"}))
TECHNO = DrumPattern((
    {"kick": "X...X...X...X...", "hat": "oo.ooo.ooo.ooo.o", "open_hat": "..x...x...x...x.",
     "clap": "....x.......x...", "rim": "...x.....x....x."},
    {"kick": "X...X...X...X...", "hat": "oo.ooo.ooo.ooo.o", "open_hat": "..x...x...x...x.",
     "clap": "....x.......x...", "rim": "...x..x..x......"},
))
BOOMBAP = DrumPattern((
    {"kick": "X......x..X.....", "snare": "....X.......X...", "hat": "x.x.x.x.x.x.x.xo"},
    {"kick": "X.........X..x..", "snare": "....X..o....X...", "hat": "x.x.x.x.x.x.x...",
     "open_hat": "..............x."},
), swing=0.6)
LOFI = DrumPattern((
    {"kick": "X.......x.x.....", "snare": "....X.......X...", "hat": "x.xox.x.x.xox.x."},
    {"kick": "X......x..x..x..", "snare": "....X.......X..o", "hat": "x.xox.x.x.xox.x."},
), swing=0.62)
DNB_BREAK = DrumPattern((
    {"kick": "X.X.......XX....", "snare": "....X..o.o..X..o", "hat": "x.x.x.x.x.x.x.x.", "crash": "X..............."},
    {"kick": "X.X.......XX....", "snare": "....X..o.o..X..o", "hat": "x.x.x.x.x.x.x.x."},
    {"kick": "X.X.......X.....", "snare": "....X..o.o....X.", "hat": "x.x.x.x.x.x.x.x."},
    {"kick": "..XX......X.....", "snare": ".o..X..o.o..X..o", "hat": "x.x.x.x.x.x.x.x."},
))
DNB_TWOSTEP_BAR = {"kick": "X.........X.....", "snare": "....X.......X...", "hat": "x.x.x.x.x.x.x.xo"}
DNB_TWOSTEP = DrumPattern((DNB_TWOSTEP_BAR, DNB_TWOSTEP_BAR, DNB_TWOSTEP_BAR,
                           {"kick": "X.........X.X...", "snare": "....X..o....X.o.", "hat": "x.x.x.x.x.x.x...",
                            "open_hat": "..............x."}))
ROCK = DrumPattern((
    {"kick": "X.......X.X.....", "snare": "....X.......X...", "hat": "x.x.x.x.x.x.x.x.", "crash": "X..............."},
    {"kick": "X.......X.X.....", "snare": "....X.......X...", "hat": "x.x.x.x.x.x.x...",
     "tom_hi": "..............X.", "tom_lo": "...............X"},
))
DEMBOW_BAR = {"kick": "X...X...X...X...", "snare": "...X..X....X..X.", "hat": "x.x.x.x.x.x.x.x."}
DEMBOW = DrumPattern((DEMBOW_BAR, {**DEMBOW_BAR, "hat": "x.x.x.x.x.x.x.xo", "open_hat": "..............x."}))
TRAP = DrumPattern((
    {"kick": "X.....X...X.....", "clap": "........X.......", "snare": "........x.......",
     "hat": "x.x.x.x.x.3.x.x.", "open_hat": "......x........."},
    {"kick": "X.....X..X..X...", "clap": "........X.......", "snare": "........x.......",
     "hat": "x.x.x.x.x.x.2222"},
))
FUNK = DrumPattern((
    {"kick": "X.X.......X..X..", "snare": "....X..o.o.oX..o", "hat": "xoxoxox.xoxoxoxo",
     "open_hat": ".......x........"},
    {"kick": "X.X.......X..X..", "snare": "....X..o.o..X..o", "hat": "xoxoxox.xoxoxoxo",
     "open_hat": ".......x........"},
), swing=0.54)

house_groove = drum_part("house_groove", "house", 2, HOUSE, HOUSE_KIT)
techno_drums = drum_part("techno_drums", "techno", 2, TECHNO, TECHNO_KIT)
boombap_drums = drum_part("boombap_drums", "boombap", 2, BOOMBAP, BOOMBAP_KIT, Fx(lowpass_hz=7000))
lofi_drums = drum_part("lofi_drums", "lofi", 2, LOFI, BOOMBAP_KIT, Fx(lowpass_hz=4500, dust=0.08))
dnb_break = drum_part("dnb_break", "dnb", 4, DNB_BREAK, DNB_KIT)
dnb_twostep = drum_part("dnb_twostep", "dnb", 4, DNB_TWOSTEP, DNB_KIT)
rock_beat = drum_part("rock_beat", "rock", 2, ROCK, ROCK_KIT)
reggaeton_dembow = drum_part("reggaeton_dembow", "reggaeton", 2, DEMBOW, REGGAETON_KIT)
trap_drums = drum_part("trap_drums", "trap", 2, TRAP, TRAP_KIT)
funk_break = drum_part("funk_break", "breakbeat", 2, FUNK, FUNK_KIT, Fx(lowpass_hz=8000))
