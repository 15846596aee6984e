"""Similar But Faster's engine: audio analysis, the library and search. Never imports Qt.

The public names are imported lazily so that ``import engine.config`` (or a GUI start-up) does not
pay for torch and librosa before it needs them.
"""

from importlib import import_module

_PUBLIC = {
    "EmbeddedFile": "engine.analysis.pipeline",
    "embed_file": "engine.analysis.pipeline",
    "Library": "engine.library.facade",
    "SearchResult": "engine.search.session",
}
__all__ = sorted([*_PUBLIC, "translate"])


def translate(z, tau):
    """f(z, tau): the track vector(s) ``z`` ((D,) or (B, D)) as they would be at tempo ratio ``tau``
    (T'/T, scalar or (B,)), with the shipped translation. See engine/models/translation.py."""
    from engine.models.translation import shipped_translator

    return shipped_translator()(z, tau)


def __getattr__(name: str):
    if name in _PUBLIC:
        return getattr(import_module(_PUBLIC[name]), name)
    raise AttributeError(f"module 'engine' has no attribute {name!r}")
