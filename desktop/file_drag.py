"""Files as drag-and-drop sees them: real file URLs out, local audio files in."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

from PySide6.QtCore import QMimeData, QUrl

from engine.audio.decode import is_audio_path

URI_LIST = "text/uri-list"

DragFile = Callable[[str], "str | None"]  # the file a dragged path hands out (a stretched copy); None: not ready


def file_mime_data(paths: Iterable[str]) -> QMimeData:
    """Mime data holding ``file://`` URLs, which a DAW or file manager accepts as the files themselves."""
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(p) for p in dict.fromkeys(paths)])
    return mime


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
        if url.isLocalFile() and is_audio_path(url.toLocalFile()) and Path(url.toLocalFile()).is_file():
            return url.toLocalFile()
    return None
