"""Issue 14, case 12: librosa's numba cache goes to the user's cache folder, never into the install.

numba caches a function beside its source whenever that folder is writable, as site-packages is in a
virtual environment: the engine points it at the user's cache folder before librosa loads.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import librosa

ROOT = Path(__file__).resolve().parents[2]
LIBROSA = Path(librosa.__file__).resolve().parent

# A numba function cached the way librosa's are, in a writable folder like a virtual environment's
# site-packages; and what a spawned process (as the scan's workers are) is told.
PACKAGE = """
import numba

@numba.njit(cache=True)
def twice(x):
    return 2 * x
"""
SCRIPT = """
import multiprocessing, os
import engine
import numba.core.config
import installed

def cache_dir():
    return os.environ.get("NUMBA_CACHE_DIR")

if __name__ == "__main__":
    assert installed.twice(21) == 42
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        child = pool.apply(cache_dir)
    print(numba.core.config.CACHE_DIR)
    print(child)
"""
# The engine's own onset code (the tempo block, through librosa's onset strength) on two seconds of clicks.
ONSETS = """
import numpy as np
import engine.analysis.tempo_block as tempo_block
from platformdirs import user_cache_dir
sr = 16000
clicks = np.zeros(2 * sr, np.float32)
clicks[:: sr // 2] = 1.0
tempo_block.compute_tempo_block(clicks, sr)
print(user_cache_dir("similar-but-faster", appauthor=False))
"""


def _listing(folder: Path) -> dict[str, int]:
    return {str(p): p.stat().st_mtime_ns for p in folder.rglob("*") if p.is_file()}


def _without_numba_setting() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k != "NUMBA_CACHE_DIR"}


def test_numba_caches_in_the_users_cache_folder_not_beside_the_installed_code(tmp_path):
    site = tmp_path / "site-packages"
    site.mkdir()
    (site / "installed.py").write_text(PACKAGE)
    (tmp_path / "run.py").write_text(SCRIPT)  # a file: a spawned process imports its functions from it
    env = {**_without_numba_setting(), "XDG_CACHE_HOME": str(tmp_path / "cache"),
           "PYTHONPATH": os.pathsep.join([str(ROOT), str(site)])}
    done = subprocess.run([sys.executable, str(tmp_path / "run.py")], env=env, cwd=tmp_path, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    expected = tmp_path / "cache" / "similar-but-faster" / "numba"
    assert done.stdout.split() == [str(expected), str(expected)]  # numba's setting, and a spawned worker's
    assert [p.name.split("-")[0] for p in expected.rglob("*.nbi")] == ["installed.twice"]
    assert [p.relative_to(site) for p in site.rglob("*") if p.suffix in (".nbi", ".nbc")] == []


def test_librosas_onset_code_leaves_the_install_untouched():
    before = _listing(LIBROSA)
    done = subprocess.run([sys.executable, "-c", ONSETS], env=_without_numba_setting(), cwd=ROOT,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert _listing(LIBROSA) == before, "something was written into librosa's folder in site-packages"
    cached = {p.name.split("-")[0] for p in (Path(done.stdout.strip()) / "numba").rglob("*.nbi")}
    assert {"utils._localmax", "utils.__peak_pick"} <= cached  # librosa's, in the user's cache folder


def test_a_cache_folder_the_user_chose_wins(tmp_path):
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path / "mine")}
    done = subprocess.run([sys.executable, "-c", "import engine, os; print(os.environ['NUMBA_CACHE_DIR'])"],
                          env=env, cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.stdout.strip() == str(tmp_path / "mine"), done.stderr
