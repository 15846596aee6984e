"""Every module of the scripts' packages imports, and the entry points that use them start as files.

The corpus builders need apt packages and half an hour, so nothing here runs them: this catches a
broken import after a move, offline and in a few seconds. Modules that need the optional ``mido``
(the MIDI corpus, ``pip install .[corpus]``) are skipped without it.
"""

from __future__ import annotations

import importlib
import importlib.util
import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("scripts.demo", "scripts.corpus", "scripts.evaluation")
NEEDS_MIDO = {"scripts.corpus.midi_excerpt", "scripts.corpus.fluidsynth", "scripts.corpus.midi_pieces"}
HAS_MIDO = importlib.util.find_spec("mido") is not None


def package_modules() -> list[str]:
    names = []
    for package in PACKAGES:
        folder = ROOT.joinpath(*package.split("."))
        names += [f"{package}.{m.name}" for m in pkgutil.iter_modules([str(folder)])]
    return names


@pytest.mark.parametrize("name", package_modules())
def test_module_imports(name: str) -> None:
    if name in NEEDS_MIDO and not HAS_MIDO:
        pytest.skip("mido is not installed (pip install .[corpus])")
    importlib.import_module(name)


@pytest.mark.parametrize("script", ["make_demo_library.py", "build_corpus.py", "build_real_corpus.py", "eval_search.py"])
def test_entry_point_runs_as_a_file(script: str, tmp_path: Path) -> None:
    """``python scripts/<script> --help`` from elsewhere: the entry point finds its package by itself."""
    if script == "build_corpus.py" and not HAS_MIDO:
        pytest.skip("mido is not installed (pip install .[corpus])")
    done = subprocess.run([sys.executable, str(ROOT / "scripts" / script), "--help"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"usage: {script}")
