"""Microphone capture: sounddevice InputStream in callback mode → 16 kHz mono blocks in asyncio.

The PortAudio callback runs on PortAudio's thread. It copies the block into a bounded deque under
a lock (when the deque is full the block is dropped and counted: a stalled consumer must never
stall the audio thread) and wakes the event loop with `loop.call_soon_threadsafe`. The asyncio side
downmixes, resamples from the device's native rate to 16 kHz and publishes the level (RMS dBFS).

The `sounddevice` module is injected (default: imported lazily), so tests and `voice --wav
--realtime` can feed a file through exactly this path (see `filesource.FileSoundDevice`).

A device error or a device that disappears mid-recording ends the recording cleanly with what was
captured (`end_reason == "device_error"`, `error` says what happened).
"""
from __future__ import annotations

import asyncio
import threading
import time
from collections import deque
from dataclasses import dataclass
from typing import Any, AsyncIterator, Callable

import numpy as np

from .devices import InputDevice, MicrophoneUnavailable, import_sounddevice, select_input_device
from .resample import TARGET_RATE, Resampler, dbfs, to_mono


@dataclass
class Block:
    samples: np.ndarray  # 16 kHz mono float32
    start_sample: int  # index of samples[0] in the recording (16 kHz)
    dbfs: float
    captured_ms: float  # perf-counter ms when its last sample was captured


class Recorder:
    """One recording. Use `await start()`, then `async for block in blocks()`; `stop()` ends it
    keeping the audio (hold-to-talk release, VAD end), `cancel()` discards it (Esc)."""

    def __init__(self, *, device: str = "", sounddevice: Any = None, max_record_s: float = 30.0,
                 block_ms: int = 20, max_queue_blocks: int = 500,
                 on_level: Callable[[float], None] | None = None, stall_timeout_s: float = 2.0):
        self._sd = sounddevice
        self.device_name = device
        self.max_record_s = max_record_s
        self.block_ms = block_ms
        self.on_level = on_level
        self.stall_timeout_s = stall_timeout_s
        self.device: InputDevice | None = None
        self.samplerate: float = 0.0
        self.channels = 1
        self._q: deque = deque()
        self._qmax = max_queue_blocks
        self._lock = threading.Lock()
        self.dropped_blocks = 0
        self.overflows = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wake = asyncio.Event()
        self._wake_pending = False
        self._stream = None
        self._resampler: Resampler | None = None
        self._chunks: list[np.ndarray] = []
        self.samples_recorded = 0
        self._times: list[tuple[int, float]] = []  # (end sample, captured ms) per block
        self.level_dbfs = -100.0
        self.end_reason: str | None = None  # stopped | max_length | device_error | cancelled
        self.error: str | None = None
        self._stop_reason: str | None = None
        self._finished_by_device = False
        self.started = False
        self.muted = False  # keep recording, but zeros (a mute control)

    # -- opening ---------------------------------------------------------------------------------
    @property
    def sd(self) -> Any:
        if self._sd is None:
            self._sd = import_sounddevice()
        return self._sd

    def _open(self) -> None:
        sd = self.sd
        self.device = select_input_device(self.device_name, sd)
        native = int(self.device.default_samplerate or 48000)
        self.channels = max(1, min(2, self.device.channels))
        errors = []
        for rate in dict.fromkeys([native, 48000, 44100, 16000]):
            try:
                self._stream = sd.InputStream(
                    device=self.device.index, channels=self.channels, samplerate=rate, dtype="float32",
                    blocksize=max(1, rate * self.block_ms // 1000), callback=self._callback,
                    finished_callback=self._finished)
                self.samplerate = float(rate)
                break
            except Exception as e:  # PortAudioError: invalid sample rate, device busy, ...
                errors.append(f"{rate} Hz: {e}")
        else:
            raise MicrophoneUnavailable(f"Cannot open the microphone '{self.device.name}': "
                                        + "; ".join(errors))
        self._resampler = Resampler(self.samplerate, TARGET_RATE)
        try:
            self._stream.start()
        except Exception as e:
            self._close_stream()
            raise MicrophoneUnavailable(f"Cannot start recording from '{self.device.name}': {e}") from e

    async def start(self) -> None:
        """Open the device at its native rate and start capturing (opening runs off the loop)."""
        self._loop = asyncio.get_running_loop()
        await self._loop.run_in_executor(None, self._open)
        self.started = True

    # -- PortAudio thread ------------------------------------------------------------------------
    def _callback(self, indata, frames, time_info, status) -> None:
        t = time.perf_counter() * 1000.0
        if status and getattr(status, "input_overflow", False):
            self.overflows += 1
        with self._lock:
            if len(self._q) >= self._qmax:
                self.dropped_blocks += 1
            else:
                self._q.append((indata.copy(), t))
            wake = not self._wake_pending
            self._wake_pending = True
        if wake:
            self._notify()

    def _finished(self) -> None:
        """PortAudio says the stream stopped: by us, or because the device went away."""
        if self._stop_reason is None:
            self._finished_by_device = True
        self._notify()

    def _notify(self) -> None:
        loop = self._loop
        if loop is None:
            return
        try:
            loop.call_soon_threadsafe(self._set_wake)
        except RuntimeError:  # loop closed
            pass

    def _set_wake(self) -> None:
        with self._lock:
            self._wake_pending = False
        self._wake.set()

    # -- asyncio side ----------------------------------------------------------------------------
    @property
    def stop_reason(self) -> str | None:
        """Why the recording was asked to end (None while it runs); `end_reason` once it has ended."""
        return self._stop_reason

    def stop(self, reason: str = "stopped") -> None:
        """End the recording, keeping what was captured. Safe from the loop thread."""
        if self._stop_reason is None:
            self._stop_reason = reason
        self._wake.set()

    def cancel(self) -> None:
        self.stop("cancelled")

    def _drain(self) -> list[tuple[np.ndarray, float]]:
        with self._lock:
            items = list(self._q)
            self._q.clear()
        return items

    def _convert(self, raw: np.ndarray, t: float) -> Block | None:
        assert self._resampler is not None
        y = self._resampler.process(to_mono(raw))
        if self.muted:
            y = np.zeros_like(y)
        if y.size == 0:
            return None
        start = self.samples_recorded
        self.samples_recorded += len(y)
        self._chunks.append(y)
        self._times.append((self.samples_recorded, t))
        level = dbfs(y)
        self.level_dbfs = level
        if self.on_level:
            self.on_level(level)
        return Block(y, start, level, t)

    async def blocks(self) -> AsyncIterator[Block]:
        """16 kHz blocks as they arrive, until stop/cancel, max length or a device error."""
        if not self.started:
            await self.start()
        max_samples = int(self.max_record_s * TARGET_RATE)
        last_data = time.monotonic()
        try:
            while True:
                try:
                    await asyncio.wait_for(self._wake.wait(), timeout=0.25)
                except asyncio.TimeoutError:
                    pass
                self._wake.clear()
                items = self._drain()
                if items:
                    last_data = time.monotonic()
                for raw, t in items:
                    if self._stop_reason == "cancelled":
                        break
                    b = self._convert(raw, t)
                    if b is not None:
                        yield b
                    if self.samples_recorded >= max_samples and self._stop_reason is None:
                        self._stop_reason = "max_length"
                if self._stop_reason is not None:
                    break
                if self._finished_by_device:
                    self._device_gone("the audio stream stopped (device disconnected?)")
                    break
                stream = self._stream
                if time.monotonic() - last_data > self.stall_timeout_s:
                    active = bool(getattr(stream, "active", False))
                    self._device_gone("the microphone stopped delivering audio" if active
                                      else "the audio stream is no longer active (device disconnected?)")
                    break
        finally:
            await self._finish()

    def _device_gone(self, why: str) -> None:
        self._stop_reason = "device_error"
        self.error = f"Recording ended: {why}. Kept {self.samples_recorded / TARGET_RATE:.1f} s of audio."

    async def _finish(self) -> None:
        if self.end_reason is not None:
            return
        self.end_reason = self._stop_reason or "stopped"
        loop = asyncio.get_running_loop()
        try:  # closing can block on some drivers: not on the event loop, and not forever
            await asyncio.wait_for(loop.run_in_executor(None, self._close_stream), timeout=2.0)
        except Exception:
            pass
        if self.end_reason not in ("cancelled", "max_length"):
            for raw, t in self._drain():  # captured before the stop was seen
                self._convert(raw, t)
        if self.end_reason == "max_length":
            self._drain()
            limit = int(self.max_record_s * TARGET_RATE)
            a = self.audio()[:limit]
            self._chunks = [a]
            self.samples_recorded = len(a)
        if self.end_reason == "cancelled":
            self._chunks.clear()

    def _close_stream(self) -> None:
        s, self._stream = self._stream, None
        if s is None:
            return
        try:
            s.stop()
        except Exception:
            pass
        try:
            s.close()
        except Exception:
            pass

    async def record(self, until: Callable[[Block], bool] | None = None) -> np.ndarray:
        """Record until `until(block)` is true (or stop/max length/device error); return the audio."""
        async for b in self.blocks():
            if until and until(b):
                self.stop()
        return self.audio()

    def audio(self) -> np.ndarray:
        """Everything captured so far, 16 kHz mono float32."""
        if not self._chunks:
            return np.zeros(0, dtype=np.float32)
        if len(self._chunks) > 1:
            self._chunks = [np.concatenate(self._chunks)]
        return self._chunks[0]

    def sample_time_ms(self, sample: int) -> float:
        """Perf-counter ms when the given 16 kHz sample was captured (from the callback clock)."""
        for end, t in self._times:
            if end >= sample:
                return t - (end - sample) * 1000.0 / TARGET_RATE
        if self._times:
            end, t = self._times[-1]
            return t - (end - sample) * 1000.0 / TARGET_RATE
        return time.perf_counter() * 1000.0
