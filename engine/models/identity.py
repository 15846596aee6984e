"""Each network named once: what its results are stored under, where its weights live, what remakes them.

A stored result carries the identity of the network that made it, so a library knows what to recompute
after an upgrade: an analysis stored under another MusiCNN ``name/version`` is redone at the next scan.
The translator's and the tempo classifier's outputs are never stored; their weights are tied to one
track space instead (its fingerprint is in the weights file, :mod:`engine.models.tied_weights`), and
refused against another with the script that retrains them.

The runtime is not part of a network's identity: ONNX Runtime and torch give the same outputs within
1e-4 (``tests/test_onnx_backend.py``), so a library analysed on one is searched on the other. Which one
runs is chosen once, in :func:`engine.models.runtime.inference_backend`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from engine.config import RESOURCES


@dataclass(frozen=True)
class ModelIdentity:
    """One network.

    Attributes
    ----------
    network : what the runtime choice and the self-test call it ("musicnn", "translator", "tempo_classifier")
    name : the id its stored results carry (analyses, and the track space's ``embedder``)
    version : bump whenever a change alters the outputs, and stored results are redone; None where
        nothing stores them (the weights file names its track space instead)
    weights : the shipped weights (safetensors, read without pickle)
    made_by : the script that makes ``weights`` again, named when they are missing or do not fit
    """

    network: str
    name: str
    version: str | None
    weights: Path
    made_by: str

    @property
    def key(self) -> str:
        """``name/version``, as a track space names the embedder it was fitted for."""
        return f"{self.name}/{self.version}"


MUSICNN = ModelIdentity("musicnn", "musicnn-msd", "1", RESOURCES / "musicnn" / "MSD_musicnn.safetensors",
                        "scripts/convert_musicnn_weights.py")
"""MusiCNN with the MSD tags weights (Pons & Serra 2019): its temporal mean pool is every stored analysis."""

TRANSLATOR = ModelIdentity("translator", "translator", None, RESOURCES / "translator.safetensors",
                           "scripts/train_translator.py")
"""The learned part of the tempo translation f(z, tau) (:mod:`engine.models.translation`)."""

TEMPO_CLASSIFIER = ModelIdentity("tempo_classifier", "tempo_classifier", None,
                                 RESOURCES / "tempo_classifier.safetensors", "scripts/train_tempo_classifier.py")
"""The tempo classifier on track vectors (:mod:`engine.models.tempo_classifier`)."""

MODELS = (MUSICNN, TRANSLATOR, TEMPO_CLASSIFIER)
