"""libopenmpt through ctypes: render a tracker module at a tempo factor, timing every row it plays.

libopenmpt's ``play.tempo_factor`` scales the tick length, so the same samples play at the same
pitch, faster or slower: a true tempo change of sample-based music. openmpt123 itself is not used
(see ``render_rows``).
"""

from __future__ import annotations

import ctypes
from dataclasses import dataclass
from pathlib import Path

import numpy as np

RENDER_SR = 48_000  # libopenmpt renders here; resampled to 16 kHz with soxr (anti-aliased)
PROBE_CHUNK = 16  # samples at RENDER_SR per libopenmpt read while timing rows: 0.33 ms resolution


def libopenmpt() -> ctypes.CDLL:
    """The library openmpt123 plays with; its C API also reports the speed, tempo and row being played."""
    lib = ctypes.CDLL("libopenmpt.so.0")
    lib.openmpt_module_create_from_memory2.restype = ctypes.c_void_p
    lib.openmpt_module_create_from_memory2.argtypes = [
        ctypes.c_void_p, ctypes.c_size_t, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p,
        ctypes.POINTER(ctypes.c_int), ctypes.c_void_p, ctypes.c_void_p]
    for name in ("get_current_speed", "get_current_tempo", "get_current_row", "get_current_order",
                 "get_num_subsongs"):
        getattr(lib, f"openmpt_module_{name}").restype = ctypes.c_int32
        getattr(lib, f"openmpt_module_{name}").argtypes = [ctypes.c_void_p]
    lib.openmpt_module_get_duration_seconds.restype = ctypes.c_double
    lib.openmpt_module_get_duration_seconds.argtypes = [ctypes.c_void_p]
    lib.openmpt_module_select_subsong.argtypes = [ctypes.c_void_p, ctypes.c_int32]
    lib.openmpt_module_ctl_set_floatingpoint.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_double]
    lib.openmpt_module_read_float_stereo.restype = ctypes.c_size_t
    lib.openmpt_module_read_float_stereo.argtypes = [ctypes.c_void_p, ctypes.c_int32, ctypes.c_size_t,
                                                     ctypes.c_void_p, ctypes.c_void_p]  # float buffers
    lib.openmpt_module_destroy.argtypes = [ctypes.c_void_p]
    return lib


class OpenMpt:
    """One loaded module (one subsong, one tempo factor) in libopenmpt, freed on exit."""

    def __init__(self, path: Path, subsong: int = 0, tau: float = 1.0):
        self.lib = libopenmpt()
        self.data = path.read_bytes()
        error = ctypes.c_int(0)
        silent = ctypes.cast(self.lib.openmpt_log_func_silent, ctypes.c_void_p)
        self.mod = self.lib.openmpt_module_create_from_memory2(
            self.data, len(self.data), silent, None, None, None, ctypes.byref(error), None, None)
        if not self.mod:
            raise ValueError(f"libopenmpt cannot load {path} (error {error.value})")
        self.lib.openmpt_module_select_subsong(self.mod, subsong)
        self.lib.openmpt_module_ctl_set_floatingpoint(self.mod, b"play.tempo_factor", tau)

    def __enter__(self) -> OpenMpt:
        return self

    def __exit__(self, *exc) -> None:
        self.lib.openmpt_module_destroy(self.mod)

    def call(self, name: str):
        """``openmpt_module_<name>(module)``: the getters that take only the module."""
        return getattr(self.lib, f"openmpt_module_{name}")(self.mod)


@dataclass(frozen=True)
class RowTiming:
    """Rows in playing order: start time (s, at the probed tau), order, row, speed and tempo."""

    starts: np.ndarray
    orders: np.ndarray
    rows: np.ndarray
    speeds: np.ndarray
    tempi: np.ndarray


def render_rows(path: Path, subsong: int, tau: float, seconds: float) -> tuple[np.ndarray, RowTiming]:
    """Mono audio at RENDER_SR for the first ``seconds`` at tempo factor ``tau``, and every row's timing.

    Reading PROBE_CHUNK samples at a time and noting where (order, row) changes gives each row's
    start to 0.33 ms, including everything that stretches rows (pattern delays, speed and tempo
    effects anywhere in the song); the speed and tempo are those in effect on that row. The audio
    equals openmpt123's (waveform correlation 1.000 at tau 0.5, 1, 2); openmpt123 itself is not
    used because its ``--tempo`` rounds the factor to a step of 2^(1/24) (0.7 plays at 0.7071,
    1.2 at 1.1892).
    """
    n_chunks = int(seconds * RENDER_SR / PROBE_CHUNK)
    stereo = np.zeros((2, n_chunks * PROBE_CHUNK), dtype=np.float32)
    step = PROBE_CHUNK * stereo.itemsize
    starts, orders, rows, speeds, tempi = [], [], [], [], []
    last = None
    with OpenMpt(path, subsong, tau) as mod:
        read = mod.lib.openmpt_module_read_float_stereo
        order, row = mod.lib.openmpt_module_get_current_order, mod.lib.openmpt_module_get_current_row
        left, right, handle = stereo[0].ctypes.data, stereo[1].ctypes.data, mod.mod
        for chunk in range(n_chunks):
            if read(handle, RENDER_SR, PROBE_CHUNK, left + chunk * step, right + chunk * step) == 0:
                break
            position = (order(handle), row(handle))
            if position != last:
                last = position
                starts.append(chunk * PROBE_CHUNK / RENDER_SR)
                orders.append(position[0])
                rows.append(position[1])
                speeds.append(mod.call("get_current_speed"))
                tempi.append(mod.call("get_current_tempo"))
    timing = RowTiming(np.array(starts), np.array(orders), np.array(rows), np.array(speeds), np.array(tempi))
    return stereo.mean(axis=0), timing
