"""Issue 14: the app needs no network at run time. ``sbf index`` (with its spawned worker processes),
``sbf search`` and the desktop app's self-test run with every internet socket blocked, and none is tried."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import click_track, tone, write

ROOT = Path(__file__).resolve().parents[2]

# Loaded by every Python process of the run (and the workers they spawn, which inherit PYTHONPATH):
# internet sockets and name lookups are refused and written down; local (AF_UNIX) ones, which Qt and
# multiprocessing may use, work.
SITECUSTOMIZE = '''
import os, socket

_LOG = os.environ["SBF_NETWORK_LOG"]
_connect, _connect_ex = socket.socket.connect, socket.socket.connect_ex


def _tried(what):
    with open(_LOG, "a") as log:
        log.write(f"{os.getpid()} {what}\\n")
    return OSError(f"network access is blocked in this test: {what}")


def connect(self, address):
    if self.family in (socket.AF_INET, socket.AF_INET6):
        raise _tried(f"connect {address!r}")
    return _connect(self, address)


def connect_ex(self, address):
    if self.family in (socket.AF_INET, socket.AF_INET6):
        raise _tried(f"connect_ex {address!r}")
    return _connect_ex(self, address)


def getaddrinfo(host, *args, **kwargs):
    raise _tried(f"getaddrinfo {host!r}")


def sendto(self, *args):
    if self.family in (socket.AF_INET, socket.AF_INET6):
        raise _tried("sendto")
    return socket._socket.socket.sendto(self, *args)


socket.socket.connect, socket.socket.connect_ex, socket.socket.sendto = connect, connect_ex, sendto
socket.getaddrinfo = getaddrinfo
'''


def test_index_search_and_the_apps_selftest_work_with_the_network_blocked(tmp_path):
    guard = tmp_path / "guard"
    guard.mkdir()
    (guard / "sitecustomize.py").write_text(SITECUSTOMIZE)
    log = tmp_path / "network.log"
    folder = tmp_path / "samples"
    write(folder / "loop_100bpm.wav", click_track(100, 4.8))
    write(folder / "loop_120bpm.wav", click_track(120, 4.0, pitch=600))
    write(folder / "loop_140bpm.wav", click_track(140, 3.5, pitch=300))
    write(folder / "pad.flac", tone(220, 3.2))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(guard), str(ROOT)]), "SBF_NETWORK_LOG": str(log),
           "QT_QPA_PLATFORM": "offscreen"}

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, *args], env=env, cwd=tmp_path, capture_output=True, text=True,
                              timeout=300)

    # The guard is in force: a connection is refused and written down.
    probe = run("-c", "import socket; socket.create_connection(('192.0.2.1', 80), timeout=1)")
    assert probe.returncode != 0 and "network access is blocked" in probe.stderr
    assert log.read_text().count("\n") >= 1
    log.unlink()

    lib = str(tmp_path / "lib")
    indexed = run("-m", "sbf", "index", str(folder), "--workers", "2", "--json", "--library-dir", lib)
    assert indexed.returncode == 0, indexed.stderr
    assert json.loads(indexed.stdout)["counts"] == {"indexed": 4}
    found = run("-m", "sbf", "search", str(folder / "loop_120bpm.wav"), "--bpm", "130", "--bpm-window", "0", "--json",
                "--library-dir", lib)
    assert found.returncode == 0, found.stderr
    assert json.loads(found.stdout)
    selftest = run("-m", "sbf", "gui", "--selftest", str(folder), "--workers", "2")
    assert selftest.returncode == 0, selftest.stdout + selftest.stderr

    assert not log.exists(), f"network access was tried:\n{log.read_text()}"
