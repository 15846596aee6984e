"""Tracker modules (MOD/XM/S3M/IT from Debian game-data packages) at every tempo, with a known tempo.

libopenmpt replays each subsong with the tempo factor tau; the tempo is read from what it plays
(speed and tempo per row), and the excerpt is cut at the same rows in every version, so the
versions hold exactly the same music. Whether that tempo is trustworthy (no tempo changes, four
rows a beat, a plausible BPM) is recorded as ``bpm_reliable``.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

import librosa
import numpy as np

from scripts.corpus.openmpt import RENDER_SR, OpenMpt, RowTiming, render_rows
from scripts.corpus.output import EXCERPT_SECONDS, SAMPLE_RATE, TAUS, write_flac
from scripts.corpus.real_material import PEAK_TARGET, fade, real_split, slug, split_group
from scripts.corpus.records import cached_records, run_parallel, write_manifest

LEAD_SECONDS = 8.0  # excerpt start after the song start, as for the corpus's game music
ROWS_PER_BEAT = 4  # the tracker convention: a row is a 16th note
PLAUSIBLE_BPM = (60.0, 200.0)  # outside, rows per beat is probably not 4 (double/half time)
MODULE_SUFFIXES = {".mod", ".xm", ".s3m", ".it"}


@dataclass(frozen=True)
class ModuleSet:
    """A directory of tracker modules from one Debian package, with its licence."""

    source: str
    directory: Path
    licence: str


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


def cut_versions(path: Path, subsong: int, audio_1: np.ndarray, timing: RowTiming,
                 rows: tuple[int, int]) -> tuple[dict[float, np.ndarray], dict[float, tuple[float, float]]]:
    """Per tau: the excerpt from row ``rows[0]`` up to row ``rows[1]``, 16 kHz mono, and its (start, end) in s.

    ``audio_1`` and ``timing`` are the tau = 1 render; every other tau is rendered just long enough,
    and must reach the same (order, row) at the excerpt's end, or its rows did not follow tau 1's.
    """
    first, last = rows
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
    return signals, cuts


def build_module_piece(item: tuple[ModuleSet, Path, int, str], out: Path) -> list[dict]:
    """Render one module subsong at every tau, cut at the excerpt's rows, with a shared gain."""
    module_set, path, subsong, piece_id = item
    highlight = rows_per_beat_highlight(path)
    audio_1, timing = render_rows(path, subsong, 1.0, LEAD_SECONDS + EXCERPT_SECONDS + 2.0)
    first, last = excerpt_rows(timing, ROWS_PER_BEAT)
    speed, tempo = int(timing.speeds[first]), int(timing.tempi[first])
    bpm = 6.0 * tempo / speed * 4 / ROWS_PER_BEAT  # 24 * tempo / (speed * rows per beat)
    changes = len(set(zip(timing.speeds[first:last], timing.tempi[first:last]))) > 1
    signals, cuts = cut_versions(path, subsong, audio_1, timing, (first, last))
    gain = min(1.0, PEAK_TARGET / max(float(np.abs(s).max()) for s in signals.values()))
    bpm_mean_1 = (last - first) / ROWS_PER_BEAT / ((cuts[1.0][1] - cuts[1.0][0]) / 60)
    reliable = bool(not changes and abs(bpm_mean_1 / bpm - 1) < 0.01 and highlight in (None, ROWS_PER_BEAT)
                    and PLAUSIBLE_BPM[0] <= bpm <= PLAUSIBLE_BPM[1])  # a plain bool: it goes into JSON
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
            "split": real_split(piece_id)})
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
