"""Previews through the sound card, and the query's waveform, on a background thread (decoding and
stretching a file take a moment).

Without PortAudio or an output device the app still works: the player says so in the status bar
and every other feature carries on.
"""

from __future__ import annotations

import os
from collections import OrderedDict
from pathlib import Path

import numpy as np
from PySide6.QtCore import Signal, Slot

from engine.audio import AudioError
from engine.config import DESKTOP, DesktopConfig
from engine.render import stretched_audio
from desktop.latency import preload_audio_code
from desktop.messages import Playback, Waveform
from desktop.waveform import waveform_envelope
from desktop.workers import ThreadWorker

NO_OUTPUT = "No audio output available ({}): previews are off, everything else works."
KEPT_DECODES = 8  # decoded (and stretched) sounds kept: the query, its waveform and a few results


class AudioPlayer(ThreadWorker):
    """Plays one file at a time (mono, at the file's own sample rate); a new play stops the last.

    A file can play from any point (the waveform's seek) and at another tempo (the tempo-locked
    preview); the last few decodes are kept, so playing the query again, or after its waveform was
    drawn, decodes nothing.
    """

    playing = Signal(Playback)
    waveform_ready = Signal(Waveform)
    problem = Signal(str)

    _play_requested = Signal(str, float, float)
    _stop_requested = Signal()
    _waveform_requested = Signal(str)
    _warm_up_requested = Signal()

    def __init__(self, cfg: DesktopConfig = DESKTOP) -> None:
        super().__init__()
        self._cfg = cfg
        self._decoded: OrderedDict[tuple[str, float, int], tuple[np.ndarray, int]] = OrderedDict()
        self._play_requested.connect(self._play)
        self._stop_requested.connect(self._stop)
        self._waveform_requested.connect(self._waveform)
        self._warm_up_requested.connect(self._warm_up)

    # --- called from the GUI thread ------------------------------------------------------------

    def play(self, path: str, tau: float = 1.0, start: float = 0.0) -> None:
        """Play ``path`` from ``start`` seconds into the file at ``tau`` times its tempo (2: twice as fast)."""
        self._play_requested.emit(path, tau, start)

    def stop(self) -> None:
        self._stop_requested.emit()

    def warm_up(self) -> None:
        """Compile librosa's kernels on the audio thread now, before the first file needs them."""
        self._warm_up_requested.emit()

    def load_waveform(self, path: str) -> None:
        """Work out ``path``'s waveform envelope; ``waveform_ready`` brings it."""
        self._waveform_requested.emit(path)

    # --- on the audio thread -------------------------------------------------------------------

    @Slot(str, float, float)
    def _play(self, path: str, tau: float, start: float) -> None:
        try:
            import sounddevice as sd  # raises OSError where the PortAudio library is missing
        except OSError as e:
            self.problem.emit(NO_OUTPUT.format(e))
            return
        try:
            samples, sample_rate = self._audio(path, tau)
        except AudioError as e:
            self.problem.emit(f"Cannot play {Path(path).name}: {e.reason}")
            return
        offset = min(len(samples), max(0, round(start / tau * sample_rate)))  # start is in the file's own time
        try:
            sd.play(samples[offset:], sample_rate)
        except (sd.PortAudioError, ValueError) as e:  # ValueError: no default output device
            self.problem.emit(NO_OUTPUT.format(e))
            return
        self.playing.emit(Playback(path, tau, start, (len(samples) - offset) / sample_rate))

    @Slot()
    def _warm_up(self) -> None:
        preload_audio_code()

    @Slot(str)
    def _waveform(self, path: str) -> None:
        try:
            samples, sample_rate = self._audio(path, 1.0)
        except AudioError as e:
            self.waveform_ready.emit(Waveform(path, np.zeros((0, 2), np.float32), 0.0, e.reason))
            return
        envelope = waveform_envelope(samples, self._cfg.waveform_columns)
        self.waveform_ready.emit(Waveform(path, envelope, len(samples) / sample_rate))

    def _audio(self, path: str, tau: float) -> tuple[np.ndarray, int]:
        """``path`` decoded (and stretched by ``tau``), from the last few decodes when it is unchanged."""
        try:
            key = (path, tau, os.stat(path).st_mtime_ns)
        except OSError as e:
            raise AudioError(path, "the file is gone or cannot be read") from e
        if key not in self._decoded:
            self._decoded[key] = stretched_audio(path, tau, self._cfg)
            while len(self._decoded) > KEPT_DECODES:
                self._decoded.popitem(last=False)
        self._decoded.move_to_end(key)
        return self._decoded[key]

    @Slot()
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
