"""Numbers as a musician reads them in the app."""

from __future__ import annotations

from pathlib import Path

from engine.audio.paths import shown


def bpm_text(bpm: float | None) -> str:
    """``"124"`` for a whole tempo, ``"123.7"`` otherwise, ``"—"`` for none (a one-shot)."""
    if bpm is None:
        return "—"
    return f"{bpm:.0f}" if abs(bpm - round(bpm)) < 0.05 else f"{bpm:.1f}"


def ratio_text(tau: float) -> str:
    """A tempo ratio T'/T: ``"×1.17"``."""
    return f"×{tau:.2f}"


def folder_text(path: str, root: str) -> str:
    """The file's folder from the indexed folder's own name down: ``"Samples/drums"``."""
    parent, base = Path(path).parent, Path(root).parent
    return shown(parent.relative_to(base) if parent.is_relative_to(base) else parent)


def file_name(path: str) -> str:
    """A file's name as shown: a byte that is not UTF-8 (an old archive's Latin-1 name) as a replacement
    character, which Qt would otherwise drop."""
    return shown(Path(path).name)
