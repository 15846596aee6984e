"""Similar But Faster's engine: audio analysis, the library and search. Never imports Qt.

The public names are imported lazily so that ``import engine.config`` (or a GUI start-up) does not
pay for torch and librosa before it needs them.
"""

from importlib import import_module

_PUBLIC = {
    "EmbeddedFile": "engine.analysis",
    "embed_file": "engine.analysis",
    "Library": "engine.library",
    "SearchResult": "engine.library",
}
__all__ = sorted(_PUBLIC)


def __getattr__(name: str):
    if name in _PUBLIC:
        return getattr(import_module(_PUBLIC[name]), name)
    raise AttributeError(f"module 'engine' has no attribute {name!r}")
