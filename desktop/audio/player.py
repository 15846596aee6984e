"""Previews through the sound card, and the query's waveform, on a background thread (decoding and
stretching a file take a moment).

Latest wins, as on the library thread: arrowing through twenty rows asks for twenty waveforms, but
only the newest one waiting is worked out, and a Play or Stop pressed meanwhile goes before it.

Without PortAudio or an output device the app still works: the player says so in the status bar
and every other feature carries on.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
from PySide6.QtCore import Signal, Slot

from engine.audio.decode import AudioError
from engine.config import DESKTOP, DesktopConfig
from engine.audio.stretched import file_stamp, load_stretched, stretched_audio
from desktop.latency import preload_audio_code
from desktop.library_worker import ThreadWorker
from desktop.messages import Playback, Waveform
from desktop.widgets.waveform import waveform_envelope

NO_OUTPUT = "No audio output available ({}): previews are off, everything else works."
STOP = "stop"  # the Stop pressed, as a pending transport request


@dataclass(frozen=True)
class PlayRequest:
    """Play ``path`` from ``start`` seconds into the file at ``tau`` times its tempo; ``stretched``: a
    copy of it already at ``tau`` (the tempo lock's), played as it is instead of stretching again."""

    path: str
    tau: float
    start: float
    stretched: str | None


class AudioPlayer(ThreadWorker):
    """Plays one file at a time (mono, at the file's own sample rate); a new play stops the last.

    A file can play from any point (the waveform's seek) and at another tempo (the tempo-locked
    preview); recent decodes are kept, up to ``cfg.decoded_cache_bytes``, so playing the query again,
    or after its waveform was drawn, decodes nothing.
    """

    playing = Signal(Playback)
    waveform_ready = Signal(Waveform)
    problem = Signal(str)
    warmed_up = Signal(float)  # seconds librosa's warm-up took on this thread

    _posted = Signal()
    _warm_up_requested = Signal()

    def __init__(self, cfg: DesktopConfig = DESKTOP) -> None:
        super().__init__()
        self._cfg = cfg
        self._lock = threading.Lock()
        self._transport: PlayRequest | Literal["stop"] | None = None  # the newest Play or Stop not acted on
        self._waveform_path: str | None = None  # the newest waveform asked for and not started
        self._decoded: OrderedDict[tuple[str, float, tuple[int, int]], tuple[np.ndarray, int]] = OrderedDict()
        self._decoded_bytes = 0
        self._posted.connect(self._next)
        self._warm_up_requested.connect(self._warm_up)

    # --- called from the GUI thread ------------------------------------------------------------

    def play(self, path: str, tau: float = 1.0, start: float = 0.0, stretched: str | None = None) -> None:
        """Play ``path`` from ``start`` seconds into the file at ``tau`` times its tempo (2: twice as
        fast); ``stretched``: a copy of ``path`` already at ``tau``, to play instead of stretching it."""
        self._post_transport(PlayRequest(path, tau, start, stretched))

    def stop(self) -> None:
        self._post_transport(STOP)

    def warm_up(self) -> None:
        """Compile librosa's kernels on the audio thread now, before the first file needs them;
        ``warmed_up`` says when it is done."""
        self._warm_up_requested.emit()

    def load_waveform(self, path: str) -> None:
        """Work out ``path``'s waveform envelope (instead of any asked for and not started);
        ``waveform_ready`` brings it."""
        with self._lock:
            self._waveform_path = path
        self._posted.emit()

    def _post_transport(self, request: PlayRequest | Literal["stop"]) -> None:
        with self._lock:
            self._transport = request  # a newer press replaces one not acted on yet
        self._posted.emit()

    # --- on the audio thread -------------------------------------------------------------------

    @Slot()
    def _next(self) -> None:
        """One request per wake-up, Play and Stop first; every request posts one wake-up, so none is
        left behind, and those that found their request taken by an earlier one return at once."""
        with self._lock:
            transport, self._transport = self._transport, None
            path = None
            if transport is None:
                path, self._waveform_path = self._waveform_path, None
        if transport == STOP:
            self._stop()
        elif transport is not None:
            self._play(transport)
        elif path is not None:
            self._waveform(path)

    def _play(self, request: PlayRequest) -> None:
        try:
            import sounddevice as sd  # raises OSError where the PortAudio library is missing
        except OSError as e:
            self.problem.emit(NO_OUTPUT.format(e))
            return
        path, tau = request.path, request.tau
        try:
            samples, sample_rate = self._audio(path, tau, request.stretched)
        except AudioError as e:
            self.problem.emit(f"Cannot play {Path(path).name}: {e.reason}")
            return
        offset = min(len(samples), max(0, round(request.start / tau * sample_rate)))  # start: in the file's own time
        try:
            sd.play(samples[offset:], sample_rate)
        except (sd.PortAudioError, ValueError) as e:  # ValueError: no default output device
            self.problem.emit(NO_OUTPUT.format(e))
            return
        self.playing.emit(Playback(path, tau, request.start, (len(samples) - offset) / sample_rate))

    @Slot()
    def _warm_up(self) -> None:
        started = time.perf_counter()
        preload_audio_code()
        self.warmed_up.emit(time.perf_counter() - started)

    def _waveform(self, path: str) -> None:
        try:
            samples, sample_rate = self._audio(path, 1.0)
        except AudioError as e:
            self.waveform_ready.emit(Waveform(path, np.zeros((0, 2), np.float32), 0.0, e.reason))
            return
        envelope = waveform_envelope(samples, self._cfg.waveform_columns)
        self.waveform_ready.emit(Waveform(path, envelope, len(samples) / sample_rate))

    def _audio(self, path: str, tau: float, stretched: str | None = None) -> tuple[np.ndarray, int]:
        """``path`` decoded (and stretched by ``tau``, or read from ``stretched``), from the recent
        decodes when the file is unchanged."""
        key = (path, tau, file_stamp(path))
        if key not in self._decoded:
            samples, sample_rate = self._decode(path, tau, stretched)
            self._decoded[key] = samples, sample_rate
            self._decoded_bytes += samples.nbytes
            while self._decoded_bytes > self._cfg.decoded_cache_bytes and len(self._decoded) > 1:
                old, _rate = self._decoded.popitem(last=False)[1]
                self._decoded_bytes -= old.nbytes
        self._decoded.move_to_end(key)
        return self._decoded[key]

    def _decode(self, path: str, tau: float, stretched: str | None) -> tuple[np.ndarray, int]:
        if stretched is not None:
            try:
                return load_stretched(stretched)
            except AudioError:
                pass  # the cache folder was cleared meanwhile: stretch the file again
        return stretched_audio(path, tau, self._cfg)

    def _stop(self) -> None:
        try:
            import sounddevice as sd
        except OSError:
            return  # no PortAudio: nothing can be playing
        sd.stop()

    @Slot()
    def close(self) -> None:
        self._stop()
        self._decoded.clear()
        self._decoded_bytes = 0
