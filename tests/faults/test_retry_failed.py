"""Issue 14, case 8 (retries): a failure is no longer permanent until the file changes. It is tried again
after the decoder or the model is upgraded, on ``sbf index --retry-failed`` and on Retry under Problems."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from engine.audio.decode import AudioError
from engine.library import scan
from engine.library.facade import Library
from sbf import cli
from tests.conftest import click_track, write
from tests.faults.workers_kit import QuickEmbedder


class UpgradedEmbedder(QuickEmbedder):
    version = "2"


@pytest.fixture
def folder(tmp_path) -> Path:
    folder = tmp_path / "samples"
    write(folder / "good.wav", click_track(100, 2.0))
    write(folder / "flaky.wav", click_track(120, 2.0, seed=1))
    return folder


def failing(monkeypatch, name: str = "flaky.wav") -> None:
    """The decoder refuses ``name`` (as an older libsndfile did a format it did not know yet)."""
    real = scan.analyse_new

    def analyse_new(path, embedder, analysers):
        if Path(path).name == name:
            raise AudioError(path, "damaged header or unsupported encoding")
        return real(path, embedder, analysers)

    monkeypatch.setattr(scan, "analyse_new", analyse_new)


def outcomes(events) -> dict[str, str]:
    return {Path(e.path).name: e.outcome for e in events}


def test_a_failure_is_kept_while_nothing_changed_and_tried_again_after_a_decoder_upgrade(tmp_path, folder,
                                                                                        monkeypatch):
    lib = Library(tmp_path / "lib", embedder=QuickEmbedder())
    failing(monkeypatch)
    assert outcomes(lib.index(folder, workers=1)) == {"good.wav": "indexed", "flaky.wav": "failed"}
    monkeypatch.undo()
    assert outcomes(lib.index(folder, workers=1)) == {"good.wav": "unchanged", "flaky.wav": "unchanged"}
    assert [Path(f.path).name for f in lib.failed()] == ["flaky.wav"]
    monkeypatch.setattr(scan, "DECODER_VERSION", "3/libsndfile-9.9.9")  # an upgrade reads it
    assert outcomes(lib.index(folder, workers=1)) == {"good.wav": "unchanged", "flaky.wav": "indexed"}
    assert lib.failed() == []
    lib.close()


def test_a_failure_is_tried_again_with_another_model(tmp_path, folder, monkeypatch):
    lib = Library(tmp_path / "lib", embedder=QuickEmbedder())
    failing(monkeypatch)
    list(lib.index(folder, workers=1))
    monkeypatch.undo()
    lib.close()
    lib = Library(tmp_path / "lib", embedder=UpgradedEmbedder())
    assert outcomes(lib.index(folder, workers=1))["flaky.wav"] == "indexed"
    assert lib.failed() == []
    lib.close()


def test_failures_from_before_this_version_are_tried_once_more(tmp_path, folder, monkeypatch):
    lib = Library(tmp_path / "lib", embedder=QuickEmbedder())
    failing(monkeypatch, "good.wav")
    list(lib.index(folder, workers=1))
    lib.close()
    with sqlite3.connect(tmp_path / "lib" / "library.sqlite3") as db:  # as a version 5 library kept it
        db.execute("UPDATE files SET tried_with = NULL")
        db.execute("UPDATE meta SET value = '5' WHERE key = 'schema_version'")
    lib = Library(tmp_path / "lib", embedder=QuickEmbedder())
    assert outcomes(lib.index(folder, workers=1)) == {"good.wav": "failed", "flaky.wav": "unchanged"}
    assert outcomes(lib.index(folder, workers=1)) == {"good.wav": "unchanged", "flaky.wav": "unchanged"}
    lib.close()


def sbf(argv: list[str], capsys) -> tuple[int, str, str]:
    code = cli.main(argv)
    out = capsys.readouterr()
    return code, out.out, out.err


def test_sbf_index_retry_failed_tries_every_folders_failures_again(tmp_path, folder, monkeypatch, capsys):
    other = tmp_path / "more"
    write(other / "flaky_too.wav", click_track(90, 2.0, seed=2))
    lib_dir = ["--library-dir", str(tmp_path / "lib"), "--workers", "1", "--json"]
    failing(monkeypatch)
    assert sbf(["index", str(folder), *lib_dir], capsys)[0] == 0
    failing(monkeypatch, "flaky_too.wav")
    assert sbf(["index", str(other), *lib_dir], capsys)[0] == 0
    monkeypatch.undo()
    code, out, _ = sbf(["index", str(folder), *lib_dir], capsys)
    assert json.loads(out)["counts"] == {"unchanged": 2}  # nothing changed: a plain scan keeps the failure

    code, out, _ = sbf(["index", "--retry-failed", *lib_dir], capsys)
    assert code == 0 and json.loads(out)["counts"] == {"unchanged": 1, "indexed": 2}
    code, out, _ = sbf(["failed", "--library-dir", str(tmp_path / "lib")], capsys)
    assert out == "No failed files.\n"


def test_sbf_index_retry_failed_with_a_folder_tries_only_that_folder(tmp_path, folder, monkeypatch, capsys):
    lib_dir = ["--library-dir", str(tmp_path / "lib"), "--workers", "1", "--json"]
    failing(monkeypatch)
    sbf(["index", str(folder), *lib_dir], capsys)
    monkeypatch.undo()
    code, out, _ = sbf(["index", str(folder), "--retry-failed", *lib_dir], capsys)
    assert code == 0 and json.loads(out)["counts"] == {"unchanged": 1, "indexed": 1}


def test_sbf_index_without_a_folder_says_what_to_give(tmp_path, capsys):
    code, out, err = sbf(["index", "--library-dir", str(tmp_path / "lib")], capsys)
    assert code == cli.EXIT_USER_ERROR and out == ""
    assert err.count("\n") == 1 and err.startswith("sbf: index: ") and "--retry-failed" in err
