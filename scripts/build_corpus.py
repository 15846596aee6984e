"""Build a corpus of the SAME music at truly different tempi, rendered from MIDI.

Why MIDI: a phase-vocoder stretch leaves artefacts that move an embedding about as much as a 15 %
tempo change, so it cannot teach or test a tempo translation. A MIDI file can be played at any
tempo with the notes untouched: playing at tau times the tempo (tau = T'/T) divides every
``set_tempo`` value (microseconds per quarter note), hence every event time, by tau.

Sources (Debian packages, all offline; see ``docs/corpus.md``): the OpenTTD OpenMSX music set,
the Planet Blupi music and grooves of the MMA accompaniment library, each rendered with FluidSynth
through two of three General MIDI soundfonts::

    apt-get install -y fluidsynth fluid-soundfont-gm timgm6mb-soundfont \\
        musescore-general-soundfont-small openttd-openmsx planetblupi-music-midi mma
    .venv/bin/python scripts/build_corpus.py            # full build, resumable
    .venv/bin/python scripts/build_corpus.py --limit 4  # quick look

For every piece one excerpt of fixed musical length is cut in ticks (``--excerpt-seconds`` at the
original tempo), so every tempo version holds exactly the same notes. The versions of a piece are
written back to back into ONE MIDI file (at one fixed tempo, event times divided by tau), each
behind a GM System On reset and separated by a silent gap, and rendered with one FluidSynth call
per soundfont: loading a soundfont costs up to 1.3 s, more than synthesising a version. A slice
equals a render of that version alone (waveform correlation 1.000 with chorus and reverb off;
with them on only the free-running chorus LFO phase differs). The render is sliced at the
versions' exactly known times, so each file lasts its excerpt's duration divided by tau; the
notes still sounding at the musical end are cut there, with the same short fade for every
version.

Rendering happens at ``--render-sr`` (32 kHz) and is resampled to 16 kHz: FluidSynth interpolates
without an anti-alias filter, and rendering directly at 16 kHz folds cymbal energy above 8 kHz back
into the 5-7 kHz band (+4 dB measured on OpenMSX "busy_schedule"). At 32 kHz the folded energy
lands above 10 kHz and the resampler removes it.

Output, under ``--out`` (default ``data/corpus``): ``audio/<piece_id>/<soundfont>_tau<tau>.flac``
(16 kHz mono), ``midi/mma/<piece_id>.mid`` (each MMA groove is generated ONCE: MMA randomises
timing on every run) and ``manifest.jsonl`` (one JSON object per audio file, rewritten at the end
of every run from what exists on disk).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import re
import shutil
import subprocess
import sys
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path

import librosa
import mido
import numpy as np
import soundfile as sf

REPO = Path(__file__).resolve().parent.parent
SAMPLE_RATE = 16_000  # Hz, the MusiCNN front end's rate
DRUM_CHANNEL = 9  # General MIDI channel 10, counted from 0
GM_SYSTEM_ON = (0x7E, 0x7F, 0x09, 0x01)  # universal sysex: FluidSynth resets all voices and channels
ALL_SOUND_OFF = 120  # controller number
DEFAULT_TEMPO = 500_000  # microseconds per quarter note (120 BPM) when a file sets none
OUT_TICKS_PER_BEAT = 32_000  # 64000 ticks/s at 120 BPM: 16 µs, far below one audio sample at 32 kHz
FLUID_BLOCK_SAMPLES = 64  # FluidSynth plays MIDI events at the start of 64-sample blocks
SILENT_RMS = 1e-4  # below -80 dBFS a version is taken as a failed render and dropped
FADE_SECONDS = 0.01  # fade at the cut end, the same for every version

OPENMSX_DIR = Path("/usr/share/games/openttd/baseset/openmsx")
BLUPI_DIR = Path("/usr/share/planetblupi/music")
MMA_LIB = Path("/usr/share/mma/lib")

# Licences as /usr/share/doc/<package>/copyright states them.
LICENCES = {
    "openmsx": "GPL-2.0 (OpenMSX 0.4.2, openttd-openmsx)",
    "planetblupi": "GPL-3+ (Planet Blupi music, planetblupi-music-midi)",
    "mma": "GPL-2+ (MMA groove library, mma; MIDI generated from it)",
}


@dataclass(frozen=True)
class Soundfont:
    """A General MIDI soundfont the corpus renders with."""

    key: str
    path: Path
    licence: str


SOUNDFONTS = (
    Soundfont("fluidr3", Path("/usr/share/sounds/sf2/FluidR3_GM.sf2"), "MIT (fluid-soundfont-gm)"),
    Soundfont(
        "musescore",
        Path("/usr/share/sounds/sf3/MuseScore_General_Lite.sf3"),
        "MIT, parts PD/CC0 (musescore-general-soundfont-small)",
    ),
    Soundfont("timgm6mb", Path("/usr/share/sounds/sf2/TimGM6mb.sf2"), "GPL-2 (timgm6mb-soundfont)"),
)

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


@dataclass(frozen=True)
class Settings:
    """Everything a worker needs to turn a piece into audio files."""

    out: Path
    work: Path
    taus: tuple[float, ...]
    excerpt_seconds: float
    gap_seconds: float
    fonts_per_piece: int
    render_sr: int
    gain: float
    heldout_percent: int


@dataclass(frozen=True)
class Excerpt:
    """A piece cut to a fixed musical length, ready to be replayed at any tempo.

    ``prologue`` is the channel state set before the cut (programs, banks, controllers, sysex),
    replayed first; ``body`` holds (seconds from the cut at the original tempo, message) pairs,
    notes only if they start inside the cut. The tempo map is baked into those seconds.
    """

    prologue: tuple[mido.Message, ...]
    body: tuple[tuple[float, mido.Message], ...]
    start_seconds: float  # where the cut is in the original piece
    duration_seconds: float  # at the original tempo
    bpm_start: float  # quarter-note BPM at the cut
    bpm_mean: float  # quarter notes per minute over the whole excerpt
    tempo_changes: bool  # the tempo changes inside the excerpt
    piece_tempo_changes: bool  # the tempo changes anywhere in the piece
    time_signature: str
    has_drums: bool


def stable_hash(text: str) -> int:
    """A hash that is the same on every run and machine (``hash()`` is salted per process)."""
    return int(hashlib.sha1(text.encode()).hexdigest()[:12], 16)


def split_of(piece_id: str, heldout_percent: int) -> str:
    """Whole pieces go to one side, so no version or soundfont of a held-out piece is trained on."""
    return "heldout" if stable_hash(piece_id) % 100 < heldout_percent else "train"


# --------------------------------------------------------------------------- collecting pieces


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


def generate_mma_midi(piece: Piece, settings: Settings) -> None:
    """Run MMA once for a groove and keep its MIDI: MMA randomises timing on every run.

    Plays an 8-bar progression in a key chosen by the groove's hash, repeated until the excerpt
    and its lead-in fit even at 2 beats per bar.
    """
    assert piece.groove is not None and piece.groove_bpm is not None
    seconds_needed = piece.lead_seconds + settings.excerpt_seconds + 4.0
    bars = 8 * math.ceil(seconds_needed * piece.groove_bpm / 60.0 / 2 / 8)
    chords = PROGRESSIONS[stable_hash(piece.groove) % len(PROGRESSIONS)]
    transpose = stable_hash(piece.groove + "key") % 12 - 5  # -5..+6 semitones
    lines = [f"Tempo {piece.groove_bpm:g}", f"Transpose {transpose}", f"Groove {piece.groove}"]
    lines += [chords[bar % 4] for bar in range(bars)]
    script = settings.work / "mma" / f"{piece.piece_id}.mma"
    script.parent.mkdir(parents=True, exist_ok=True)
    script.write_text("\n".join(lines) + "\n")
    piece.midi_path.parent.mkdir(parents=True, exist_ok=True)
    partial = piece.midi_path.with_suffix(".partial.mid")
    result = subprocess.run(["mma", "-f", str(partial), str(script)], capture_output=True, text=True, cwd=script.parent)
    if result.returncode != 0 or not partial.exists():
        raise RuntimeError(f"mma failed: {(result.stdout + result.stderr).strip()[-300:]}")
    partial.replace(piece.midi_path)


# --------------------------------------------------------------------------- excerpts


def tempo_breakpoints(tempi: list[tuple[int, int]], ticks_per_beat: int) -> tuple[np.ndarray, np.ndarray]:
    """Piecewise-linear tick <-> seconds map, as ``np.interp`` breakpoints.

    ``tempi`` holds (absolute tick, µs per quarter note), sorted. A last breakpoint far away lets
    ``np.interp`` continue the final tempo instead of clamping.
    """
    ticks, seconds = [0], [0.0]
    tempo = DEFAULT_TEMPO
    for tick, new_tempo in tempi + [(10**9, DEFAULT_TEMPO)]:
        seconds.append(seconds[-1] + (tick - ticks[-1]) * tempo / ticks_per_beat / 1e6)
        ticks.append(tick)
        tempo = new_tempo
    return np.asarray(ticks, dtype=float), np.asarray(seconds)


def absolute_events(midi: mido.MidiFile) -> list[tuple[int, mido.Message | mido.MetaMessage]]:
    """All tracks merged into one list of (absolute tick, message), in playing order."""
    events, tick = [], 0
    for msg in mido.merge_tracks(midi.tracks):
        tick += msg.time
        events.append((tick, msg))
    return events


def is_note_on(msg: mido.Message | mido.MetaMessage) -> bool:
    return msg.type == "note_on" and msg.velocity > 0


def is_note_off(msg: mido.Message | mido.MetaMessage) -> bool:
    return msg.type == "note_off" or (msg.type == "note_on" and msg.velocity == 0)


def cut_excerpt(midi: mido.MidiFile, excerpt_seconds: float, lead_seconds: float) -> Excerpt:
    """Cut ``excerpt_seconds`` (at the original tempo) starting ``lead_seconds`` after the first note.

    The start snaps back to a beat so the excerpt begins on the grid; a piece too short for the
    lead-in starts earlier, and one shorter than the excerpt is taken whole.
    """
    tpb = midi.ticks_per_beat
    events = absolute_events(midi)
    tempi = [(tick, msg.tempo) for tick, msg in events if msg.type == "set_tempo"]
    bp_ticks, bp_secs = tempo_breakpoints(tempi, tpb)
    note_ticks = [tick for tick, msg in events if is_note_on(msg) or is_note_off(msg)]
    if not note_ticks:
        raise ValueError("no notes")
    first_s, last_s = np.interp([note_ticks[0], note_ticks[-1]], bp_ticks, bp_secs)
    start_s = max(first_s, min(first_s + lead_seconds, last_s - excerpt_seconds))
    start_tick = max(int(np.interp(start_s, bp_secs, bp_ticks)), note_ticks[0]) // tpb * tpb
    start_s = float(np.interp(start_tick, bp_ticks, bp_secs))
    end_tick = int(round(float(np.interp(min(start_s + excerpt_seconds, last_s), bp_secs, bp_ticks))))

    prologue, body, sounding = [], [], set()
    start_tempo, excerpt_tempi, numerator, denominator = DEFAULT_TEMPO, set(), 4, 4
    for tick, msg in events:
        if tick >= end_tick:
            break
        if msg.type == "set_tempo":
            if tick <= start_tick:
                start_tempo = msg.tempo
            else:
                excerpt_tempi.add(msg.tempo)
        elif msg.type == "time_signature" and tick <= start_tick:
            numerator, denominator = msg.numerator, msg.denominator
        elif msg.is_meta:
            continue
        elif tick < start_tick:
            if msg.type in ("program_change", "control_change", "pitchwheel", "sysex"):
                prologue.append(msg.copy(time=0))
        elif is_note_on(msg) or not is_note_off(msg):
            if is_note_on(msg):
                sounding.add((msg.channel, msg.note))
            body.append((tick, msg))
        elif (msg.channel, msg.note) in sounding:  # offs of notes begun before the cut are dropped
            sounding.discard((msg.channel, msg.note))
            body.append((tick, msg))

    seconds = np.interp([tick for tick, _ in body], bp_ticks, bp_secs) - start_s
    duration_s = float(np.interp(end_tick, bp_ticks, bp_secs)) - start_s
    return Excerpt(
        prologue=tuple(prologue),
        body=tuple((float(t), msg) for t, (_, msg) in zip(seconds, body)),
        start_seconds=start_s,
        duration_seconds=duration_s,
        bpm_start=mido.tempo2bpm(start_tempo),
        bpm_mean=60.0 * (end_tick - start_tick) / tpb / duration_s,
        tempo_changes=bool(excerpt_tempi - {start_tempo}),
        piece_tempo_changes=len({tempo for _, tempo in tempi}) > 1,
        time_signature=f"{numerator}/{denominator}",
        has_drums=any(is_note_on(msg) and msg.channel == DRUM_CHANNEL for _, msg in body),
    )


Layout = list[tuple[float, float]]  # per version: (start, duration) in seconds of the rendered audio


def versions_midi(
    excerpt: Excerpt, taus: tuple[float, ...], gap_seconds: float, render_sr: int
) -> tuple[mido.MidiFile, Layout]:
    """One type-0 MIDI file playing the excerpt at every tau, back to back.

    Playing at tau times the tempo divides every event time by tau, which is what dividing each
    ``set_tempo`` by tau does; the file is written at ONE fixed tempo with fine ticks instead,
    because FluidSynth's player re-anchors its clock to the current audio block at every tempo
    event and so drifts (6-21 ms after seven versions, measured). Each version starts on a
    FluidSynth audio block with a GM System On reset (voices and channels as in a render of its
    own) and the prologue; all sound is cut when it ends, and at least ``gap_seconds`` of silence
    lets the reverb die before the next one (-135 dBFS left after 2 s, measured).

    Returns the file and, per tau, (start, duration) in seconds of the rendered audio.
    """
    ticks_per_second = OUT_TICKS_PER_BEAT * 1e6 / DEFAULT_TEMPO
    block_seconds = FLUID_BLOCK_SAMPLES / render_sr
    timeline: list[tuple[int, mido.Message | mido.MetaMessage]] = [
        (0, mido.MetaMessage("set_tempo", tempo=DEFAULT_TEMPO))
    ]
    layout = []
    start = 0.0
    for tau in taus:
        duration = excerpt.duration_seconds / tau
        layout.append((start, duration))
        first = round(start * ticks_per_second)
        timeline.append((first, mido.Message("sysex", data=GM_SYSTEM_ON)))
        timeline.extend((first, msg) for msg in excerpt.prologue)
        timeline.extend((first + round(t / tau * ticks_per_second), msg) for t, msg in excerpt.body)
        end = round((start + duration) * ticks_per_second)
        timeline.extend((end, mido.Message("control_change", channel=ch, control=ALL_SOUND_OFF)) for ch in range(16))
        start = math.ceil((start + duration + gap_seconds) / block_seconds) * block_seconds

    track = mido.MidiTrack()
    previous = 0
    for tick, msg in timeline:  # already in time order: versions follow each other
        track.append(msg.copy(time=tick - previous))
        previous = tick
    track.append(mido.MetaMessage("end_of_track", time=round(gap_seconds * ticks_per_second)))
    midi = mido.MidiFile(type=0, ticks_per_beat=OUT_TICKS_PER_BEAT)
    midi.tracks.append(track)
    return midi, layout


# --------------------------------------------------------------------------- rendering


def fonts_for(piece_id: str, count: int) -> list[Soundfont]:
    """The soundfonts a piece is rendered with: a reproducible choice that rotates over pieces."""
    return sorted(SOUNDFONTS, key=lambda font: stable_hash(piece_id + font.key))[:count]


def audio_name(font: Soundfont, tau: float) -> str:
    return f"{font.key}_tau{tau:.2f}.flac"


def render_font(midi_path: Path, font: Soundfont, layout: Layout, settings: Settings, wav: Path) -> list[np.ndarray]:
    """Render the versions file once with a soundfont and return each version, 16 kHz mono.

    The whole render shares one gain (attenuated only if it would clip), so versions keep the same
    level relative to each other.
    """
    cmd = ["fluidsynth", "-ni", "-q", "-F", str(wav), "-T", "wav", "-O", "float",
           "-r", str(settings.render_sr), "-g", str(settings.gain), str(font.path), str(midi_path)]
    result = subprocess.run(cmd, capture_output=True, text=True)
    if result.returncode != 0 or not wav.exists():
        raise RuntimeError(f"fluidsynth failed: {(result.stdout + result.stderr).strip()[-300:]}")
    audio, sr = sf.read(wav, dtype="float32", always_2d=True)
    wav.unlink()
    mono = librosa.resample(audio.mean(axis=1), orig_sr=sr, target_sr=SAMPLE_RATE)
    last_start, last_duration = layout[-1]
    needed = int(round((last_start + last_duration) * SAMPLE_RATE))
    mono = np.pad(mono, (0, max(0, needed - len(mono))))  # FluidSynth may stop at the last note
    peak = float(np.abs(mono).max())
    if peak > 0.99:
        mono *= 0.99 / peak
    fade = np.hanning(2 * int(FADE_SECONDS * SAMPLE_RATE))[-int(FADE_SECONDS * SAMPLE_RATE):]
    versions = []
    for start, duration in layout:
        first = int(round(start * SAMPLE_RATE))
        clip = mono[first : first + int(round(duration * SAMPLE_RATE))].copy()
        clip[-len(fade):] *= fade
        versions.append(clip)
    return versions


def build_piece(piece: Piece, settings: Settings) -> tuple[list[dict], str]:
    """Make (or find) every audio file of a piece; returns its manifest records and a log line."""
    began = time.perf_counter()
    if piece.source == "mma" and not piece.midi_path.exists():
        generate_mma_midi(piece, settings)
    excerpt = cut_excerpt(mido.MidiFile(piece.midi_path), settings.excerpt_seconds, piece.lead_seconds)
    folder = settings.out / "audio" / piece.piece_id
    fonts = fonts_for(piece.piece_id, settings.fonts_per_piece)
    todo = [f for f in fonts if not all((folder / audio_name(f, tau)).exists() for tau in settings.taus)]
    rendered = 0
    if todo:
        midi, layout = versions_midi(excerpt, settings.taus, settings.gap_seconds, settings.render_sr)
        scratch = settings.work / "render" / piece.piece_id
        scratch.mkdir(parents=True, exist_ok=True)
        midi.save(scratch / "versions.mid")
        folder.mkdir(parents=True, exist_ok=True)
        for font in todo:
            clips = render_font(scratch / "versions.mid", font, layout, settings, scratch / f"{font.key}.wav")
            for tau, clip in zip(settings.taus, clips):
                if np.sqrt(np.mean(clip**2)) < SILENT_RMS:
                    continue  # a soundfont lacking an instrument; the manifest simply has no line for it
                path = folder / audio_name(font, tau)
                partial = path.with_suffix(".partial.flac")
                sf.write(partial, clip, SAMPLE_RATE, subtype="PCM_16", format="FLAC")
                partial.replace(path)
                rendered += 1
        shutil.rmtree(scratch)
    records = manifest_records(piece, excerpt, settings)
    seconds = time.perf_counter() - began
    return records, f"{piece.piece_id}: {rendered} rendered, {len(records)} on disk, {seconds:.1f} s"


def manifest_records(piece: Piece, excerpt: Excerpt, settings: Settings) -> list[dict]:
    """One record per audio file of the piece that exists on disk."""
    records = []
    for font in fonts_for(piece.piece_id, settings.fonts_per_piece):
        for tau in settings.taus:
            path = settings.out / "audio" / piece.piece_id / audio_name(font, tau)
            if not path.exists():
                continue
            records.append(
                {
                    "path": path.relative_to(settings.out).as_posix(),
                    "piece_id": piece.piece_id,
                    "source": piece.source,
                    "soundfont": font.key,
                    "tau": tau,
                    "bpm": round(excerpt.bpm_start * tau, 3),
                    "bpm_mean": round(excerpt.bpm_mean * tau, 3),
                    "tempo_changes": excerpt.tempo_changes,
                    "piece_tempo_changes": excerpt.piece_tempo_changes,
                    "time_signature": excerpt.time_signature,
                    "style": piece.style,
                    "groove": piece.groove,
                    "has_drums": excerpt.has_drums,
                    "duration_s": round(sf.info(path).frames / SAMPLE_RATE, 4),
                    "excerpt_start_s": round(excerpt.start_seconds, 3),
                    "licence": piece.licence,
                    "soundfont_licence": font.licence,
                    "split": split_of(piece.piece_id, settings.heldout_percent),
                }
            )
    return records


# --------------------------------------------------------------------------- driver


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=REPO / "data" / "corpus", help="corpus folder")
    parser.add_argument("--work-dir", type=Path, default=Path("/tmp/corpus-work"), help="scratch folder")
    parser.add_argument("--taus", default="0.5,0.7,0.85,1.0,1.2,1.4,2.0", help="tempo ratios T'/T, comma-separated")
    parser.add_argument("--excerpt-seconds", type=float, default=20.0, help="excerpt length at the original tempo")
    parser.add_argument("--gap-seconds", type=float, default=2.0, help="silence between versions in a render")
    parser.add_argument("--mma-grooves", type=int, default=275, help="how many MMA grooves (one per style file first)")
    parser.add_argument("--limit", type=int, default=None, help="build only the first N pieces (mixed sources)")
    parser.add_argument("--fonts-per-piece", type=int, default=2, choices=range(1, len(SOUNDFONTS) + 1))
    parser.add_argument("--render-sr", type=int, default=32_000, help="FluidSynth rate (Hz), resampled to 16 kHz")
    parser.add_argument("--gain", type=float, default=0.6, help="FluidSynth master gain")
    parser.add_argument("--heldout-percent", type=int, default=20)
    parser.add_argument("--jobs", type=int, default=2, help="pieces rendered in parallel")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    taus = tuple(sorted({float(t) for t in args.taus.split(",")}))
    if any(t <= 0 for t in taus):
        sys.exit("--taus must be positive ratios, e.g. 0.5,1.0,2.0")
    missing = [str(f.path) for f in SOUNDFONTS if not f.path.exists()]
    if missing or shutil.which("fluidsynth") is None or shutil.which("mma") is None:
        sys.exit(f"Missing fluidsynth, mma or soundfonts {' '.join(missing)}; see docs/corpus.md for the apt-get line.")
    settings = Settings(args.out, args.work_dir, taus, args.excerpt_seconds, args.gap_seconds,
                        args.fonts_per_piece, args.render_sr, args.gain, args.heldout_percent)
    pieces = sorted(game_music_pieces() + mma_pieces(args.mma_grooves, args.out), key=lambda p: stable_hash(p.piece_id))
    pieces = pieces[: args.limit]
    print(f"{len(pieces)} pieces x {len(taus)} tempi x {args.fonts_per_piece} soundfonts -> {args.out}", flush=True)

    began = time.perf_counter()
    records: list[dict] = []
    failed = 0
    with ProcessPoolExecutor(max_workers=args.jobs) as pool:
        futures = {pool.submit(build_piece, piece, settings): piece for piece in pieces}
        for done, future in enumerate(as_completed(futures), 1):
            try:
                piece_records, line = future.result()
                records.extend(piece_records)
            except Exception as error:  # a broken MIDI file or groove skips that piece only
                failed += 1
                line = f"{futures[future].piece_id}: SKIPPED ({type(error).__name__}: {error})"
            print(f"[{done}/{len(pieces)} {time.perf_counter() - began:.0f} s] {line}", flush=True)

    records.sort(key=lambda r: (r["piece_id"], r["soundfont"], r["tau"]))
    manifest = args.out / "manifest.jsonl"
    manifest.parent.mkdir(parents=True, exist_ok=True)
    manifest.write_text("".join(json.dumps(r) + "\n" for r in records))
    n_pieces = len({r["piece_id"] for r in records})
    heldout = len({r["piece_id"] for r in records if r["split"] == "heldout"})
    hours = sum(r["duration_s"] for r in records) / 3600
    print(f"{len(records)} files, {n_pieces} pieces ({heldout} held out), {hours:.1f} h of audio, "
          f"{failed} pieces skipped, {time.perf_counter() - began:.0f} s; manifest {manifest}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
