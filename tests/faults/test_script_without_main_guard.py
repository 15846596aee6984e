"""Issue 14, case 9: a script that follows the README's Python API without ``if __name__ == "__main__":``
indexes every file (in one process, with a one-line warning that says what to add); no file is ever
marked failed for it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from engine.library.facade import Library
from tests.conftest import click_track, tone, write

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = '''
import json
import sys

import engine

lib = engine.Library(sys.argv[1])
events = [(event.outcome, event.reason) for event in lib.index(sys.argv[2], workers=2)]
print(json.dumps(events))
'''


def test_a_script_without_a_main_guard_indexes_everything_and_says_what_to_add(tmp_path):
    folder = tmp_path / "samples"
    write(folder / "clicks_100bpm.wav", click_track(100, 3.0))
    write(folder / "clicks_128bpm.wav", click_track(128, 3.0, pitch=400))
    write(folder / "tone_a.flac", tone(220, 3.0))
    script = tmp_path / "index_my_samples.py"
    script.write_text(SCRIPT)
    done = subprocess.run([sys.executable, str(script), str(tmp_path / "lib"), str(folder)], cwd=tmp_path,
                          capture_output=True, text=True, timeout=300,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert done.returncode == 0, done.stderr
    lines = done.stdout.strip().splitlines()
    assert len(lines) == 1  # printed once: the workers that ran the script again stopped before
    events = json.loads(lines[0])
    assert [outcome for outcome, _ in events] == ["indexed"] * 3, events
    warning = [line for line in done.stderr.splitlines() if "__main__" in line]
    assert len(warning) == 1 and 'if __name__ == "__main__":' in warning[0]
    assert "Traceback" not in done.stderr
    lib = Library(tmp_path / "lib")
    try:
        assert lib.failed() == [] and lib.info().files_ok == 3
    finally:
        lib.close()
