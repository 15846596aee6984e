"""Convert MusiCNN's TensorFlow checkpoint from the ``musicnn`` wheel into ``resources/musicnn/``.

The wheel is installed without its dependencies (its pins cannot install on Python 3.11, and we do
not want TensorFlow)::

    .venv/bin/pip install --no-deps musicnn==0.1.0
    .venv/bin/python scripts/convert_musicnn_weights.py

The output is reproducible bit for bit (``tests/test_musicnn_port.py`` checks it), so the shipped
file provably holds the published weights and nothing else.
"""

from __future__ import annotations

import argparse
import json
import importlib.resources
from pathlib import Path

from safetensors.torch import save_file

from engine.models.torch_musicnn import WEIGHTS_DIR, tf_to_torch_state, weights_path
from engine.models.tf_checkpoint import read_checkpoint

MODELS = ("MSD_musicnn", "MTT_musicnn")


def convert(model: str, out_dir: Path = WEIGHTS_DIR) -> Path:
    """Write ``<out_dir>/<model>.safetensors`` from the installed wheel's checkpoint."""
    prefix = importlib.resources.files("musicnn") / model
    state = tf_to_torch_state(read_checkpoint(str(prefix) + "/"))
    out = weights_path(model, out_dir)
    # One metadata key: safetensors writes a map's keys in random order, which would break reproducibility.
    about = {
        "model": model,
        "source": "musicnn 0.1.0 (PyPI wheel), Pons & Serra 2019",
        "license": "ISC, Copyright (c) Music Technology Group, Universitat Pompeu Fabra 2019; see LICENSE-musicnn-ISC.md",
    }
    metadata = {"about": json.dumps(about, sort_keys=True)}
    save_file({k: v.contiguous() for k, v in sorted(state.items())}, str(out), metadata=metadata)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out-dir", type=Path, default=WEIGHTS_DIR)
    args = parser.parse_args()
    for model in MODELS:
        print(f"wrote {convert(model, args.out_dir)}")


if __name__ == "__main__":
    main()
