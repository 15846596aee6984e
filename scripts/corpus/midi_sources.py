"""The pieces of the MIDI corpus: OpenMSX and Planet Blupi game music, and grooves of the MMA library.

MMA grooves carry no tempo, key or chords of their own, so each is given a reproducible tempo,
progression and transposition from its name's hash, and its MIDI is generated once and kept:
MMA randomises timing on every run, and a rebuild must replay the same notes.
"""

from __future__ import annotations

import math
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

from scripts.corpus.output import stable_hash

OPENMSX_DIR = Path("/usr/share/games/openttd/baseset/openmsx")
BLUPI_DIR = Path("/usr/share/planetblupi/music")
MMA_LIB = Path("/usr/share/mma/lib")

# Licences as /usr/share/doc/<package>/copyright states them.
LICENCES = {
    "openmsx": "GPL-2.0 (OpenMSX 0.4.2, openttd-openmsx)",
    "planetblupi": "GPL-3+ (Planet Blupi music, planetblupi-music-midi)",
    "mma": "GPL-2+ (MMA groove library, mma; MIDI generated from it)",
}


# MMA grooves carry no default tempo; a name hint picks a plausible range (BPM), the groove's hash
# a tempo in it, so a rebuild picks the same one.
SLOW_HINT = re.compile(r"ballad|slow|bolero|lullaby|ambient|trip|blues|bald|waltz", re.I)
FAST_HINT = re.compile(
    r"bebop|bluegrass|dixie|polka|punk|ska|techno|house|dnb|dance|fast|march|twist|charleston"
    r"|samba|salsa|mambo|metal|hrk|disco|jive|quickstep",
    re.I,
)
TEMPO_RANGES = {"slow": (60.0, 90.0), "medium": (85.0, 135.0), "fast": (120.0, 170.0)}
PROGRESSIONS = (
    ("C", "Am", "F", "G7"),
    ("Dm7", "G7", "Cmaj7", "Cmaj7"),
    ("C", "F", "C", "G7"),
    ("Am", "F", "C", "G"),
)
# Intros, endings, fills and breaks ("FillA", "IntroB", "Ending2") and MMA's silent groove "None".
NOT_A_MAIN_GROOVE = re.compile(r"^none$|(intro|end|ending|fill|break)[a-d]{0,2}\d*$", re.I)
DEF_GROOVE = re.compile(r"^\s*DefGroove\s+(\S+)", re.I | re.M)


@dataclass(frozen=True)
class Piece:
    """One source of music; an MMA piece's MIDI is generated from ``groove`` on first use."""

    piece_id: str
    source: str  # "openmsx", "planetblupi" or "mma"
    midi_path: Path
    style: str  # MMA library file (e.g. "swing"), or "game-music"
    groove: str | None  # "stdlib/swing:SwingWalk" for MMA
    groove_bpm: float | None  # the tempo the MMA groove is generated at
    lead_seconds: float  # how far past the first note the excerpt starts (original tempo)

    @property
    def licence(self) -> str:
        return LICENCES[self.source]


def game_music_pieces() -> list[Piece]:
    """The OpenMSX and Planet Blupi MIDI files that are installed."""
    pieces = []
    for source, folder in (("openmsx", OPENMSX_DIR), ("planetblupi", BLUPI_DIR)):
        for path in sorted(folder.glob("*.mid")):
            pieces.append(Piece(f"{source}-{path.stem.lower()}", source, path, "game-music", None, None, 8.0))
    return pieces


def mma_grooves(count: int) -> list[tuple[str, str]]:
    """Up to ``count`` (library file, groove) pairs, spread over the library's style files.

    Takes the first main groove (no intro, ending, fill or break) of every style file, then the
    second of every file, and so on, so a small count still covers many styles.
    """
    per_file = []
    for path in sorted(MMA_LIB.rglob("*.mma")):
        names = [n for n in DEF_GROOVE.findall(path.read_text(errors="replace")) if not NOT_A_MAIN_GROOVE.search(n)]
        if names:
            per_file.append((path.relative_to(MMA_LIB).with_suffix("").as_posix(), list(dict.fromkeys(names))))
    chosen: list[tuple[str, str]] = []
    for rank in range(max((len(names) for _, names in per_file), default=0)):
        chosen.extend((lib_file, names[rank]) for lib_file, names in per_file if rank < len(names))
    return chosen[:count]


def groove_tempo(lib_file: str, groove: str) -> float:
    """A plausible, reproducible BPM for a groove (MMA grooves carry no default tempo)."""
    name = f"{lib_file}:{groove}"
    kind = "slow" if SLOW_HINT.search(name) else "fast" if FAST_HINT.search(name) else "medium"
    low, high = TEMPO_RANGES[kind]
    fraction = (stable_hash(name) % 1000) / 999
    return float(round(low * (high / low) ** fraction))  # log-uniform: tempo ratios, not differences, matter


def mma_pieces(count: int, out: Path) -> list[Piece]:
    """The chosen MMA grooves as pieces; their MIDI lives under ``out/midi/mma`` once generated."""
    pieces = []
    for lib_file, groove in mma_grooves(count):
        piece_id = "mma-" + re.sub(r"[^a-z0-9]+", "-", f"{lib_file}-{groove}".lower()).strip("-")
        pieces.append(
            Piece(
                piece_id,
                "mma",
                out / "midi" / "mma" / f"{piece_id}.mid",
                Path(lib_file).name,
                f"{lib_file}:{groove}",
                groove_tempo(lib_file, groove),
                2.0,
            )
        )
    return pieces


def generate_mma_midi(piece: Piece, excerpt_seconds: float, work: Path) -> None:
    """Run MMA once for a groove and keep its MIDI: MMA randomises timing on every run.

    Plays an 8-bar progression in a key chosen by the groove's hash, repeated until the excerpt
    and its lead-in fit even at 2 beats per bar.
    """
    assert piece.groove is not None and piece.groove_bpm is not None
    seconds_needed = piece.lead_seconds + excerpt_seconds + 4.0
    bars = 8 * math.ceil(seconds_needed * piece.groove_bpm / 60.0 / 2 / 8)
    chords = PROGRESSIONS[stable_hash(piece.groove) % len(PROGRESSIONS)]
    transpose = stable_hash(piece.groove + "key") % 12 - 5  # -5..+6 semitones
    lines = [f"Tempo {piece.groove_bpm:g}", f"Transpose {transpose}", f"Groove {piece.groove}"]
    lines += [chords[bar % 4] for bar in range(bars)]
    script = work / "mma" / f"{piece.piece_id}.mma"
    script.parent.mkdir(parents=True, exist_ok=True)
    script.write_text("\n".join(lines) + "\n")
    piece.midi_path.parent.mkdir(parents=True, exist_ok=True)
    partial = piece.midi_path.with_suffix(".partial.mid")
    result = subprocess.run(["mma", "-f", str(partial), str(script)], capture_output=True, text=True, cwd=script.parent)
    if result.returncode != 0 or not partial.exists():
        raise RuntimeError(f"mma failed: {(result.stdout + result.stderr).strip()[-300:]}")
    partial.replace(piece.midi_path)
