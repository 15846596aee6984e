"""Files as drag-and-drop sees them: real file URLs out, local audio files in."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from pathlib import Path
from urllib.parse import quote, unquote_to_bytes

from PySide6.QtCore import QByteArray, QMimeData, QUrl

from engine.audio.decode import is_audio_path
from engine.audio.paths import is_whole_text

URI_LIST = "text/uri-list"

DragFile = Callable[[str], "str | None"]  # the file a dragged path hands out (a stretched copy); None: not ready


def file_mime_data(paths: Iterable[str]) -> QMimeData:
    """Mime data holding ``file://`` URLs, which a DAW or file manager accepts as the files themselves."""
    mime = QMimeData()
    mime.setUrls([file_url(p) for p in dict.fromkeys(paths)])
    return mime


def file_url(path: str) -> QUrl:
    """The ``file://`` URL of ``path``. A name that is not UTF-8 (a Latin-1 name from an old archive) is
    written as its own bytes, percent-encoded (``caf%E9``), as a file manager writes it: Qt's own text
    would lose the odd byte and name no file."""
    if is_whole_text(path):
        return QUrl.fromLocalFile(path)
    return QUrl.fromEncoded(QByteArray(b"file://" + quote(os.fsencode(path)).encode("ascii")))


def local_path(url: QUrl) -> str:
    """The file a ``file://`` URL names, byte for byte (the inverse of :func:`file_url`)."""
    if os.name == "nt":  # names are text there, and the path has a drive letter
        return url.toLocalFile()
    return os.fsdecode(unquote_to_bytes(url.path(QUrl.ComponentFormattingOption.FullyEncoded)))


def drag_mime_data(paths: Iterable[str], drag_file: DragFile) -> QMimeData | None:
    """Mime data for dragging ``paths`` out as the files ``drag_file`` names for them; None (no drag)
    while any of those is not ready."""
    files = [drag_file(p) for p in dict.fromkeys(paths)]
    return None if None in files else file_mime_data(files)


def as_is(path: str) -> str:
    """The :data:`DragFile` that hands out the file itself."""
    return path


def dropped_audio_file(mime: QMimeData) -> str | None:
    """The first local audio file in dropped mime data, None when it holds none."""
    for url in mime.urls():
        if url.isLocalFile() and is_audio_path(local_path(url)) and Path(local_path(url)).is_file():
            return local_path(url)
    return None
