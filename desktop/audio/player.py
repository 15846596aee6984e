"""Previews through the sound card, and the query's waveform, as jobs on the audio lane (decoding
and stretching a file take a moment).

Latest wins, as on the library's lane: arrowing through twenty rows asks for twenty waveforms, but
only the newest one waiting is worked out, and a Play or Stop pressed meanwhile goes before it.

Without PortAudio or an output device the app still works: the player says so in the status bar
and every other feature carries on.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import numpy as np
from PySide6.QtCore import Signal, SignalInstance

from engine.audio.decode import AudioError
from engine.audio.stretched import file_stamp, load_stretched, stretched_audio
from engine.config import DESKTOP, DesktopConfig
from engine.errors import SbfError
from desktop.jobs import Job, Worker
from desktop.latency import preload_audio_code
from desktop.messages import Playback, Waveform
from desktop.widgets.waveform import waveform_envelope

NO_OUTPUT = "No audio output available ({}): previews are off, everything else works."
TRANSPORT, WAVEFORM = "transport", "waveform"  # the mailboxes: the newest Play or Stop, the newest waveform


class PreviewError(SbfError):
    """A preview that cannot sound: no output device, or a file that cannot be decoded."""


@dataclass(frozen=True)
class PlayRequest:
    """Play ``path`` from ``start`` seconds into the file at ``tau`` times its tempo; ``stretched``: a
    copy of it already at ``tau`` (the tempo lock's), played as it is instead of stretching again."""

    path: str
    tau: float
    start: float
    stretched: str | None


class AudioPlayer(Worker):
    """Plays one file at a time (mono, at the file's own sample rate); a new play stops the last.

    A file can play from any point (the waveform's seek) and at another tempo (the tempo-locked
    preview); recent decodes are kept, up to ``cfg.decoded_cache_bytes``, so playing the query again,
    or after its waveform was drawn, decodes nothing.
    """

    playing = Signal(Playback)
    waveform_ready = Signal(Waveform)
    problem = Signal(str)
    warmed_up = Signal(float)  # seconds librosa's warm-up took on the audio lane

    def __init__(self, cfg: DesktopConfig = DESKTOP, synchronous: bool | None = None) -> None:
        super().__init__(synchronous)
        self._cfg = cfg
        self._decoded: OrderedDict[tuple[str, float, tuple[int, int]], tuple[np.ndarray, int]] = OrderedDict()
        self._decoded_bytes = 0  # the decodes belong to the lane's thread

    # --- called from the GUI thread ------------------------------------------------------------

    def play(self, path: str, tau: float = 1.0, start: float = 0.0, stretched: str | None = None) -> None:
        """Play ``path`` from ``start`` seconds into the file at ``tau`` times its tempo (2: twice as
        fast); ``stretched``: a copy of ``path`` already at ``tau``, to play instead of stretching it."""
        self._submit(partial(self._play, PlayRequest(path, tau, start, stretched)), self.playing, TRANSPORT)

    def stop(self) -> None:
        self._submit(self._stop, None, TRANSPORT)

    def warm_up(self) -> None:
        """Compile librosa's kernels on the audio lane now, before the first file needs them;
        ``warmed_up`` says when it is done."""
        self._submit(self._warm_up, self.warmed_up)

    def load_waveform(self, path: str) -> None:
        """Work out ``path``'s waveform envelope (instead of any asked for and not started);
        ``waveform_ready`` brings it."""
        self._submit(partial(self._waveform, path), self.waveform_ready, WAVEFORM)

    def _submit(self, work: Callable[[], object], answer: SignalInstance | None, mailbox: str | None = None) -> None:
        job = Job(work, mailbox)
        if answer is not None:
            job.returned.connect(answer.emit)
        job.failed.connect(self.problem)
        self.lane.submit(job, first=mailbox == TRANSPORT)  # a press goes before the waveforms waiting

    # --- on the audio lane ---------------------------------------------------------------------

    def _play(self, request: PlayRequest) -> Playback:
        try:
            import sounddevice as sd  # raises OSError where the PortAudio library is missing
        except OSError as e:
            raise PreviewError(NO_OUTPUT.format(e)) from e
        path, tau = request.path, request.tau
        try:
            samples, sample_rate = self._audio(path, tau, request.stretched)
        except AudioError as e:
            raise PreviewError(f"Cannot play {Path(path).name}: {e.reason}") from e
        offset = min(len(samples), max(0, round(request.start / tau * sample_rate)))  # start: in the file's own time
        try:
            sd.play(samples[offset:], sample_rate)
        except (sd.PortAudioError, ValueError) as e:  # ValueError: no default output device
            raise PreviewError(NO_OUTPUT.format(e)) from e
        return Playback(path, tau, request.start, (len(samples) - offset) / sample_rate)

    def _warm_up(self) -> float:
        started = time.perf_counter()
        preload_audio_code()
        return time.perf_counter() - started

    def _waveform(self, path: str) -> Waveform:
        try:
            samples, sample_rate = self._audio(path, 1.0)
        except AudioError as e:
            return Waveform(path, np.zeros((0, 2), np.float32), 0.0, e.reason)
        envelope = waveform_envelope(samples, self._cfg.waveform_columns)
        return Waveform(path, envelope, len(samples) / sample_rate)

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

    def close(self) -> None:
        self._stop()
        self._decoded.clear()
        self._decoded_bytes = 0
