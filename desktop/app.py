"""Start the desktop app: ``sbf gui``, ``sbf-gui`` or ``python -m desktop``.

``--screenshot FILE.png`` renders the window offscreen on the current library with a query and its
neighbours showing, saves it and exits (``--query FILE`` and ``--bpm N`` choose what it shows);
``--results-json FILE`` writes the list of results it shows (path, bpm, score, tau per result), with
or without a screenshot.
``--selftest [FOLDER]`` indexes the demo library (or FOLDER) into a temporary library, runs a
tempo-targeted search, prints a report and exits 0 when everything worked (desktop/selftest.py).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from engine.config import DEMO_DIR
from engine.library.facade import default_library_dir
from engine.search.session import MODES

EXIT_NO_QT = 2  # as every other user-fixable problem of `sbf`


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="sbf gui", description="Similar But Faster: the sample browser with a tempo knob.")
    p.add_argument("--library-dir", type=Path, help="where the library database lives")
    p.add_argument("--demo", action="store_true", help="open the bundled demo library (indexed on first use)")
    p.add_argument("--screenshot", type=Path, metavar="FILE.png",
                   help="render the window offscreen with a query and its neighbours, save it and exit")
    p.add_argument("--results-json", type=Path, metavar="FILE",
                   help="write the results the window lists (path, bpm, score, tau) as JSON and exit; "
                        "with or without --screenshot")
    p.add_argument("--query", type=Path, metavar="FILE", help="the query to show (default: the first loop listed)")
    p.add_argument("--bpm", type=float, help="turn the tempo knob to this BPM")
    p.add_argument("--mode", choices=MODES, help="search mode to show when no --bpm is given")
    p.add_argument("--workers", type=int, default=None, help="analysis processes while indexing")
    p.add_argument("--selftest", type=Path, nargs="?", const=DEMO_DIR, metavar="FOLDER",
                   help="index the demo library (or FOLDER) into a temporary library, search it, report, exit")
    return p


def _no_display() -> bool:
    """On Linux without X11 or Wayland, only Qt's offscreen platform can start."""
    return sys.platform.startswith("linux") and not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    scripted = args.screenshot is not None or args.results_json is not None  # shown to a script, not a person
    if scripted or (args.selftest is not None and _no_display()):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # no display needed, nothing flashes up
    # Qt is imported only now, so that `sbf gui --help` and argument errors need no display libraries.
    try:
        from PySide6.QtWidgets import QApplication
    except ImportError as e:
        print(f"sbf gui: Qt cannot start ({e}). Install PySide6-Essentials and the system libraries "
              "scripts/system-deps.sh lists.", file=sys.stderr)
        return EXIT_NO_QT

    from desktop.main_window import TITLE, MainWindow
    from desktop.screenshot import ScreenshotDriver

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName(TITLE)
    if args.selftest is not None:
        from desktop.selftest import run_selftest

        return run_selftest(app, args.selftest, args.workers)
    from desktop.window_state import app_settings

    # A screenshot shows the library as it is and leaves the musician's window state alone.
    settings = None if scripted else app_settings()
    window = MainWindow(args.library_dir or default_library_dir(), index_workers=args.workers, settings=settings)
    driver = None
    if scripted:
        driver = ScreenshotDriver(window, args.screenshot, args.query, args.bpm, args.mode, args.results_json)
    if args.demo:
        window.open_demo()
    window.show()
    status = app.exec()
    window.shutdown()
    if driver is not None and driver.error:
        print(f"sbf gui: {driver.error}", file=sys.stderr)
    return status
