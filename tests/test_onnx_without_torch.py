"""Indexing and searching work with torch absent, as in the packaged app and `make run`: everything runs on
ONNX Runtime, and nothing the app does loads torch even where it is installed.

A ``sitecustomize`` on ``PYTHONPATH`` hides torch in the test's Python and in every worker process the
scan spawns (they inherit the environment); any import of torch, however deep, then fails loudly.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from engine.config import INFERENCE

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "resources" / "demo"
FILES = ("boombap_drums_90bpm.flac", "boombap_drums_95bpm.flac", "full_house_Fm_120bpm.flac", "kick_punchy.flac")

HIDE_TORCH = '''
import sys

class HideTorch:
    """Torch is not installed, as far as anyone here can tell."""

    def find_spec(self, name, path=None, target=None):
        if name == "torch" or name.startswith("torch."):
            raise ModuleNotFoundError(f"No module named {name!r} (hidden by the test)", name=name)
        return None

sys.meta_path.insert(0, HideTorch())
'''

SCRIPT = '''
import json, sys
import numpy as np
import desktop.app
import engine
from engine.models.runtime import NETWORKS, inference_backend
from engine.library.facade import Library
from engine.models.tempo_classifier import classify_tempo

folder, library_dir = sys.argv[1], sys.argv[2]
lib = Library(library_dir)
events = list(lib.index(folder, workers=2))
query = f"{folder}/boombap_drums_90bpm.flac"
similar = lib.search(query, k=3)
target = lib.search(query, k=3, mode="target", ratio=95 / 90)
contour = lib.search(query, k=3, mode="contour")
vector = engine.embed_file(query).track_vector
bpm, _ = classify_tempo(vector)
print(json.dumps({
    "outcomes": sorted(e.outcome for e in events),
    "similar": [r.path.rsplit("/", 1)[1] for r in similar],
    "target": [r.path.rsplit("/", 1)[1] for r in target],
    "contour": len(contour),
    "translated": float(np.abs(engine.translate(vector, 1.25) - vector).max()),
    "classifier_bpm": bpm,
    "runtimes": sorted({inference_backend(n) for n in NETWORKS}),
    "torch_modules": sorted(m for m in sys.modules if m.split(".")[0] == "torch" and sys.modules[m] is not None),
}))
'''


def app_env(tmp_path: Path, hide_torch: bool) -> dict[str, str]:
    """The environment the app runs in (no runtime forced), with torch hidden or not."""
    paths = [str(ROOT)]
    if hide_torch:
        hide = tmp_path / "hide_torch"
        hide.mkdir()
        (hide / "sitecustomize.py").write_text(HIDE_TORCH)
        paths.insert(0, str(hide))
    env = {k: v for k, v in os.environ.items() if k != INFERENCE.backend_env}
    env["PYTHONPATH"] = os.pathsep.join(paths)
    return env


@pytest.fixture
def torchless_env(tmp_path) -> dict[str, str]:
    return app_env(tmp_path, hide_torch=True)


def run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, *args], env=env, capture_output=True, text=True, timeout=300, cwd=ROOT)


def test_the_hider_hides_torch(torchless_env):
    """The check below can fail: an import of torch under the hider is an error."""
    done = run(["-c", "import torch"], torchless_env)
    assert done.returncode != 0 and "ModuleNotFoundError" in done.stderr


@pytest.mark.parametrize("hide_torch", [True, False], ids=["torch-absent", "torch-installed"])
def test_index_search_translate_and_classify_without_torch(hide_torch, tmp_path):
    """Absent, torch is not needed; installed (the developer install), it is still never loaded."""
    folder = tmp_path / "samples"
    folder.mkdir()
    for name in FILES:
        shutil.copy(DEMO / name, folder / name)
    done = run(["-c", SCRIPT, str(folder), str(tmp_path / "lib")], app_env(tmp_path, hide_torch))
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["outcomes"] == ["indexed"] * len(FILES)  # in worker processes, torch hidden there too
    assert report["runtimes"] == ["onnx"] and report["torch_modules"] == []
    assert report["similar"][0] == "boombap_drums_95bpm.flac"  # the same beat, 5 % faster
    assert report["target"][0] == "boombap_drums_95bpm.flac"
    assert report["contour"] == 3 and report["translated"] > 0.1
    assert 60 < report["classifier_bpm"] < 200


def test_fine_tuning_says_it_needs_the_developer_install(torchless_env, tmp_path):
    done = run(["-m", "sbf.cli", "train", "translator", "--library-dir", str(tmp_path / "lib")], torchless_env)
    assert done.returncode == 2
    assert "developer install" in done.stderr and 'pip install "similar-but-faster[training]"' in done.stderr
    assert "Traceback" not in done.stderr
    reset = run(["-m", "sbf.cli", "train", "translator", "--library-dir", str(tmp_path / "lib"), "--reset"],
                torchless_env)
    assert reset.returncode == 0, reset.stderr  # forgetting a fine-tune needs no torch
