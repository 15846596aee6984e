"""Build development material of REAL produced music under ``data/real`` (see ``docs/corpus.md``).

Why: the MIDI tempo corpus (``scripts/build_corpus.py``) is General MIDI through three soundfonts;
a model tuned only on it may learn the soundfonts. Three kinds of material stand closer to real
productions:

1. ``--trackers``: tracker modules (MOD/XM/S3M/IT from Debian game-data packages) re-rendered by
   libopenmpt (openmpt123's library) with the tempo factor tau, which scales the tick length, so
   the same samples play at the same pitch, faster or slower: a true tempo change of produced
   (sample-based) music, with a known tempo read from what libopenmpt plays (speed and tempo per
   row). ``manifest.jsonl``.
2. ``--productions``: SuperTuxKart and Wesnoth soundtracks (mixed, mastered recordings), two 30 s
   excerpts per track, tempo unknown: distractors and level/spectrum statistics.
   ``distractors.jsonl`` (``bpm`` null, so NOT for ``engine.training.corpus.load_manifest``).
3. ``--mixed``: the MIDI corpus passed through a seeded per-piece effect chain (EQ, bus
   compression, reverb, Haas/mid-side width folded back to mono), the same chain for every version
   of a piece, so renders sound more produced while the tempo ratios stay exact.
   ``mixed/manifest.jsonl``.

Everything is resumable: a piece whose ``records.jsonl`` exists is not built again, and the
manifests are rewritten at the end of every run from those records::

    nice -n 10 .venv/bin/python scripts/build_real_corpus.py --trackers --productions
    nice -n 10 .venv/bin/python scripts/build_real_corpus.py --mixed   # after data/corpus exists
"""

from __future__ import annotations

import argparse
import ctypes
import fnmatch
import hashlib
import json
import math
import os
import re
import shutil
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

# librosa's numba functions are cached next to the installed package; on the dev machine that cache
# crashed `onset_detect`/`beat_track` with a segfault, a private cache directory does not.
os.environ.setdefault("NUMBA_CACHE_DIR", "/tmp/numba-cache-build-real")

import librosa  # noqa: E402
import numpy as np  # noqa: E402
import scipy.signal  # noqa: E402
import soundfile as sf  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
SAMPLE_RATE = 16_000  # Hz, the MusiCNN front end's rate
RENDER_SR = 48_000  # libopenmpt renders here; resampled to 16 kHz with soxr (anti-aliased)
TAUS = (0.5, 0.7, 0.85, 1.0, 1.2, 1.4, 2.0)  # the MIDI corpus's tempo ratios
EXCERPT_SECONDS = 20.0  # musical length at the original tempo, as in the MIDI corpus
LEAD_SECONDS = 8.0  # excerpt start after the song start, as for the corpus's game music
HELDOUT_PERCENT = 30  # pieces whose sha1(split group) mod 100 is below this are held out
FADE_IN_SECONDS = 0.005  # notes sounding at the cut start would click
FADE_OUT_SECONDS = 0.01  # the same fade at the cut end for every version
PEAK_TARGET = 0.98  # a shared per-piece gain keeps the versions' relative level
PROBE_CHUNK = 16  # samples at RENDER_SR per libopenmpt read while timing rows: 0.33 ms resolution
ROWS_PER_BEAT = 4  # the tracker convention: a row is a 16th note
PLAUSIBLE_BPM = (60.0, 200.0)  # outside, rows per beat is probably not 4 (double/half time)
PRODUCTION_SECONDS = 30.0
PRODUCTION_AT = (0.25, 0.60)  # excerpt starts as fractions of the track length
MODULE_SUFFIXES = {".mod", ".xm", ".s3m", ".it"}


@dataclass(frozen=True)
class ModuleSet:
    """A directory of tracker modules from one Debian package, with its licence."""

    source: str
    directory: Path
    licence: str


# Pieces that share samples and patterns split together: several subsongs of different Tecnoballz
# "area" modules correlate 0.25-0.48 sample by sample at tau = 1; all other pairs stay below 0.15.
SPLIT_GROUPS = ((re.compile(r"^tecnoballz-area\d"), "tecnoballz-area"),)

# Licences as /usr/share/doc/<package>/copyright states them.
MODULE_SETS = (
    ModuleSet("tecnoballz", Path("/usr/share/games/tecnoballz/musics"), "GPL-3+ (TLK Games, tecnoballz-data)"),
    ModuleSet("frozen-bubble", Path("/usr/share/games/frozen-bubble/snd"), "GPL-2+ (fb-music-high)"),
    ModuleSet("pingus", Path("/usr/share/games/pingus/data/music"), "GPL-2+ (pingus-data)"),
    ModuleSet("freedroid", Path("/usr/share/games/freedroid/sound"), "GPL-2+ (freedroid-data)"),
    ModuleSet("bomberclone", Path("/usr/share/games/bomberclone/music"), "GPL-2 (bomberclone-data)"),
    ModuleSet("tuxmath", Path("/usr/share/tuxmath/sounds"), "public domain (tuxmath-data: game*.mod)"),
    ModuleSet("njam", Path("/usr/share/games/njam/data"), "GPL-2+ (njam-data)"),
)


@dataclass(frozen=True)
class ProductionPackage:
    """A Debian package whose ``music`` folder holds finished (mixed and mastered) tracks."""

    source: str
    package: str
    music_dir: str  # inside the package
    copyright_path: str  # inside the package
    licence: str  # for tracks no machine-readable copyright stanza names


PRODUCTION_PACKAGES = (
    ProductionPackage("supertuxkart", "supertuxkart-data", "usr/share/games/supertuxkart/data/music",
                      "usr/share/doc/supertuxkart-data/copyright", "GPL-3+"),
    ProductionPackage("wesnoth", "wesnoth-1.16-music", "usr/share/games/wesnoth/1.16/data/core/music",
                      "usr/share/doc/wesnoth-1.16-music/copyright", "GPL-2+"),
)


# ----------------------------------------------------------------------------------------------
# shared helpers


def stable_hash(text: str) -> int:
    """A hash that, unlike ``hash()``, is the same in every process and run (as the MIDI corpus's)."""
    return int(hashlib.sha1(text.encode()).hexdigest()[:12], 16)


def split_group(piece_id: str) -> str:
    """The unit of the split: the piece, or the family of pieces that share material with it."""
    for pattern, group in SPLIT_GROUPS:
        if pattern.match(piece_id):
            return group
    return piece_id


def split_of(piece_id: str) -> str:
    """Whole pieces (families) go to one side, so no version of a held-out piece is seen in training."""
    return "heldout" if stable_hash(split_group(piece_id)) % 100 < HELDOUT_PERCENT else "train"


def slug(text: str) -> str:
    """A file-name-safe lower-case id part."""
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")


def fade(signal: np.ndarray) -> np.ndarray:
    """Short linear fades at both cut ends: the cut start may fall inside a sounding note."""
    out = signal.copy()
    n_in, n_out = int(FADE_IN_SECONDS * SAMPLE_RATE), int(FADE_OUT_SECONDS * SAMPLE_RATE)
    out[:n_in] *= np.linspace(0.0, 1.0, n_in, endpoint=False)
    out[len(out) - n_out:] *= np.linspace(1.0, 0.0, n_out)
    return out


def write_flac(path: Path, signal: np.ndarray) -> None:
    """16-bit mono FLAC, written to a temporary name first so a killed run leaves no partial file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.stem + ".part.flac")
    sf.write(tmp, np.clip(signal, -1.0, 1.0), SAMPLE_RATE, subtype="PCM_16", format="FLAC")
    tmp.replace(path)


def cached_records(piece_dir: Path, build) -> list[dict]:
    """The piece's records from ``records.jsonl``, or ``build()``'s, saved there once its audio exists.

    The records file is written last, so its presence means the piece is complete: this is what
    makes every step resumable.
    """
    records_path = piece_dir / "records.jsonl"
    if records_path.exists():
        return [json.loads(line) for line in records_path.read_text().splitlines()]
    records = build()
    piece_dir.mkdir(parents=True, exist_ok=True)
    records_path.write_text("".join(json.dumps(r) + "\n" for r in records))
    return records


def write_manifest(path: Path, records: list[dict]) -> None:
    """Rewrite a manifest, sorted by path, so reruns produce identical bytes."""
    records = sorted(records, key=lambda r: r["path"])
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    hours = sum(r["duration_s"] for r in records) / 3600
    print(f"{path}: {len(records)} files, {len({r['piece_id'] for r in records})} pieces, {hours:.2f} h", flush=True)


def run_parallel(function, items: list, jobs: int) -> list:
    """``function`` over ``items``, in ``jobs`` processes; one process runs in this one (easier to debug)."""
    if jobs <= 1:
        return [function(item) for item in items]
    with ProcessPoolExecutor(jobs) as pool:
        return list(pool.map(function, items))


# ----------------------------------------------------------------------------------------------
# 1. tracker modules


def libopenmpt() -> ctypes.CDLL:
    """The library openmpt123 plays with; its C API also reports the speed, tempo and row being played."""
    lib = ctypes.CDLL("libopenmpt.so.0")
    lib.openmpt_module_create_from_memory2.restype = ctypes.c_void_p
    lib.openmpt_module_create_from_memory2.argtypes = [
        ctypes.c_void_p, ctypes.c_size_t, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p,
        ctypes.POINTER(ctypes.c_int), ctypes.c_void_p, ctypes.c_void_p]
    for name in ("get_current_speed", "get_current_tempo", "get_current_row", "get_current_order",
                 "get_num_subsongs"):
        getattr(lib, f"openmpt_module_{name}").restype = ctypes.c_int32
        getattr(lib, f"openmpt_module_{name}").argtypes = [ctypes.c_void_p]
    lib.openmpt_module_get_duration_seconds.restype = ctypes.c_double
    lib.openmpt_module_get_duration_seconds.argtypes = [ctypes.c_void_p]
    lib.openmpt_module_select_subsong.argtypes = [ctypes.c_void_p, ctypes.c_int32]
    lib.openmpt_module_ctl_set_floatingpoint.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_double]
    lib.openmpt_module_read_float_stereo.restype = ctypes.c_size_t
    lib.openmpt_module_read_float_stereo.argtypes = [ctypes.c_void_p, ctypes.c_int32, ctypes.c_size_t,
                                                     ctypes.c_void_p, ctypes.c_void_p]  # float buffers
    lib.openmpt_module_destroy.argtypes = [ctypes.c_void_p]
    return lib


class OpenMpt:
    """One loaded module (one subsong, one tempo factor) in libopenmpt, freed on exit."""

    def __init__(self, path: Path, subsong: int = 0, tau: float = 1.0):
        self.lib = libopenmpt()
        self.data = path.read_bytes()
        error = ctypes.c_int(0)
        silent = ctypes.cast(self.lib.openmpt_log_func_silent, ctypes.c_void_p)
        self.mod = self.lib.openmpt_module_create_from_memory2(
            self.data, len(self.data), silent, None, None, None, ctypes.byref(error), None, None)
        if not self.mod:
            raise ValueError(f"libopenmpt cannot load {path} (error {error.value})")
        self.lib.openmpt_module_select_subsong(self.mod, subsong)
        self.lib.openmpt_module_ctl_set_floatingpoint(self.mod, b"play.tempo_factor", tau)

    def __enter__(self) -> OpenMpt:
        return self

    def __exit__(self, *exc) -> None:
        self.lib.openmpt_module_destroy(self.mod)

    def call(self, name: str):
        """``openmpt_module_<name>(module)``: the getters that take only the module."""
        return getattr(self.lib, f"openmpt_module_{name}")(self.mod)


@dataclass(frozen=True)
class RowTiming:
    """Rows in playing order: start time (s, at the probed tau), order, row, speed and tempo."""

    starts: np.ndarray
    orders: np.ndarray
    rows: np.ndarray
    speeds: np.ndarray
    tempi: np.ndarray


def render_rows(path: Path, subsong: int, tau: float, seconds: float) -> tuple[np.ndarray, RowTiming]:
    """Mono audio at RENDER_SR for the first ``seconds`` at tempo factor ``tau``, and every row's timing.

    Reading PROBE_CHUNK samples at a time and noting where (order, row) changes gives each row's
    start to 0.33 ms, including everything that stretches rows (pattern delays, speed and tempo
    effects anywhere in the song); the speed and tempo are those in effect on that row. The audio
    equals openmpt123's (waveform correlation 1.000 at tau 0.5, 1, 2); openmpt123 itself is not
    used because its ``--tempo`` rounds the factor to a step of 2^(1/24) (0.7 plays at 0.7071,
    1.2 at 1.1892).
    """
    n_chunks = int(seconds * RENDER_SR / PROBE_CHUNK)
    stereo = np.zeros((2, n_chunks * PROBE_CHUNK), dtype=np.float32)
    step = PROBE_CHUNK * stereo.itemsize
    starts, orders, rows, speeds, tempi = [], [], [], [], []
    last = None
    with OpenMpt(path, subsong, tau) as mod:
        read = mod.lib.openmpt_module_read_float_stereo
        order, row = mod.lib.openmpt_module_get_current_order, mod.lib.openmpt_module_get_current_row
        left, right, handle = stereo[0].ctypes.data, stereo[1].ctypes.data, mod.mod
        for chunk in range(n_chunks):
            if read(handle, RENDER_SR, PROBE_CHUNK, left + chunk * step, right + chunk * step) == 0:
                break
            position = (order(handle), row(handle))
            if position != last:
                last = position
                starts.append(chunk * PROBE_CHUNK / RENDER_SR)
                orders.append(position[0])
                rows.append(position[1])
                speeds.append(mod.call("get_current_speed"))
                tempi.append(mod.call("get_current_tempo"))
    timing = RowTiming(np.array(starts), np.array(orders), np.array(rows), np.array(speeds), np.array(tempi))
    return stereo.mean(axis=0), timing


def rows_per_beat_highlight(path: Path) -> int | None:
    """An IT file's rows-per-beat highlight (header byte 0x1E); other formats store none."""
    header = path.read_bytes()[:0x20]
    if path.suffix.lower() == ".it" and header[:4] == b"IMPM" and header[0x1E]:
        return header[0x1E]
    return None


def module_pieces() -> list[tuple[ModuleSet, Path, int, str]]:
    """(set, file, subsong, piece_id) for every subsong long enough for a 20 s excerpt.

    Tecnoballz packs several tunes into one MOD as subsongs: each is a piece of its own.
    """
    pieces = []
    for module_set in MODULE_SETS:
        for path in sorted(module_set.directory.iterdir()):
            if path.suffix.lower() not in MODULE_SUFFIXES:
                continue
            with OpenMpt(path) as mod:
                n_subsongs = mod.call("get_num_subsongs")
            for subsong in range(n_subsongs):
                with OpenMpt(path, subsong) as mod:
                    duration = mod.lib.openmpt_module_get_duration_seconds(mod.mod)
                if duration < EXCERPT_SECONDS + 2.0:
                    continue
                suffix = f"-s{subsong}" if n_subsongs > 1 else ""
                pieces.append((module_set, path, subsong, f"{module_set.source}-{slug(path.stem)}{suffix}"))
    return pieces


def excerpt_rows(timing: RowTiming, rows_per_beat: int) -> tuple[int, int]:
    """Indices (in playing order) of the excerpt's first row and of the row just after it.

    The start is the first beat row (row number a multiple of ``rows_per_beat``) at or after
    LEAD_SECONDS, earlier for short songs; the end is the first row at or after 20 s later.
    """
    lead = min(LEAD_SECONDS, timing.starts[-1] - EXCERPT_SECONDS - 0.5)
    candidates = np.flatnonzero((timing.starts >= lead) & (timing.rows % rows_per_beat == 0))
    if lead < 0 or len(candidates) == 0:
        raise ValueError("song too short for the excerpt")
    first = int(candidates[0])
    last = int(np.searchsorted(timing.starts, timing.starts[first] + EXCERPT_SECONDS))
    if last >= len(timing.starts):
        raise ValueError("song too short for the excerpt")
    return first, last


def librosa_bpm(signal: np.ndarray) -> float:
    """librosa's beat-tracker tempo: only a check, its prior pulls towards 120 BPM (docs/corpus.md)."""
    tempo, _ = librosa.beat.beat_track(y=signal, sr=SAMPLE_RATE)
    return float(np.atleast_1d(tempo)[0])


def tempo_agreement(reference: float, estimate: float) -> str:
    """How a beat-tracker estimate relates to the row-derived tempo: same, double, half, 3:2... or off."""
    for name, ratio in (("same", 1.0), ("double", 2.0), ("half", 0.5), ("3:2", 1.5), ("2:3", 2 / 3)):
        if abs(estimate / (reference * ratio) - 1.0) < 0.04:
            return name
    return "off"


def build_module_piece(item: tuple[ModuleSet, Path, int, str], out: Path) -> list[dict]:
    """Render one module subsong at every tau, cut at the excerpt's rows, with a shared gain."""
    module_set, path, subsong, piece_id = item
    highlight = rows_per_beat_highlight(path)
    audio_1, timing = render_rows(path, subsong, 1.0, LEAD_SECONDS + EXCERPT_SECONDS + 2.0)
    first, last = excerpt_rows(timing, ROWS_PER_BEAT)
    speed, tempo = int(timing.speeds[first]), int(timing.tempi[first])
    bpm = 6.0 * tempo / speed * 4 / ROWS_PER_BEAT  # 24 * tempo / (speed * rows per beat)
    changes = len(set(zip(timing.speeds[first:last], timing.tempi[first:last]))) > 1
    cuts, signals = {}, {}
    for tau in TAUS:
        seconds = timing.starts[last] / tau + 0.5
        audio, timed = (audio_1, timing) if tau == 1.0 else render_rows(path, subsong, tau, seconds)
        if (len(timed.rows) <= last
                or (timed.orders[last], timed.rows[last]) != (timing.orders[last], timing.rows[last])):
            raise ValueError(f"rows at tau {tau} do not follow those at tau 1")
        start, end = timed.starts[first], timed.starts[last]
        cut = audio[round(start * RENDER_SR):round(end * RENDER_SR)]
        signals[tau] = librosa.resample(cut, orig_sr=RENDER_SR, target_sr=SAMPLE_RATE, res_type="soxr_hq")
        cuts[tau] = (start, end)
    gain = min(1.0, PEAK_TARGET / max(float(np.abs(s).max()) for s in signals.values()))
    bpm_mean_1 = (last - first) / ROWS_PER_BEAT / ((cuts[1.0][1] - cuts[1.0][0]) / 60)
    reliable = (not changes and abs(bpm_mean_1 / bpm - 1) < 0.01 and highlight in (None, ROWS_PER_BEAT)
                and PLAUSIBLE_BPM[0] <= bpm <= PLAUSIBLE_BPM[1])
    check = librosa_bpm(signals[1.0])
    print(f"{piece_id}: speed {speed} tempo {tempo} -> {bpm:.1f} BPM (mean {bpm_mean_1:.1f}), librosa {check:.1f} "
          f"({tempo_agreement(bpm, check)}), reliable={reliable}", flush=True)
    records = []
    for tau in TAUS:
        name = f"trackers/{piece_id}/openmpt_tau{tau:.2f}.flac"
        write_flac(out / name, fade(signals[tau] * gain))
        start, end = cuts[tau]
        records.append({
            "path": name, "piece_id": piece_id, "source": module_set.source, "soundfont": "openmpt",
            "tau": tau, "bpm": round(bpm * tau, 3),
            "bpm_mean": round((last - first) / ROWS_PER_BEAT / ((end - start) / 60), 3),
            "tau_effective": round((cuts[1.0][1] - cuts[1.0][0]) / (end - start), 5), "bpm_reliable": reliable,
            "tempo_changes": changes, "speed": speed, "tempo": tempo,
            "rows_per_beat": ROWS_PER_BEAT, "rows_per_beat_highlight": highlight,
            "bpm_librosa_tau1": round(check, 1), "librosa_agreement": tempo_agreement(bpm, check),
            "style": f"tracker-{path.suffix.lower().lstrip('.')}", "module": path.name, "subsong": subsong,
            "duration_s": round(len(signals[tau]) / SAMPLE_RATE, 4), "excerpt_start_s": round(start, 4),
            "excerpt_rows": last - first, "licence": module_set.licence, "split_group": split_group(piece_id),
            "split": split_of(piece_id)})
    return records


def tracker_piece(args: tuple[tuple[ModuleSet, Path, int, str], Path]) -> list[dict]:
    """One module piece's records, built unless its ``records.jsonl`` exists (a worker function)."""
    item, out = args
    try:
        return cached_records(out / "trackers" / item[3], lambda: build_module_piece(item, out))
    except (ValueError, subprocess.CalledProcessError) as error:
        print(f"{item[3]}: skipped ({error})", flush=True)
        return []


def build_trackers(out: Path, jobs: int) -> None:
    """Every module subsong at every tau; ``manifest.jsonl`` rewritten from all pieces' records."""
    pieces = module_pieces()
    print(f"{len(pieces)} module pieces", flush=True)
    results = run_parallel(tracker_piece, [(item, out) for item in pieces], jobs)
    write_manifest(out / "manifest.jsonl", [r for records in results for r in records])


# ----------------------------------------------------------------------------------------------
# 2. productions


def debian_licences(copyright_text: str) -> list[tuple[list[str], str]]:
    """(file globs, licence) per stanza of a machine-readable (DEP-5) copyright file."""
    stanzas = []
    for block in re.split(r"\n\s*\n", copyright_text):
        files = re.search(r"^Files:(.*(?:\n[ \t].*)*)", block, re.M)
        licence = re.search(r"^License:[ \t]*(\S.*)$", block, re.M)
        if files and licence:
            stanzas.append((files.group(1).split(), licence.group(1).strip()))
    return stanzas


def licence_of(relative: str, stanzas: list[tuple[list[str], str]], fallback: str) -> str:
    """The licence of the last stanza whose globs match (DEP-5: later, more specific stanzas win)."""
    matching = [licence for globs, licence in stanzas if any(fnmatch.fnmatch(relative, g) for g in globs)]
    return matching[-1] if matching else fallback


def fast_variants(music_dir: Path) -> dict[str, str]:
    """SuperTuxKart's ``*.music`` files name a faster version of a track (last lap): fast -> normal."""
    variants = {}
    for path in music_dir.glob("*.music"):
        attributes = ET.parse(path).getroot().attrib
        if attributes.get("fast-filename"):
            variants[attributes["fast-filename"]] = attributes["file"]
    return variants


def extract_music(package: ProductionPackage, work: Path) -> Path:
    """Download the .deb and extract only its music folder and copyright file into ``work``."""
    work.mkdir(parents=True, exist_ok=True)
    subprocess.run(["apt-get", "download", package.package], cwd=work, check=True)
    deb = next(work.glob(f"{package.package}_*.deb"))
    tree = work / "tree"
    tree.mkdir(exist_ok=True)
    dpkg = subprocess.Popen(["dpkg-deb", "--fsys-tarfile", str(deb)], stdout=subprocess.PIPE)
    subprocess.run(["tar", "-x", "-C", str(tree), "--wildcards", "*/music/*", f"./{package.copyright_path}"],
                   stdin=dpkg.stdout, check=True)
    dpkg.wait()
    deb.unlink()
    return tree


def build_production_package(package: ProductionPackage, out: Path, work: Path) -> list[dict]:
    """Two 30 s mono 16 kHz excerpts (at 25 % and 60 % of the length) of every track of a package.

    A SuperTuxKart fast (last-lap) version shares the piece_id of its normal version, so both land
    on the same side of the split.
    """
    tree = extract_music(package, work)
    music_dir = tree / package.music_dir
    stanzas = debian_licences((tree / package.copyright_path).read_text())
    fast_of = fast_variants(music_dir)
    records = []
    for track in sorted(music_dir.glob("*.ogg")):
        base = fast_of.get(track.name, track.name)
        piece_id = f"{package.source}-{slug(Path(base).stem)}"
        length = sf.info(str(track)).duration
        if length < PRODUCTION_SECONDS + 1.0:
            continue
        licence = licence_of(f"data/music/{base}", stanzas, package.licence)  # a fast version: its original's
        for at in PRODUCTION_AT:
            start = min(at * length, length - PRODUCTION_SECONDS)
            signal, _ = librosa.load(track, sr=SAMPLE_RATE, mono=True, offset=start, duration=PRODUCTION_SECONDS,
                                     res_type="soxr_hq")
            name = f"productions/{package.source}/{slug(track.stem)}_at{round(at * 100)}.flac"
            write_flac(out / name, fade(signal))
            records.append({
                "path": name, "piece_id": piece_id, "source": package.source, "soundfont": "production",
                "tau": 1.0, "bpm": None, "variant": "fast" if track.name in fast_of else "normal",
                "style": "game-soundtrack", "track": track.name, "track_duration_s": round(length, 3),
                "duration_s": round(len(signal) / SAMPLE_RATE, 4), "excerpt_start_s": round(start, 3),
                "licence": f"{licence} ({package.package})", "split": split_of(piece_id)})
    shutil.rmtree(work)
    return records


def build_productions(out: Path, work: Path) -> None:
    """Both soundtrack packages; ``distractors.jsonl`` rewritten from their records."""
    records = []
    for package in PRODUCTION_PACKAGES:
        records += cached_records(out / "productions" / package.source,
                                  lambda p=package: build_production_package(p, out, work / p.source))
    write_manifest(out / "distractors.jsonl", records)


# ----------------------------------------------------------------------------------------------
# 3. mixed MIDI renders


def log_uniform(rng: np.random.Generator, low: float, high: float) -> float:
    """Frequencies and times are drawn evenly on a log scale, as they are perceived."""
    return float(math.exp(rng.uniform(math.log(low), math.log(high))))


def effect_chain(piece_id: str, reference_rms_db: float) -> dict:
    """The piece's effect parameters, seeded by its id: every version of a piece gets the same chain.

    The compressor threshold is set relative to the level of the piece's reference version (all
    versions of a piece share one level in the corpus), so that every piece is compressed, loud
    or quiet; it is then a fixed dBFS value for all versions.
    """
    rng = np.random.default_rng(stable_hash("mix:" + piece_id))
    ratio = rng.uniform(3.0, 6.0)
    threshold = reference_rms_db + rng.uniform(-10.0, -2.0)
    return {
        "chain": f"mix{stable_hash('mix:' + piece_id) % 10_000:04d}",
        "low_shelf": {"hz": round(log_uniform(rng, 80, 250), 1), "db": round(rng.uniform(-4, 6), 2)},
        "peak": {"hz": round(log_uniform(rng, 300, 3000), 1), "db": round(rng.uniform(-6, 6), 2),
                 "q": round(rng.uniform(0.5, 2.0), 2)},
        "high_shelf": {"hz": round(log_uniform(rng, 2500, 6000), 1), "db": round(rng.uniform(-6, 4), 2)},
        "compressor": {"threshold_dbfs": round(threshold, 2), "ratio": round(ratio, 2),
                       "attack_ms": round(log_uniform(rng, 3, 30), 2),
                       "release_ms": round(log_uniform(rng, 50, 300), 1),
                       "makeup_db": round((1 - 1 / ratio) * (reference_rms_db - threshold), 2)},
        "reverb": {"rt60_s": round(rng.uniform(0.3, 1.5), 3), "wet": round(rng.uniform(0.10, 0.30), 3),
                   "predelay_ms": round(rng.uniform(5, 25), 1), "damping_hz": round(log_uniform(rng, 3000, 7000), 1),
                   "seed": int(rng.integers(2**31))},
        "width": {"haas_ms": round(rng.uniform(5, 25), 2), "haas_gain": round(rng.uniform(0.5, 1.0), 3)},
    }


def shelf_or_peak(kind: str, hz: float, db: float, q: float = 0.707) -> np.ndarray:
    """One RBJ-cookbook biquad (low shelf, peaking or high shelf) as a second-order section."""
    a_gain = 10 ** (db / 40)
    w0 = 2 * math.pi * hz / SAMPLE_RATE
    cos, alpha = math.cos(w0), math.sin(w0) / (2 * q)
    if kind == "peak":
        b = [1 + alpha * a_gain, -2 * cos, 1 - alpha * a_gain]
        a = [1 + alpha / a_gain, -2 * cos, 1 - alpha / a_gain]
    else:
        sign = 1 if kind == "low" else -1
        root = 2 * math.sqrt(a_gain) * alpha
        b = [a_gain * ((a_gain + 1) - sign * (a_gain - 1) * cos + root),
             sign * 2 * a_gain * ((a_gain - 1) - sign * (a_gain + 1) * cos),
             a_gain * ((a_gain + 1) - sign * (a_gain - 1) * cos - root)]
        a = [(a_gain + 1) + sign * (a_gain - 1) * cos + root,
             -sign * 2 * ((a_gain - 1) + sign * (a_gain + 1) * cos),
             (a_gain + 1) + sign * (a_gain - 1) * cos - root]
    return np.concatenate([np.array(b) / a[0], np.array(a) / a[0]])


def equalise(signal: np.ndarray, chain: dict) -> np.ndarray:
    """Low shelf, peaking band and high shelf in series."""
    sos = np.stack([shelf_or_peak("low", **chain["low_shelf"]), shelf_or_peak("peak", **chain["peak"]),
                    shelf_or_peak("high", **chain["high_shelf"])])
    return scipy.signal.sosfilt(sos, signal)


def compress(signal: np.ndarray, threshold_dbfs: float, ratio: float, attack_ms: float, release_ms: float,
             makeup_db: float) -> np.ndarray:
    """A feed-forward RMS bus compressor.

    The mean square is followed per 1 ms block (16 samples; a Python loop per sample would take
    seconds per file) by a one-pole smoother that rises with the attack and falls with the release
    time constant; the gain computed from it is interpolated back to every sample.
    """
    block = SAMPLE_RATE // 1000
    n_blocks = len(signal) // block + 1
    padded = np.pad(signal, (0, n_blocks * block - len(signal)))
    power = (padded.reshape(n_blocks, block) ** 2).mean(axis=1)
    attack, release = math.exp(-1 / attack_ms), math.exp(-1 / release_ms)  # per 1 ms block
    envelope = np.empty(n_blocks)
    level = power[0]
    for i, p in enumerate(power):
        coefficient = attack if p > level else release
        level = coefficient * level + (1 - coefficient) * p
        envelope[i] = level
    level_db = 10 * np.log10(envelope + 1e-12)
    gain_db = makeup_db - np.maximum(level_db - threshold_dbfs, 0.0) * (1 - 1 / ratio)
    centres = (np.arange(n_blocks) + 0.5) * block
    return signal * 10 ** (np.interp(np.arange(len(signal)), centres, gain_db) / 20)


def reverb_ir(rt60_s: float, predelay_ms: float, damping_hz: float, seed: int) -> np.ndarray:
    """A synthetic stereo room: two independent (decorrelated) noises, low-passed, decaying 60 dB in rt60_s."""
    rng = np.random.default_rng(seed)
    n = int(rt60_s * SAMPLE_RATE)
    t = np.arange(n) / SAMPLE_RATE
    noise = rng.standard_normal((2, n)) * np.exp(-6.9078 * t / rt60_s)  # ln(1000): -60 dB at rt60
    noise = scipy.signal.sosfilt(scipy.signal.butter(2, damping_hz, fs=SAMPLE_RATE, output="sos"), noise, axis=1)
    ir = np.concatenate([np.zeros((2, int(predelay_ms * SAMPLE_RATE / 1000))), noise], axis=1)
    return ir / np.sqrt((ir ** 2).sum(axis=1, keepdims=True))


def reverberate(signal: np.ndarray, ir: np.ndarray, wet: float) -> np.ndarray:
    """Stereo (2, n): dry plus the convolved tail, cut at the file's end (linear convolution, no wrap)."""
    tails = np.stack([scipy.signal.fftconvolve(signal, channel)[:len(signal)] for channel in ir])
    return (1 - wet) * signal + wet * tails


def widen_to_mono(stereo: np.ndarray, haas_ms: float, haas_gain: float) -> np.ndarray:
    """Haas widening of the right channel, mid/side, then the mono fold the analysis applies.

    The right channel is mixed with a copy delayed by ``haas_ms``; mid = (L + R) / 2 and
    side = (L - R) / 2. A width (side gain) control is left out on purpose: folding to mono keeps
    only mid, so what a widened mix leaves in mono is the comb filter of the Haas delay.
    """
    delay = int(haas_ms * SAMPLE_RATE / 1000)
    left, right = stereo
    haas = np.concatenate([np.zeros(delay), right[:len(right) - delay]])
    right = (right + haas_gain * haas) / (1 + haas_gain)
    return (left + right) / 2


def apply_chain(signal: np.ndarray, chain: dict, ir: np.ndarray) -> np.ndarray:
    """EQ -> bus compression -> stereo reverb -> width, folded to mono (before the shared gain)."""
    compressed = compress(equalise(signal, chain), **chain["compressor"])
    return widen_to_mono(reverberate(compressed, ir, chain["reverb"]["wet"]), **chain["width"])


def rms_db(signal: np.ndarray) -> float:
    """Level in dBFS."""
    return float(10 * np.log10(np.mean(signal ** 2) + 1e-12))


def build_mixed_piece(rows: list[dict], corpus: Path, out: Path) -> list[dict]:
    """All versions of one corpus piece through its chain, with one shared gain (relative levels kept).

    The gain gives the reference version back its input level (EQ cuts, the Haas sum and the
    reverb's dry/wet mix lower it by several dB), unless that would push a version above PEAK_TARGET.
    """
    started = time.time()
    piece_id = rows[0]["piece_id"]
    signals = [sf.read(corpus / r["path"], dtype="float64")[0] for r in rows]
    reference = min(range(len(rows)), key=lambda i: (abs(rows[i]["tau"] - 1.0), rows[i]["soundfont"]))
    chain = effect_chain(piece_id, rms_db(signals[reference]))
    reverb = {k: chain["reverb"][k] for k in ("rt60_s", "predelay_ms", "damping_hz", "seed")}
    ir = reverb_ir(**reverb)
    mixed = [apply_chain(s, chain, ir) for s in signals]
    level_gain = 10 ** ((rms_db(signals[reference]) - rms_db(mixed[reference])) / 20)
    gain = min(level_gain, PEAK_TARGET / max(float(np.abs(m).max()) for m in mixed))
    chain["output_gain_db"] = round(20 * math.log10(gain), 2)
    print(f"{piece_id}: {chain['chain']}, {len(rows)} files, {time.time() - started:.1f} s", flush=True)
    records = []
    for row, signal in zip(rows, mixed):
        name = f"mixed/{piece_id}/{Path(row['path']).name}"
        write_flac(out / name, signal * gain)
        records.append({**row, "path": name.removeprefix("mixed/"),
                        "source_path": row["path"], "soundfont": f"{row['soundfont']}+{chain['chain']}",
                        "source_soundfont": row["soundfont"], "effects": chain})
    return records


def mixed_piece(args: tuple[list[dict], Path, Path]) -> list[dict]:
    """One corpus piece's mixed records, built unless its ``records.jsonl`` exists (a worker function)."""
    rows, corpus, out = args
    return cached_records(out / "mixed" / rows[0]["piece_id"], lambda: build_mixed_piece(rows, corpus, out))


def build_mixed(corpus: Path, out: Path, jobs: int) -> None:
    """Every piece of the MIDI corpus mixed; ``mixed/manifest.jsonl`` keeps the corpus's split.

    Paths in that manifest are relative to ``mixed/``, so ``load_manifest(Path("data/real/mixed"))``
    reads it.
    """
    manifest = corpus / "manifest.jsonl"
    if not manifest.exists():
        sys.exit(f"{manifest} does not exist yet: build the MIDI corpus first")
    by_piece: dict[str, list[dict]] = {}
    for line in manifest.read_text().splitlines():
        row = json.loads(line)
        by_piece.setdefault(row["piece_id"], []).append(row)
    items = [(rows, corpus, out) for _, rows in sorted(by_piece.items())]
    print(f"{len(items)} corpus pieces to mix", flush=True)
    results = run_parallel(mixed_piece, items, jobs)
    write_manifest(out / "mixed" / "manifest.jsonl", [r for records in results for r in records])


# ----------------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--trackers", action="store_true", help="tracker modules at 7 tempi -> manifest.jsonl")
    parser.add_argument("--productions", action="store_true", help="game soundtracks -> distractors.jsonl")
    parser.add_argument("--mixed", action="store_true", help="the MIDI corpus through effect chains")
    parser.add_argument("--out", type=Path, default=Path("data/real"))
    parser.add_argument("--corpus", type=Path, default=Path("data/corpus"), help="the MIDI corpus (--mixed)")
    parser.add_argument("--work-dir", type=Path, default=Path("/tmp/real-work"), help="package downloads")
    parser.add_argument("--jobs", type=int, default=1)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if not (args.trackers or args.productions or args.mixed):
        sys.exit("nothing to do: give --trackers, --productions and/or --mixed")
    out = args.out if args.out.is_absolute() else REPO / args.out
    corpus = args.corpus if args.corpus.is_absolute() else REPO / args.corpus
    if args.trackers:
        build_trackers(out, args.jobs)
    if args.productions:
        build_productions(out, args.work_dir)
    if args.mixed:
        build_mixed(corpus, out, args.jobs)
    return 0


if __name__ == "__main__":
    sys.exit(main())
