"""Previews through the sound card, on a background thread (decoding a file takes a moment).

Without PortAudio or an output device the app still works: the player says so once in the status
bar and every other feature carries on.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Signal, Slot

from engine.audio import AudioError, load_mono, probe
from desktop.workers import ThreadWorker

NO_OUTPUT = "No audio output available ({}): previews are off, everything else works."


class AudioPlayer(ThreadWorker):
    """Plays one file at a time (mono, at the file's own sample rate); a new play stops the last."""

    playing = Signal(str, float)  # path, seconds it plays for
    problem = Signal(str)

    _play_requested = Signal(str)
    _stop_requested = Signal()

    def __init__(self) -> None:
        super().__init__()
        self._play_requested.connect(self._play)
        self._stop_requested.connect(self._stop)

    def play(self, path: str) -> None:
        self._play_requested.emit(path)

    def stop(self) -> None:
        self._stop_requested.emit()

    @Slot(str)
    def _play(self, path: str) -> None:
        try:
            import sounddevice as sd  # raises OSError where the PortAudio library is missing
        except OSError as e:
            self.problem.emit(NO_OUTPUT.format(e))
            return
        try:
            audio = load_mono(path, sr=probe(path).sample_rate)
        except AudioError as e:
            self.problem.emit(f"Cannot play {Path(path).name}: {e.reason}")
            return
        try:
            sd.play(audio.samples, audio.sample_rate)
        except (sd.PortAudioError, ValueError) as e:  # ValueError: no default output device
            self.problem.emit(NO_OUTPUT.format(e))
            return
        self.playing.emit(path, audio.samples.size / audio.sample_rate)

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
