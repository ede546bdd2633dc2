"""Speak a turn's answer as it streams: subscribe to its TurnEvents (token/done/error), cut the tokens
into sentences, hand each to a Speaker at once. The first sentence plays while the model still writes
the second. `first_audio` is marked on the turn's own TurnTrace (the one trace) when the first audio
block is handed to the output (or, with no output, when it is made), with `first_audio_ahead`: whether
that audio was the first clause made ahead of the turn (`speak.ahead`)."""
from __future__ import annotations

import functools
import threading
from pathlib import Path

import numpy as np

from ..trace import TurnTrace
from ..audio.wavfile import write_wav
from .engines import make_engine
from .player import Speaker
from .sentences import SentenceAggregator

_engine_lock = threading.Lock()


@functools.lru_cache(maxsize=2)
def _cached_engine(name: str, voice: str, rate: float):
    return make_engine(name, voice, rate)


def engine_for(voice_out) -> object:
    """The configured engine, loaded once per process (the Piper voice takes seconds to load). Call it
    off the UI thread."""
    with _engine_lock:
        return _cached_engine(voice_out.engine, voice_out.voice, float(voice_out.rate))


class ReplySpeaker:
    def __init__(self, engine, *, output: bool = True, device=None, trace: TurnTrace | None = None,
                 on_block=None, on_finished=None, volume: float = 1.0, premade=None, on_first_audio=None):
        """on_first_audio: called after the mark, on the audio thread (the window turns it into a signal)."""
        self.trace = trace
        self._on_first_audio = on_first_audio
        self.agg = SentenceAggregator()
        self.streamed = False
        self.speaker = Speaker(engine, output=output, device=device, on_first_audio=self._first_audio,
                               on_block=on_block, on_finished=on_finished, volume=volume, premade=premade)
        self.first_audio_ms: float | None = None

    @property
    def sample_rate(self) -> int:
        """The engine's rate, read by the speaker's worker (a lazy engine loads there, not here)."""
        return self.speaker.sample_rate

    def _first_audio(self) -> None:
        if self.trace is not None:
            if "first_audio" not in self.trace.marks:  # first wins, as for the mark
                self.trace.values["first_audio_ahead"] = self.speaker.state.premade_first
            self.first_audio_ms = self.trace.mark("first_audio")
        if self._on_first_audio is not None:
            self._on_first_audio()

    def on_event(self, ev) -> None:
        """A TurnEvent listener; safe to call from any thread."""
        if ev.kind == "token":
            self.streamed = True
            for s in self.agg.feed(ev.data.get("text", "")):
                self.speaker.say(s)
        elif ev.kind == "done":
            if not self.streamed and ev.data.get("answer"):
                for s in self.agg.feed(ev.data["answer"]):
                    self.speaker.say(s)
            self.finish()
        elif ev.kind in ("error", "needs_input"):
            self.finish()

    def finish(self) -> None:
        for s in self.agg.flush():
            self.speaker.say(s)
        self.speaker.finish()

    def stop(self) -> None:
        self.speaker.stop()

    def wait(self, timeout: float | None = None) -> bool:
        return self.speaker.wait(timeout)

    def close(self, join_s: float | None = None) -> None:
        if join_s is None:
            self.speaker.close()
        else:
            self.speaker.close(join_s)

    @property
    def finished(self):
        return self.speaker.finished

    @property
    def spoken_text(self) -> str:
        return self.speaker.spoken_text()

    def audio(self) -> np.ndarray:
        return self.speaker.audio()

    def write(self, path: str | Path) -> Path | None:
        audio = self.audio()
        return write_wav(path, audio, self.sample_rate) if audio.size else None
