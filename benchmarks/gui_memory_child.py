"""The desktop app as ``sbf gui --screenshot`` starts it, reporting when it listed the library and
answered the query, and its memory then: run by :mod:`benchmarks.bench_gui_memory` in a process of
its own. Prints one JSON line.

Usage: ``python -m benchmarks.gui_memory_child LIBRARY_DIR QUERY BPM OUT.png LAUNCHED_AT``
(``LAUNCHED_AT``: the parent's ``time.time()`` when it started this process).
"""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import json
import resource
import sys
import time
from pathlib import Path


def memory_mb() -> dict[str, float]:
    """This process' resident set now and at its peak so far (VmRSS, VmHWM), MB."""
    out = {}
    with open("/proc/self/status") as f:
        for line in f:
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                out[key] = int(value.split()[0]) / 1024
    return out


def main() -> int:
    library_dir, query, bpm, png, launched = sys.argv[1], sys.argv[2], float(sys.argv[3]), sys.argv[4], float(sys.argv[5])
    events: dict[str, dict] = {"started": {"s": time.time() - launched, **memory_mb()}}

    # What desktop/app.py's main() does for `sbf gui --screenshot FILE --query Q --bpm N`, with two listeners.
    from PySide6.QtWidgets import QApplication

    from desktop.main_window import TITLE, MainWindow
    from desktop.screenshot import ScreenshotDriver

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName(TITLE)
    events["qt_ready"] = {"s": time.time() - launched, **memory_mb()}
    window = MainWindow(Path(library_dir), settings=None)
    driver = ScreenshotDriver(window, Path(png), Path(query), bpm, None)

    def listed(catalog) -> None:
        if "listed" not in events and catalog.tracks:
            events["listed"] = {"s": time.time() - launched, "tracks": len(catalog.tracks), **memory_mb()}

    def answered(answer) -> None:
        if "answered" not in events and answer.request.path == window.query():
            events["answered"] = {"s": time.time() - launched, "results": len(answer.results), "error": answer.error,
                                  "window": None if answer.window is None else answer.window.available, **memory_mb()}

    window.catalog_shown.connect(listed)
    window.results_shown.connect(answered)
    window.show()
    status = app.exec()
    window.shutdown()
    events["exit"] = {"s": time.time() - launched, "status": status, "error": driver.error,
                      "ru_maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, **memory_mb()}
    print(json.dumps(events), flush=True)
    return status


if __name__ == "__main__":
    sys.exit(main())
