"""Issue 14, case 8 (a worker's death): when a file takes its worker process down, only that file is failed;
the others the pool held are analysed again, and the scan goes on."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from engine.library.scan import CRASHED, Scanner
from engine.library.store import Store
from tests.conftest import click_track, write
from tests.faults.workers_kit import CrashOn, QuickEmbedder


def folder_of(tmp_path: Path, names: list[str]) -> Path:
    folder = tmp_path / "samples"
    for i, name in enumerate(names):
        write(folder / name, click_track(90 + 7 * i, 1.0, seed=i))
    return folder


def scan(store: Store, folder: Path, analyser: CrashOn, workers: int = 2) -> dict[str, tuple[str, str | None]]:
    scanner = Scanner(store, QuickEmbedder(), workers=workers)
    scanner.analysers = (analyser,)
    return {Path(e.path).name: (e.outcome, e.reason) for e in scanner.scan(folder)}


def test_only_the_file_that_kills_its_worker_is_failed(tmp_path):
    names = ["a_crash.wav"] + [f"loop_{i}.wav" for i in range(7)]
    folder = folder_of(tmp_path, names)
    store = Store(tmp_path / "lib.sqlite3")
    events = scan(store, folder, CrashOn("crash"))
    assert events["a_crash.wav"] == ("failed", CRASHED)
    assert Counter(outcome for outcome, _ in events.values()) == {"indexed": 7, "failed": 1}
    assert [Path(r.path).name for r in store.files("failed")] == ["a_crash.wav"]
    assert len(store.files("ok")) == 7
    store.close()


def test_two_crashing_files_among_many_are_the_two_failed(tmp_path):
    names = ["crash_1.wav", "crash_2.wav"] + [f"loop_{i}.wav" for i in range(3)]
    store = Store(tmp_path / "lib.sqlite3")
    events = scan(store, folder_of(tmp_path, names), CrashOn("crash"))
    assert {n for n, (outcome, _) in events.items() if outcome == "failed"} == {"crash_1.wav", "crash_2.wav"}
    assert len(store.files("ok")) == 3
    store.close()


def test_a_crash_that_does_not_happen_again_fails_nothing(tmp_path):
    # The worker died once (out of memory, killed by someone): every file it held is analysed again.
    names = ["a_crash.wav"] + [f"loop_{i}.wav" for i in range(5)]
    store = Store(tmp_path / "lib.sqlite3")
    events = scan(store, folder_of(tmp_path, names), CrashOn("crash", once=str(tmp_path / "crashed-once")))
    assert (tmp_path / "crashed-once").exists()
    assert Counter(outcome for outcome, _ in events.values()) == {"indexed": 6}
    store.close()
