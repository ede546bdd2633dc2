"""A stand-in for the `sounddevice` module that plays a signal into `Recorder` as if a microphone
captured it (Buzz's `mock_sounddevice` idea). Used by tests and by `bestbox voice --wav
--realtime`, so a file goes through the same capture → resample → VAD → speculation path as a mic.

`speed` 1.0 paces blocks in real time; larger is faster; 0 feeds as fast as possible.
`fail_after_s` simulates a device that disappears mid-recording.
"""
from __future__ import annotations

import threading
import time
from typing import Any, Callable

import numpy as np


class PortAudioError(Exception):
    pass


class _Status:
    input_overflow = False

    def __bool__(self) -> bool:
        return False


class FileSoundDevice:
    PortAudioError = PortAudioError

    def __init__(self, signal: np.ndarray, samplerate: int, *, name: str = "file", speed: float = 1.0,
                 tail_silence_s: float = 5.0, fail_after_s: float | None = None, channels: int = 1,
                 devices: list[dict] | None = None):
        self.signal = np.asarray(signal, dtype=np.float32)
        if self.signal.ndim == 1:
            self.signal = self.signal[:, None]
        self.rate = samplerate
        self.name = name
        self.speed = speed
        self.tail_silence_s = tail_silence_s
        self.fail_after_s = fail_after_s
        self.channels = channels
        self._devices = devices
        self.default = type("Default", (), {"device": [0, -1]})()
        self.streams: list[_FileStream] = []

    def query_hostapis(self):
        return ({"name": "ALSA", "devices": [0], "default_input_device": 0, "default_output_device": -1},)

    def query_devices(self):
        if self._devices is not None:
            return self._devices
        return [{"name": self.name, "index": 0, "hostapi": 0, "max_input_channels": self.channels,
                 "max_output_channels": 0, "default_samplerate": float(self.rate)}]

    def InputStream(self, *, device, channels, samplerate, dtype, blocksize, callback, finished_callback=None):
        if int(samplerate) != self.rate:
            raise PortAudioError(f"Invalid sample rate {samplerate} (file is {self.rate} Hz)")
        s = _FileStream(self, channels, blocksize, callback, finished_callback)
        self.streams.append(s)
        return s


class _FileStream:
    def __init__(self, dev: FileSoundDevice, channels: int, blocksize: int,
                 callback: Callable, finished: Callable | None):
        self.dev, self.channels, self.blocksize = dev, channels, blocksize
        self.callback, self.finished = callback, finished
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.active = False

    def start(self) -> None:
        self.active = True
        self._thread = threading.Thread(target=self._run, name="file-mic", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        d = self.dev
        sig = d.signal
        if sig.shape[1] < self.channels:
            sig = np.repeat(sig[:, :1], self.channels, axis=1)
        sig = sig[:, :self.channels]
        tail = np.zeros((int(d.tail_silence_s * d.rate), self.channels), dtype=np.float32)
        full = np.concatenate([sig, tail])
        t0 = time.perf_counter()
        pos = 0
        status: Any = _Status()
        while not self._stop.is_set() and pos < len(full):
            if d.fail_after_s is not None and pos >= d.fail_after_s * d.rate:
                break  # the device "disappears": callbacks stop, the stream finishes
            block = full[pos:pos + self.blocksize]
            if len(block) < self.blocksize:
                block = np.pad(block, ((0, self.blocksize - len(block)), (0, 0)))
            pos += self.blocksize
            if d.speed > 0:
                due = t0 + pos / d.rate / d.speed
                delay = due - time.perf_counter()
                if delay > 0:
                    self._stop.wait(delay)
            self.callback(block, self.blocksize, None, status)
        self.active = False
        if self.finished:
            self.finished()

    def stop(self) -> None:
        self._stop.set()
        if self._thread and self._thread is not threading.current_thread():
            self._thread.join(timeout=2)

    def close(self) -> None:
        self.stop()
