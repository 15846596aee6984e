"""Finished game soundtracks (SuperTuxKart, Wesnoth): excerpts of mixed, mastered recordings.

Their tempo is unknown, so they are distractors and level/spectrum statistics, not tempo
material: ``distractors.jsonl`` has ``bpm`` null and is NOT for ``engine.training.corpus.load_manifest``.
Only each package's music folder and copyright file are extracted from its .deb.
"""

from __future__ import annotations

import fnmatch
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

import librosa
import soundfile as sf

from scripts.corpus.output import SAMPLE_RATE, write_flac
from scripts.corpus.real_material import fade, real_split, slug
from scripts.corpus.records import cached_records, write_manifest

PRODUCTION_SECONDS = 30.0
PRODUCTION_AT = (0.25, 0.60)  # excerpt starts as fractions of the track length


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
                "licence": f"{licence} ({package.package})", "split": real_split(piece_id)})
    shutil.rmtree(work)
    return records


def build_productions(out: Path, work: Path) -> None:
    """Both soundtrack packages; ``distractors.jsonl`` rewritten from their records."""
    records = []
    for package in PRODUCTION_PACKAGES:
        records += cached_records(out / "productions" / package.source,
                                  lambda p=package: build_production_package(p, out, work / p.source))
    write_manifest(out / "distractors.jsonl", records)
