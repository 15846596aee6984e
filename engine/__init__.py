"""Similar But Faster's engine: audio analysis, the library and search. Never imports Qt.

The public API is ``Library``, ``embed_file`` and ``translate``; the layers behind it are in
``docs/architecture.md``. The names are imported lazily, so that ``import engine.config`` (or a GUI
start-up) does not pay for librosa and ONNX Runtime before it needs them.
"""

import os
import sys
from importlib import import_module

from engine.config import APP_NAME


def _numba_cache_in_the_users_cache_folder() -> None:
    """librosa compiles parts of itself with numba and caches what it compiled, by default beside its own
    source in site-packages whenever that is writable: the install would change under the user. Here,
    in the one module every entry point imports before anything loads librosa (``sbf``, the app, scripts
    and the scan's spawned workers, which also inherit the variable), the cache goes to the user's cache
    folder instead. A ``NUMBA_CACHE_DIR`` the user set wins."""
    if os.environ.get("NUMBA_CACHE_DIR"):
        return
    from platformdirs import user_cache_dir

    folder = os.path.join(user_cache_dir(APP_NAME, appauthor=False), "numba")
    os.environ["NUMBA_CACHE_DIR"] = folder
    config = sys.modules.get("numba.core.config")
    if config is not None:  # numba was loaded first (a script imported librosa before the engine)
        config.CACHE_DIR = folder


_numba_cache_in_the_users_cache_folder()

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
