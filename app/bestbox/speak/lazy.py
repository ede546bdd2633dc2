"""What the window needs before anything is spoken, without numpy or onnxruntime: whether a turn is
spoken, and the engine as a handle that loads on first use (importing this module imports nothing
heavy, so the window shows first)."""
from __future__ import annotations


class LazyEngine:
    """The configured engine, loaded on first use: by the speaker's worker thread when the first
    sentence is synthesized, or by `preload()` from a worker after start-up. Never at construction, so
    the window shows before onnxruntime is imported."""

    def __init__(self, voice_out) -> None:
        self.cfg = voice_out
        self._engine = None
        self._key: tuple = ()

    def get(self):
        key = (self.cfg.engine, self.cfg.voice, float(self.cfg.rate))
        if self._engine is None or key != self._key:  # the settings window changed the voice
            from .reply import engine_for

            self._engine, self._key = engine_for(self.cfg), key  # locked and cached there
        return self._engine

    preload = get

    @property
    def loaded(self) -> bool:
        return self._engine is not None

    @property
    def sample_rate(self) -> int:
        return self.get().sample_rate

    @property
    def name(self) -> str:
        return self.get().name

    def synthesize(self, text: str):
        return self.get().synthesize(text)


def should_speak(voice_out, source: str) -> bool:
    if voice_out.muted:
        return False
    return voice_out.speak_spoken if source == "voice" else voice_out.speak_typed
