"""Files as drag-and-drop sees them: real file URLs out, local audio files in."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from PySide6.QtCore import QMimeData, QUrl

from engine.audio import is_audio_path

URI_LIST = "text/uri-list"


def file_mime_data(paths: Iterable[str]) -> QMimeData:
    """Mime data holding ``file://`` URLs, which a DAW or file manager accepts as the files themselves."""
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(p) for p in dict.fromkeys(paths)])
    return mime


def dropped_audio_file(mime: QMimeData) -> str | None:
    """The first local audio file in dropped mime data, None when it holds none."""
    for url in mime.urls():
        if url.isLocalFile() and is_audio_path(url.toLocalFile()) and Path(url.toLocalFile()).is_file():
            return url.toLocalFile()
    return None
