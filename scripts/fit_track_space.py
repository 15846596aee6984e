"""Fit the track-vector standardisation on a varied corpus and write ``resources/track_space.safetensors``.

Usage::

    .venv/bin/python scripts/fit_track_space.py FOLDER_OR_MANIFEST... [--block-weight W]

Folders are searched for audio files; a ``manifest.jsonl`` (see scripts/build_corpus.py) contributes
its tau = 1 renders only, so no piece counts seven times. Statistics are over track-mean embeddings,
as that is what the track vector standardises.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import torch

from engine.analysis.pipeline import analyse_file
from engine.audio.decode import AUDIO_EXTENSIONS, AudioError
from engine.analysis.embedding import MusicnnEmbedder
from engine.models.track_space import DEFAULT_PATH, TrackSpace


def corpus_files(sources: list[Path]) -> list[Path]:
    files = []
    for src in sources:
        if src.is_dir():
            files += sorted(p for p in src.rglob("*") if p.suffix.lower() in AUDIO_EXTENSIONS)
        else:
            for line in src.read_text().splitlines():
                row = json.loads(line)
                if abs(row["tau"] - 1.0) < 1e-6:
                    files.append(src.parent / row["path"] if not Path(row["path"]).is_absolute() else Path(row["path"]))
    return files


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sources", nargs="+", type=Path)
    parser.add_argument("--block-weight", type=float, default=1.0)
    parser.add_argument("--out", type=Path, default=DEFAULT_PATH)
    args = parser.parse_args()
    torch.set_num_threads(2)
    embedder = MusicnnEmbedder()
    means, blocks = [], []
    files = corpus_files(args.sources)
    for i, path in enumerate(files):
        try:
            analysis = analyse_file(path, embedder)
            means.append(analysis.patches.mean(axis=0))
            blocks.append(analysis.tempo_block)
        except AudioError as e:
            print(f"skip {e}")
        if i % 50 == 0:
            print(f"{i}/{len(files)}")
    space = TrackSpace.fit(np.stack(means), np.stack(blocks), f"{embedder.id}/{embedder.version}", args.block_weight)
    space.save(args.out)
    print(f"wrote {args.out}: {len(means)} tracks, {space.musicnn_dim} of {embedder.dimension} channels vary")


if __name__ == "__main__":
    main()
