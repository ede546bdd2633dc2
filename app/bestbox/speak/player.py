"""The speaker: sentences in, sound out, without gaps.

Every sentence is queued (none is dropped when several arrive at once); a worker thread synthesizes
the next while the current one plays; a sounddevice OutputStream callback plays them back to back.
What was really heard is recorded at the callback (`spoken_text()`), so a barge-in knows where the
answer was cut. `stop()` silences the output at the next audio block (~23 ms) and drops the queue."""
from __future__ import annotations

import atexit
import logging
import queue
import threading
import time
import weakref
from collections import deque
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from .speech_text import for_speech

log = logging.getLogger(__name__)
BLOCK = 512  # samples per callback at 22.05 kHz ≈ 23 ms: the stop latency floor
JOIN_S = 15.0  # the longest a synthesis (or the voice's first load) is waited for at close
_live: weakref.WeakSet = weakref.WeakSet()


@atexit.register
def _stop_all() -> None:
    """Stop every speaker and wait for its synthesis thread before the interpreter goes away: a process
    that exits while onnxruntime runs a graph in a daemon thread aborts ("terminate called without an
    active exception", SIGABRT) when onnxruntime's C++ statics are destroyed under it."""
    for sp in list(_live):
        sp.close()


@dataclass
class Piece:
    index: int
    text: str
    audio: np.ndarray
    played: int = 0


@dataclass
class SpeakState:
    queued: list[str] = field(default_factory=list)  # sentences (for speech) in order
    synth_ms: list[float] = field(default_factory=list)
    premade_first: bool = False  # the first sentence's audio was made ahead of the turn
    heard: dict[int, float] = field(default_factory=dict)  # sentence index → fraction played


class Speaker:
    """`output=False` (or no output device) synthesizes only; the reply WAV is still complete."""

    def __init__(self, engine, *, output: bool = True, device=None, on_first_audio: Callable[[], None] | None = None,
                 on_block: Callable[[np.ndarray, float, int], None] | None = None,
                 on_finished: Callable[[], None] | None = None, volume: float = 1.0,
                 premade: Callable[[str], np.ndarray | None] | None = None):
        """premade: audio already made for a first sentence (`speak.ahead.FirstClauseAhead.audio_for`),
        asked for the first sentence only; None means synthesize it as usual."""
        self.engine = engine
        self._premade = premade
        self.volume = float(np.clip(volume, 0.0, 1.0))
        self.sample_rate = 22050  # the engine's, read in the worker (a voice may still be loading)
        self.state = SpeakState()
        self.stopped = threading.Event()
        self.finished = threading.Event()
        self._on_first_audio, self._on_block, self._on_finished = on_first_audio, on_block, on_finished
        self._first_done = False
        self._queue: queue.Queue[str | None] = queue.Queue()
        self._ready: deque[Piece] = deque()
        self._all: list[np.ndarray] = []
        self._no_more = False
        self._synth_done = threading.Event()
        self._lock = threading.Lock()
        self.output_error: str | None = None
        self._output, self._device = output, device
        self._stream = None
        self._ready_to_play = threading.Event()
        self._worker = threading.Thread(target=self._synth_loop, name="bestbox-tts", daemon=True)
        self._worker.start()
        _live.add(self)

    # ---- input side -------------------------------------------------------------------------
    def say(self, markdown: str) -> None:
        text = for_speech(markdown)
        if text and not self.stopped.is_set():
            self._queue.put(text)

    def finish(self) -> None:
        """No more sentences will come; playback ends when the queue is played out."""
        self._queue.put(None)

    def stop(self) -> None:
        """Barge-in or mute: silence now, drop what is queued."""
        self.stopped.set()
        self._queue.put(None)
        with self._lock:
            self._ready.clear()
        stream = self._stream
        if stream is not None:
            try:
                stream.abort()
            except Exception:  # already closed
                pass
        self._done()

    def wait(self, timeout: float | None = None) -> bool:
        return self.finished.wait(timeout)

    def close(self, join_s: float = JOIN_S) -> None:
        """Stop if still playing, close the output, and wait (up to `join_s`) until the synthesis thread
        has left the engine. Blocking: not on the UI thread (SpeakController.aclose runs it on a worker)."""
        if not self.finished.is_set():
            self.stop()
        if self._stream is not None:
            try:
                self._stream.close()
            except Exception:
                pass
        if self._worker is not threading.current_thread():
            self._worker.join(join_s)
        _live.discard(self)

    # ---- results ----------------------------------------------------------------------------
    def audio(self) -> np.ndarray:
        """Everything synthesized, in order (the reply WAV), whether or not it was heard."""
        return np.concatenate(self._all) if self._all else np.zeros(0, np.float32)

    def spoken_text(self) -> str:
        """What the listener heard: whole sentences played, and the played part of the cut one."""
        out = []
        for i, frac in sorted(self.state.heard.items()):
            text = self.state.queued[i]
            if frac >= 0.999:
                out.append(text)
            elif frac > 0:
                words = text.split()
                out.append(" ".join(words[:max(1, int(len(words) * frac))]) + "…")
        return " ".join(out)

    @property
    def output_latency_ms(self) -> float:
        """What the device reports between our callback and the sound (0 without a stream)."""
        try:
            return float(self._stream.latency) * 1000.0 if self._stream is not None else 0.0
        except Exception:
            return 0.0

    @property
    def playing(self) -> bool:
        return self._first_done and not self.finished.is_set()

    # ---- internals --------------------------------------------------------------------------
    def _open(self, device):
        if isinstance(device, str):
            device = self._find_output(device)
        try:
            import sounddevice as sd

            stream = sd.OutputStream(samplerate=self.sample_rate, channels=1, dtype="float32", blocksize=BLOCK,
                                     device=device, latency="low", callback=self._callback,
                                     finished_callback=self._done)
            stream.start()
            return stream
        except Exception as e:  # no speakers: synthesize only, say why once
            self.output_error = f"no audio output ({type(e).__name__}: {e})"
            log.info("speaker: %s", self.output_error)
            return None

    @staticmethod
    def _find_output(name: str):
        """An output device whose name contains `name` (None: the default)."""
        try:
            import sounddevice as sd

            for i, d in enumerate(sd.query_devices()):
                if d["max_output_channels"] > 0 and name.lower() in d["name"].lower():
                    return i
        except Exception:
            pass
        return None

    def _synth_loop(self) -> None:
        # Opening the device and reading the voice's rate can take a while: here, never on the caller's
        # (UI) thread.
        self.sample_rate = self.engine.sample_rate
        if self._output and not self.stopped.is_set():
            self._stream = self._open(self._device)
        self._ready_to_play.set()
        while not self.stopped.is_set():
            text = self._queue.get()
            if text is None:
                break
            t = time.perf_counter()
            try:
                made = self._premade(text) if self._premade is not None and not self.state.queued else None
                self.state.premade_first = made is not None or self.state.premade_first
                audio = (made if made is not None else self.engine.synthesize(text)) * self.volume
            except Exception as e:
                log.warning("speech synthesis failed for %r: %s", text[:60], e)
                continue
            self.state.synth_ms.append((time.perf_counter() - t) * 1000)
            if self.stopped.is_set():
                break
            with self._lock:
                idx = len(self.state.queued)
                self.state.queued.append(text)
                self._all.append(audio)
                self._ready.append(Piece(idx, text, audio))
            if self._stream is None:
                self.state.heard[idx] = 1.0
                self._first_audio()
        self._synth_done.set()
        if self._stream is None or self.stopped.is_set():
            self._done()

    def _first_audio(self) -> None:
        if not self._first_done:
            self._first_done = True
            if self._on_first_audio:
                self._on_first_audio()

    def _callback(self, outdata, frames, _time, _status) -> None:
        import sounddevice as sd

        out = outdata[:, 0]
        out[:] = 0.0
        if self.stopped.is_set():
            raise sd.CallbackAbort
        pos = 0
        with self._lock:
            while pos < frames and self._ready:
                p = self._ready[0]
                n = min(frames - pos, len(p.audio) - p.played)
                out[pos:pos + n] = p.audio[p.played:p.played + n]
                p.played += n
                pos += n
                self.state.heard[p.index] = p.played / max(1, len(p.audio))
                if p.played >= len(p.audio):
                    self._ready.popleft()
            drained = not self._ready
        if pos:
            self._first_audio()
        if self._on_block is not None:
            self._on_block(out.copy(), self.output_latency_ms, self.sample_rate)
        if drained and self._synth_done.is_set():
            raise sd.CallbackStop

    def _done(self) -> None:
        if not self.finished.is_set():
            self.finished.set()
            if self._on_finished:
                try:
                    self._on_finished()
                except Exception:
                    log.debug("on_finished failed", exc_info=True)
