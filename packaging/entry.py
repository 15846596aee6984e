"""The packaged app's entry point: the desktop app, or the ``sbf`` command line.

``SimilarButFaster`` (with or without options such as ``--selftest``) opens the desktop app;
``SimilarButFaster index ~/Samples`` and every other ``sbf`` command run the command line, so the
one executable is both ``sbf-gui`` and ``sbf``.
"""

from __future__ import annotations

import multiprocessing
import sys


def run(argv: list[str]) -> int:
    """An ``sbf`` command when the first argument is one (it never starts with "-"), else the app."""
    if argv and not argv[0].startswith("-"):
        from sbf.cli import main as cli_main

        return cli_main(argv)
    from desktop.app import main as app_main

    return app_main(argv)


if __name__ == "__main__":
    # First of all: the scan's worker processes start this same executable, and this turns them
    # into workers instead of second copies of the app.
    multiprocessing.freeze_support()
    sys.exit(run(sys.argv[1:]))
