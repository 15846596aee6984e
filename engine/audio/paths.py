"""File names as the file system gives them, kept whole and shown readably.

On Linux a file name is bytes. A name that is not valid UTF-8 (a Latin-1 name from an old archive:
``caf\\xe9 loop.wav``) reaches Python as a ``str`` holding surrogate escapes (``'caf\\udce9 loop.wav'``),
which opens, stats and decodes the file like any other, but cannot be encoded as UTF-8: SQLite,
Qt and a UTF-8 terminal refuse it or drop the odd character, and the path then names no file.

So the engine keeps such a path as it is everywhere (the library stores its bytes, see
engine/library/store.py) and converts it only where it leaves Python: :func:`shown` for text a person
reads (a replacement character for each odd byte), :func:`as_bytes` for the file system's own bytes.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def is_whole_text(path: str) -> bool:
    """True when ``path`` is valid Unicode text (every path on macOS and Windows, and most on Linux)."""
    if path.isascii():
        return True
    try:
        path.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def as_bytes(path: str | os.PathLike[str]) -> bytes:
    """The file system's own bytes for ``path`` (what ``open`` would use)."""
    return os.fsencode(path)


def shown(path: str | os.PathLike[str]) -> str:
    """``path`` as text a person reads: each byte that is not UTF-8 becomes a replacement character
    (``caf\\ufffd loop.wav``). Only for showing: the result may name no file."""
    text = os.fspath(path)
    if is_whole_text(text):
        return text
    try:
        raw = text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:  # a lone surrogate no byte escapes to (a damaged Windows name)
        raw = text.encode("utf-8", "replace")
    return raw.decode("utf-8", "replace")


@contextmanager
def temporary_beside(target: Path) -> Iterator[Path]:
    """A temporary path in the target's folder (so ``os.replace`` onto it is atomic), removed if left behind."""
    fd, name = tempfile.mkstemp(dir=target.parent, prefix=target.name + ".", suffix=".tmp")
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
    finally:
        tmp.unlink(missing_ok=True)
