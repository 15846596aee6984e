"""Issue 14, case 13 and ``sbf --version``: every bad value on the command line gets one line on stderr that
names the option and the allowed range, and exit 2, before anything is opened or analysed."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from sbf import cli

ROOT = Path(__file__).resolve().parents[2]


def refused(argv: list[str], capsys) -> str:
    """The one stderr line ``sbf argv`` ends with; fails unless it exits 2 with nothing on stdout."""
    with pytest.raises(SystemExit) as ended:
        cli.main(argv)
    out = capsys.readouterr()
    assert ended.value.code == cli.EXIT_USER_ERROR
    assert out.out == "" and out.err.count("\n") == 1 and out.err.startswith("sbf: ")
    assert "Traceback" not in out.err
    return out.err


@pytest.mark.parametrize("option, value, allowed", [
    ("--bpm", "inf", "20 to 999"),
    ("--bpm", "1e-9", "20 to 999"),
    ("--bpm", "5000", "20 to 999"),
    ("--bpm", "nan", "20 to 999"),
    ("--bpm", "fast", "not a number"),
    ("--ratio", "inf", "0.25"),
    ("--ratio", "0", "0.25"),
    ("-k", "0", "1 or more"),
    ("-k", "-3", "1 or more"),
    ("-k", "2.5", "whole number"),
    ("--bpm-window", "-5", "0 (off) to 50"),
    ("--bpm-window", "inf", "0 (off) to 50"),
])
def test_a_bad_search_value_is_one_line_naming_the_option_and_range(tmp_path, capsys, option, value, allowed):
    # The query need not exist and the library is never opened: the value is refused first.
    err = refused(["search", str(tmp_path / "query.wav"), option, value, "--library-dir", str(tmp_path / "lib")],
                  capsys)
    assert err.startswith(f"sbf: {option}: ") and allowed in err
    assert not (tmp_path / "lib").exists()


@pytest.mark.parametrize("value", ["0", "-1", "many", "1000"])
def test_workers_out_of_range_are_refused(tmp_path, capsys, value):
    err = refused(["index", str(tmp_path), "--workers", value, "--library-dir", str(tmp_path / "lib")], capsys)
    assert err.startswith("sbf: --workers: ") and f"1 to {cli.MAX_WORKERS}" in err


def test_epochs_below_one_are_refused(tmp_path, capsys):
    err = refused(["train", "translator", "--epochs", "0", "--library-dir", str(tmp_path / "lib")], capsys)
    assert err.startswith("sbf: --epochs: ") and "1 or more" in err


@pytest.mark.parametrize("inside", [False, True])
def test_a_library_dir_that_is_a_file_is_refused(tmp_path, capsys, inside):
    a_file = tmp_path / "library.txt"
    a_file.write_text("not a folder")
    target = a_file / "lib" if inside else a_file
    err = refused(["info", "--library-dir", str(target)], capsys)
    assert err.startswith("sbf: --library-dir: ") and "is a file, not a folder" in err
    assert a_file.read_text() == "not a folder"


def test_the_values_at_the_edges_of_the_ranges_are_accepted():
    parser = cli.build_parser()
    args = parser.parse_args(["search", "q.wav", "-k", "1", "--bpm", "20", "--bpm-window", "0"])
    assert (args.k, args.bpm, args.bpm_window) == (1, 20.0, 0.0)  # 0 keeps the gate off, not the default
    args = parser.parse_args(["search", "q.wav", "--ratio", "4", "--bpm-window", "50"])
    assert (args.ratio, args.bpm_window) == (4.0, 50.0)
    assert parser.parse_args(["index", "x", "--workers", "1"]).workers == 1


def test_a_missing_argument_is_one_line_too(capsys):
    err = refused(["search"], capsys)
    assert "required" in err and "sbf search --help" in err


def test_sbf_version_prints_the_installed_version():
    done = subprocess.run([sys.executable, "-m", "sbf", "--version"], capture_output=True, text=True, timeout=60,
                          cwd=ROOT)
    expected = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"sbf {expected}\n"
