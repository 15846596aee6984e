"""Keeping the library current: watch the indexed folders and ask for a rescan when they change.

Qt watches a folder's own entries only (files added, removed, renamed), not its subfolders, so every
folder that holds a listed file is watched. A file rewritten in place under the same name is not
reported by the operating system's folder watch; *Rescan* catches it (editors mostly save by
writing a new file and renaming it over the old, which is reported).
"""

from __future__ import annotations

import os
from collections.abc import Iterable

from PySide6.QtCore import QFileSystemWatcher, QObject, QTimer, Signal

from engine.config import DESKTOP, DesktopConfig


def folders_to_watch(roots: Iterable[str], files: Iterable[tuple[str, str]]) -> frozenset[str]:
    """The indexed folders and every folder between them and a listed file.

    Parameters
    ----------
    roots : the indexed folders (absolute, resolved, as the library stores them)
    files : (path, root) of each listed file
    """
    found = set(roots)
    for path, root in files:
        folder = os.path.dirname(path)
        # Up to the indexed folder, stopping early at a folder already found through another file.
        while folder not in found and len(folder) > len(root):
            found.add(folder)
            folder = os.path.dirname(folder)
    return frozenset(found)


class FolderWatcher(QObject):
    """Emits ``changed`` with the indexed folders that changed, once they have been quiet for
    ``cfg.rescan_delay_seconds`` (copying a pack in fires hundreds of notifications)."""

    changed = Signal(tuple)  # the indexed folders (roots) to rescan

    def __init__(self, parent: QObject | None = None, cfg: DesktopConfig = DESKTOP) -> None:
        super().__init__(parent)
        self._watcher = QFileSystemWatcher(self)
        self._watcher.directoryChanged.connect(self._folder_changed)
        self._roots: tuple[str, ...] = ()
        self._dirty: set[str] = set()
        self._timer = QTimer(self, singleShot=True, interval=int(cfg.rescan_delay_seconds * 1000))
        self._timer.timeout.connect(self._flush)

    def watch(self, roots: Iterable[str], folders: frozenset[str]) -> None:
        """Watch exactly ``folders`` (from :func:`folders_to_watch`) of the indexed folders ``roots``."""
        self._roots = tuple(sorted(roots, key=len, reverse=True))  # the deepest root owns a nested folder
        watched = set(self._watcher.directories())
        if watched - folders:
            self._watcher.removePaths(list(watched - folders))
        if folders - watched:
            self._watcher.addPaths(sorted(folders - watched))

    def clear(self) -> None:
        """Stop watching (another library is opened); changes not yet reported are dropped."""
        self.watch((), frozenset())
        self._dirty.clear()
        self._timer.stop()

    def watched(self) -> list[str]:
        return self._watcher.directories()

    def _folder_changed(self, folder: str) -> None:
        root = next((r for r in self._roots if folder == r or folder.startswith(r + os.sep)), None)
        if root is not None:
            self._dirty.add(root)
            self._timer.start()  # restarts: waits until the folder has been quiet a while

    def _flush(self) -> None:
        dirty, self._dirty = tuple(sorted(self._dirty)), set()
        if dirty:
            self.changed.emit(dirty)
