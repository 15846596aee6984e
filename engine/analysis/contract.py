"""The Analyser contract: what a scan runs on each file, and what it keeps of the answer.

An analyser reads one file and returns a few named values: a tempo, a key, a loudness. It declares
its ``name`` (what its results are stored under), its ``version`` (bumped whenever a change alters
its results), the inputs it ``needs`` and the ``outputs`` it returns. The scanner keeps each result
by file, analyser and version, so it knows per file which analysers are stale: a new analyser, or a
new version of one, runs alone on a library indexed before it, without embedding anything again.

Mixxx's analyser life cycle (``src/analyzer/analyzer.h``), in Python:

initialize
    Whatever an analyser loads (a model, a table) it loads lazily and caches, as the tempo analyser
    caches the shipped classifier: once per worker process, on the first file that needs it.
process
    :meth:`Analyser.process`, once per file, on :class:`AnalysisInputs`: the file decoded once for
    every analyser that needs audio, and its patch embeddings, fresh or as stored.
store
    The scanner's job, the same for every analyser (:func:`run_analyser` checks what came back):
    the outputs are kept as one JSON object under (file, name, version), in the same transaction as
    the rest of the file's results.
cleanup
    Nothing to release in Python. What goes wrong inside one analyser on one file is stored as its
    result, in words, and the scan goes on.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from engine.audio.decode import AudioInfo, DecodedAudio

AUDIO = "audio"  # AnalysisInputs.audio: the file decoded to mono
PATCHES = "patches"  # AnalysisInputs.embedding: the file's patch embeddings and tempo block


@dataclass(frozen=True, eq=False)
class Embedding:
    """A file's patch embeddings and tempo block, and the embedder that made them.

    model : ``"<embedder id>/<version>"`` (a model-specific reading, such as the tempo classifier's,
        must check it)
    patches : (n_patches, dimension) float32
    tempo_block : (n_bins,) float32 onset autocorrelation on the log-BPM grid
    """

    model: str
    patches: np.ndarray
    tempo_block: np.ndarray


@dataclass(frozen=True, eq=False)
class AnalysisInputs:
    """Everything an analyser may read about one file.

    ``audio`` is None unless an analyser run on this file needs :data:`AUDIO`, and ``embedding`` is
    None unless one needs :data:`PATCHES`: an analyser reads only what it declared.
    """

    path: str
    info: AudioInfo  # the header: size, duration, format, the file's own sample rate
    audio: DecodedAudio | None
    embedding: Embedding | None


class Analyser(Protocol):
    """One thing a scan learns about every file.

    Attributes
    ----------
    name : what its results are stored under; never reuse one for other outputs
    version : bump whenever a change alters the results: the next scan re-runs this analyser alone
    needs : the inputs it reads, :data:`AUDIO` and/or :data:`PATCHES`
    outputs : the keys of what :meth:`process` returns
    """

    name: str
    version: str
    needs: frozenset[str]
    outputs: tuple[str, ...]

    def process(self, inputs: AnalysisInputs) -> Mapping[str, Any]:
        """The file's ``outputs`` as plain JSON values (numbers, strings, None, lists, dicts)."""
        ...


@dataclass(frozen=True)
class AnalyserResult:
    """One analyser's word on one file: its outputs, or why it has none.

    values : the declared outputs as stored and read back; None when it failed
    error : what went wrong, in words; None when it did not
    """

    analyser: str
    version: str
    values: dict[str, Any] | None
    error: str | None = None


def run_analyser(analyser: Analyser, inputs: AnalysisInputs) -> AnalyserResult:
    """``analyser.process(inputs)``, checked: exactly the declared outputs, and storable as JSON.

    Any exception becomes the result's ``error``, so one analyser's bug on one file costs that one
    result, never the scan nor the file's other results.
    """
    try:
        values = dict(analyser.process(inputs))
        if set(values) != set(analyser.outputs):
            raise ValueError(f"it returned {sorted(values)} instead of its outputs {sorted(analyser.outputs)}")
        # The round trip makes the values what a reader of the library gets back (tuples become lists,
        # numpy floats plain floats) and refuses what JSON cannot hold (NaN, arrays, objects).
        values = json.loads(json.dumps(values, allow_nan=False))
    except Exception as e:  # an analyser may be a plug-in: whatever it raises is its result, in words
        return AnalyserResult(analyser.name, analyser.version, None,
                              f"the {analyser.name} analyser failed on this file: {str(e) or type(e).__name__}")
    return AnalyserResult(analyser.name, analyser.version, values)
