"""The mel-stretch signal, and fine-tuning the tempo translation on a library."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest
import torch

from sbf import cli
from engine.config import FINE_TUNE, MEL
from engine.analysis.mel import log_mel
from engine.training.finetune import NotEnoughFiles, fine_tune, split_heldout
from engine.library.facade import Library
from engine.training.mel_stretch import stretch_mel, stretched_example
from engine.models.translation import Translator, TranslatorConfig
from tests.conftest import click_track, tone, write

TINY = dataclasses.replace(FINE_TUNE, epochs=2, versions_per_file=1, max_patches=1, min_files=3,
                           heldout_taus=(0.7, 1.4))


def onset_frames(mel: np.ndarray) -> np.ndarray:
    """Frames where the summed log-mel energy crosses up through a level between noise and clicks."""
    energy = mel.sum(axis=1)
    level = np.median(energy) + 0.4 * (energy.max() - np.median(energy))
    return np.flatnonzero((energy[:-1] < level) & (energy[1:] >= level)) + 1


# Up to 1.5: from about 1.6 on, a click's one-frame peak can fall between the frames the spline reads
# (the paper's signal has no anti-aliasing), and the level detector below then misses it.
@pytest.mark.parametrize("tau", [0.5, 0.8, 1.0, 1.25, 1.5])
def test_stretch_length_and_click_onsets_move_by_one_over_tau(tau):
    mel = log_mel(click_track(100, 6.0, sr=MEL.sample_rate))
    stretched = stretch_mel(mel, tau)
    assert stretched.shape == (round(len(mel) / tau), MEL.n_mels) and stretched.dtype == np.float32
    before, after = onset_frames(mel), onset_frames(stretched)
    assert len(before) == len(after) == 9  # 100 BPM for 6 s, the click at 0 s has no rise
    np.testing.assert_allclose(after, before / tau, atol=1.0)
    assert stretched.min() >= 0.0  # the spline never leaves log10(1 + x)'s range
    with pytest.raises(ValueError, match="positive"):
        stretch_mel(mel, 0.0)


class RecordingEmbedder:
    """Stands in for MusiCNN: remembers the spectrogram it was given."""

    def embed_mel(self, frames: np.ndarray) -> np.ndarray:
        self.frames = frames
        return np.ones((1, 753), np.float32)


def test_a_stretch_shorter_than_a_patch_is_looped_in_the_mel_domain():
    mel = np.random.default_rng(0).random((80, MEL.n_mels)).astype(np.float32)
    emb = RecordingEmbedder()
    stretched_example(mel, 2.0, emb)
    assert emb.frames.shape == (MEL.patch_frames, MEL.n_mels)
    np.testing.assert_array_equal(emb.frames[40:80], emb.frames[:40])  # 40 stretched frames, repeated
    np.testing.assert_allclose(emb.frames[:40], stretch_mel(mel, 2.0))


def test_heldout_split_is_stable_and_never_empty():
    paths = [f"/samples/{i}.wav" for i in range(20)]
    train, held = split_heldout(paths, 0.2)
    assert len(held) == 4 and set(train) | set(held) == set(paths) and not set(train) & set(held)
    assert split_heldout(paths[::-1], 0.2)[1] == held  # by hash, not by order
    assert [len(s) for s in split_heldout(paths[:2], 0.2)] == [1, 1]


@pytest.fixture(scope="module")
def indexed(tmp_path_factory):
    """A four-file library and a 'shipped' translator with some learned movement in it."""
    root = tmp_path_factory.mktemp("ft")
    folder = root / "samples"
    for bpm, pitch in ((90, 1000.0), (110, 400.0), (130, 2500.0)):
        write(folder / f"clicks_{bpm}.wav", click_track(bpm, 3.5, pitch=pitch))
    write(folder / "pad.wav", tone(220, 3.5))
    lib = Library(root / "lib")
    list(lib.index(folder, workers=1))
    lib.close()
    translator = Translator.untrained(lib.space, TranslatorConfig("mlp", hidden=16))
    torch.manual_seed(1)
    for p in translator.net.parameters():
        torch.nn.init.normal_(p, std=0.01)
    shipped = root / "shipped.safetensors"
    translator.save(shipped)
    return root / "lib", shipped


@pytest.fixture
def library(indexed):
    lib_dir, shipped = indexed
    lib = Library(lib_dir, shipped_translator=shipped)
    yield lib
    lib.reset_translator()
    lib.close()


def same_translation(a: Translator, b: Translator, space) -> bool:
    v = np.random.default_rng(3).standard_normal((5, space.dimension)).astype(np.float32)
    return np.allclose(a(v, 1.3), b(v, 1.3), atol=1e-6)


def test_fine_tune_writes_the_library_file_and_never_the_shipped_one(library):
    shipped_bytes = library.shipped_translator.read_bytes()
    assert same_translation(library.translator, Translator.load(library.space, library.shipped_translator), library.space)
    events = list(fine_tune(library, TINY))
    assert [e.stage for e in events] == ["embedding"] * 4 + ["training"] * 2 + ["saved"]
    assert [e.done for e in events[:4]] == [1, 2, 3, 4] and all(e.loss is not None for e in events[4:6])
    result = events[-1].result
    assert (result.train_files, result.heldout_files, result.pairs, result.skipped_files) == (3, 1, 3, 0)
    assert result.started_from == "shipped" and set(result.before) == set(result.after) == {0.7, 1.4}
    assert library.translator_path.exists()
    assert library.shipped_translator.read_bytes() == shipped_bytes
    tuned = library.translator
    assert not same_translation(tuned, Translator.load(library.space, library.shipped_translator), library.space)
    assert json.loads(json.dumps(tuned.about))["fine_tuned"]["train_files"] == 3

    assert library.reset_translator() and not library.translator_path.exists()
    assert same_translation(library.translator, Translator.load(library.space, library.shipped_translator), library.space)
    assert not library.reset_translator()


@pytest.mark.parametrize("stop_after", ["embedding", "training"])
def test_stopping_the_generator_writes_nothing(library, stop_after):
    run = fine_tune(library, TINY)
    for event in run:
        if event.stage == stop_after and event.done == event.total:
            break
    run.close()
    assert not library.translator_path.exists()
    assert not list(library.library_dir.glob("translator*"))


def test_too_small_a_library_is_refused_with_a_musicians_message(library, tmp_path, capsys):
    with pytest.raises(NotEnoughFiles, match="at least 10 indexed sounds"):
        next(fine_tune(library))
    assert cli.main(["train", "translator", "--library", str(library.library_dir)]) == cli.EXIT_USER_ERROR
    assert "sbf index" in capsys.readouterr().err
    assert cli.main(["train", "translator", "--library-dir", str(tmp_path / "x"), "--reset", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["removed"] is False


def test_without_any_translator_file_the_library_only_shifts_the_tempo_block(tmp_path):
    lib = Library(tmp_path / "lib", shipped_translator=tmp_path / "missing.safetensors")
    v = np.random.default_rng(0).standard_normal(lib.space.dimension).astype(np.float32)
    z, _ = lib.space.split(lib.translator(v, 1.5))
    np.testing.assert_array_equal(z, lib.space.split(v)[0])
    lib.close()
