"""What can go wrong, in a musician's words: one base class, one subclass per boundary of the engine.

``str(err)`` of any :class:`SbfError` is a whole sentence fit to show as it is: the command line
prints it after ``sbf:`` and exits 2, the desktop app shows it in the status bar or next to the file.
So a caller that only needs to report a failure catches :class:`SbfError` once; a caller that can
do something about one kind catches that boundary's class.

Each boundary class also derives from the built-in exception it replaced (``ValueError`` for bad
input, ``RuntimeError`` for a state the engine cannot work in), so code written against the
built-ins keeps working.
"""

from __future__ import annotations


class SbfError(Exception):
    """Base of every error the engine raises on purpose; ``str(err)`` is the message for the user."""

    @property
    def message(self) -> str:
        return str(self)


class LibraryError(SbfError, RuntimeError):
    """The library folder: its database, a scan, a user's tempo correction (engine/library/)."""


class SearchError(SbfError, ValueError):
    """A search that cannot be run as asked: no such file in the library, a target tempo out of range."""


class ModelError(SbfError, RuntimeError):
    """A network or calibration that cannot run: no runtime installed, weights for another track space."""


class TrainingError(SbfError, RuntimeError):
    """Training or fine-tuning that cannot start: no torch in this install, too few files to learn from."""
