"""Hands-free start: a background thread keeps the microphone open, listens for the wake word, then
records the request that follows until the speaker stops, and hands the audio over
(`on_request(audio, info)`); the caller runs it as a voice turn (`VoiceSession.run_audio`).

Everything here runs on the listener's own thread: PortAudio blocking reads, the features and the
tflite model (~4 % of one core), the end-of-speech detector. After a request the listener pauses and
closes the microphone (the turn, its spoken answer and the barge-in monitor own it then) until
`resume()`. `on_state` reports every change, so the window can show whenever the microphone is open.

States: "starting", "listening" (for the wake word), "recording" (the request), "paused" (the
microphone is closed), "error" (no microphone; `error` says why; retried every `retry_s`), "off"."""
from __future__ import annotations

import atexit
import logging
import threading
import time
import weakref
from typing import Any, Callable

import numpy as np

from ..audio.devices import MicrophoneUnavailable, import_sounddevice, select_input_device
from ..audio.resample import TARGET_RATE, Resampler, to_mono
from ..audio.vad import EndpointDetector
from ..trace import now_ms
from .wake import WakeDetector

log = logging.getLogger(__name__)
BLOCK_MS = 30
_live: weakref.WeakSet = weakref.WeakSet()


@atexit.register
def _close_all() -> None:
    """Close every listener before the interpreter goes: a process that exits while the listener
    thread is inside PortAudio or the tflite interpreter can crash (seen: SIGSEGV at exit)."""
    for listener in list(_live):
        listener.close()


class WakeListener:
    def __init__(self, model: str, *, device: str = "", sounddevice: Any = None, cutoff: float = 0.0,
                 silence_ms: int = 700, wait_speech_s: float = 5.0, max_request_s: float = 30.0,
                 retry_s: float = 5.0,
                 on_state: Callable[[str], None] | None = None,
                 on_wake: Callable[[dict], None] | None = None,
                 on_request: Callable[[np.ndarray | None, dict], None] | None = None):
        self.detector = WakeDetector(model, cutoff=cutoff)  # fails here, not in the thread, on a bad name
        self.phrase = self.detector.phrase
        self.device_name, self._sd = device, sounddevice
        self.silence_ms, self.wait_speech_s, self.max_request_s = silence_ms, wait_speech_s, max_request_s
        self.retry_s = retry_s
        self.on_state, self.on_wake, self.on_request = on_state, on_wake, on_request
        self.state = "off"
        self.error: str | None = None
        self.detections = 0
        self._closed = threading.Event()
        self._running = threading.Event()  # set: listen; clear: paused
        self._running.set()
        self._thread: threading.Thread | None = None

    # -- control (any thread) --------------------------------------------------------------------
    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._main, name="bestbox-wake", daemon=True)
            self._thread.start()
            _live.add(self)

    def pause(self) -> None:
        """Close the microphone until resume() (a voice turn or a spoken answer owns it)."""
        self._running.clear()

    def resume(self) -> None:
        self._running.set()

    def close(self, join_s: float = 3.0) -> None:
        self._closed.set()
        self._running.set()
        t = self._thread
        if t is not None and t is not threading.current_thread():
            t.join(join_s)
        _live.discard(self)

    @property
    def mic_open(self) -> bool:
        return self.state in ("listening", "recording")

    # -- the thread -------------------------------------------------------------------------------
    def _set(self, state: str) -> None:
        if state != self.state:
            self.state = state
            if self.on_state is not None:
                try:
                    self.on_state(state)
                except Exception:  # noqa: BLE001 - a listener's bug must not stop listening
                    log.debug("on_state failed", exc_info=True)

    def _main(self) -> None:
        try:
            while not self._closed.is_set():
                if not self._running.is_set():
                    self._set("paused")
                    self._running.wait()
                    continue
                self._set("starting")
                try:
                    got = self._listen_once()
                except MicrophoneUnavailable as e:
                    self.error = str(e)
                    log.warning("wake word: %s", e)
                    self._set("error")
                    self._closed.wait(self.retry_s)
                    continue
                if got is not None:  # the microphone is closed: the turn owns it until resume()
                    self.pause()
                    self._set("paused")
                    if self.on_request is not None:
                        self.on_request(*got)
        finally:
            self.detector.close()
            self._set("off")

    def _open(self):
        sd = self._sd or import_sounddevice()
        dev = select_input_device(self.device_name, sd)
        rate = int(dev.default_samplerate or 48000)
        try:
            stream = sd.InputStream(device=dev.index, channels=1, samplerate=rate, dtype="float32",
                                    blocksize=rate * BLOCK_MS // 1000)
            stream.start()
        except Exception as e:  # PortAudioError: busy, gone, bad rate
            raise MicrophoneUnavailable(f"Cannot open the microphone '{dev.name}' for the wake word: {e}") from e
        return stream, rate

    def _listen_once(self) -> tuple[np.ndarray | None, dict] | None:
        """One open microphone until paused, closed, or a wake word and its request (returned)."""
        stream, rate = self._open()
        res = Resampler(rate, TARGET_RATE)
        frames = rate * BLOCK_MS // 1000
        self.error = None
        self.detector.reset()
        self._set("listening")
        try:
            while self._running.is_set() and not self._closed.is_set():
                try:
                    raw, _overflow = stream.read(frames)
                except Exception as e:  # the device went away
                    raise MicrophoneUnavailable(f"The microphone stopped: {e}") from e
                hits = self.detector.feed(res.process(to_mono(raw)))
                if hits:
                    return self._on_hit(stream, frames, res, hits[0].probability)
            return None
        finally:
            try:
                stream.abort()
                stream.close()
            except Exception:  # noqa: BLE001
                pass

    def _on_hit(self, stream, frames: int, res: Resampler, probability: float) -> tuple[np.ndarray | None, dict]:
        self.detections += 1
        info = {"wake_word": self.detector.model_name, "probability": round(probability, 3),
                "detected_ms": now_ms()}
        if self.on_wake is not None:
            self.on_wake(info)
        self._set("recording")
        audio = self._record(stream, frames, res)
        info["request_s"] = round(len(audio) / TARGET_RATE, 2) if audio is not None else 0.0
        return audio, info

    def _record(self, stream, frames: int, res: Resampler) -> np.ndarray | None:
        """The request after the wake word, until `silence_ms` of silence (None: nothing said)."""
        vad = EndpointDetector(silence_ms=self.silence_ms)
        chunks: list[np.ndarray] = []
        t0 = time.monotonic()
        while not self._closed.is_set():
            raw, _ = stream.read(frames)
            y = res.process(to_mono(raw))
            chunks.append(y)
            ended = any(e.kind == "ended" for e in vad.feed(y))
            waited = time.monotonic() - t0
            if ended or (not vad.speech_detected and waited > self.wait_speech_s) or waited > self.max_request_s:
                break
        if not vad.speech_detected:
            return None
        audio = np.concatenate(chunks)
        end = vad.last_voiced_sample
        return audio[:end + TARGET_RATE // 5] if end is not None else audio


async def next_request(model: str, *, device: str = "", silence_ms: int = 700, cutoff: float = 0.0,
                       on_state: Callable[[str], None] | None = None) -> tuple[np.ndarray | None, dict]:
    """Listen until the wake word and the request after it (the CLI's `voice --wake`)."""
    import asyncio

    loop = asyncio.get_running_loop()
    done: asyncio.Future = loop.create_future()

    def got(audio, info) -> None:
        loop.call_soon_threadsafe(lambda: done.done() or done.set_result((audio, info)))

    def state(s: str) -> None:
        if on_state is not None:
            loop.call_soon_threadsafe(on_state, s)

    listener = WakeListener(model, device=device, silence_ms=silence_ms, cutoff=cutoff, on_state=state,
                            on_request=got)
    listener.start()
    try:
        return await done
    finally:
        await loop.run_in_executor(None, listener.close)
