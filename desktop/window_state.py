"""What the window remembers between sessions, in QSettings: its geometry, the splitter between the
list and the query, the library that was open, the search mode and the tempo-locked switch.

The library's own data (favourites, BPM corrections, recent queries) lives in the library database
instead, so that it travels with the library.
"""

from __future__ import annotations

from PySide6.QtCore import QSettings

ORGANIZATION = APPLICATION = "Similar But Faster"

GEOMETRY = "window/geometry"
SPLITTER = "window/splitter"
LIBRARY = "library/last"
MODE = "search/mode"
TEMPO_LOCK = "audition/tempo_locked"


def app_settings() -> QSettings:
    """The user's settings for the app (where the platform keeps them: ~/.config, the registry, plist)."""
    return QSettings(ORGANIZATION, APPLICATION)


def read_bool(settings: QSettings, key: str) -> bool:
    """A flag as written by :meth:`QSettings.setValue` (INI files hand back the text "true")."""
    return str(settings.value(key, False)).lower() == "true"
