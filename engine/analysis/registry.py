"""Every analyser a scan runs. Adding one is one module and one line in :data:`ANALYSERS`; a plug-in
outside the engine calls :func:`register` instead.

The embedding is not in this list: it is the scan's model (:class:`engine.analysis.embedding.Embedder`),
stored under its own id and version, and it gives the analysers that need :data:`PATCHES
<engine.analysis.contract.PATCHES>` their input.
"""

from __future__ import annotations

from engine.analysis.contract import Analyser
from engine.analysis.tempo_analyser import TempoAnalyser

ANALYSERS: list[Analyser] = [
    TempoAnalyser(),
]


def register(analyser: Analyser) -> None:
    """Run ``analyser`` in every scan from now on, in place of a registered one of the same name."""
    ANALYSERS[:] = [a for a in ANALYSERS if a.name != analyser.name] + [analyser]


def registered() -> tuple[Analyser, ...]:
    """The analysers a scan starting now runs, in order."""
    return tuple(ANALYSERS)
