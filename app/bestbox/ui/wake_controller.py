"""The window's wake word: owns the speech.wake_listener.WakeListener (its own thread) while
voice_in.wake_word is set and not switched off, hands each request to the VoiceController as a voice
turn, and pauses listening while a turn runs or an answer is spoken (they own the microphone then).

`mic_changed(str)` says, for the indicator, what holds the microphone open right now: "wake"
(listening for the wake word), "recording" (a request or a voice turn), "barge_in" (listening while
an answer plays) or "" (closed). One click turns the wake word off (saved to the config); the tray's
entry turns it on again."""
from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import QObject, Signal

from ..speech.wake import phrase

log = logging.getLogger(__name__)


class WakeController(QObject):
    mic_changed = Signal(str)
    enabled_changed = Signal(bool)
    error = Signal(str)
    _state = Signal(object, str)  # (listener, state) from the listener's thread
    _request = Signal(object, object, dict)  # (listener, audio, info)

    def __init__(self, voice_in, speech, voice, speak=None, config_path: Path | None = None,
                 parent: QObject | None = None):
        super().__init__(parent)
        self.cfg, self.speech, self.voice, self.speak = voice_in, speech, voice, speak
        self.config_path = config_path
        self.model = voice_in.wake_word or "okay_nabu"  # what the tray turns on again
        self.listener = None
        self.listener_state = "off"
        self.mic = ""
        self.heard = 0
        self._closing: list = []  # stopped listeners whose threads may still be ending
        self._state.connect(self._on_state)
        self._request.connect(self._on_request)
        voice.recording_changed.connect(lambda _on: self._refresh())
        voice.active_changed.connect(lambda _on: self._refresh())
        if speak is not None:
            speak.speaking_changed.connect(lambda _b, _on: self._refresh())
            speak.listening_changed.connect(lambda _on: self._refresh())

    @property
    def phrase(self) -> str:
        return phrase(self.model)

    @property
    def enabled(self) -> bool:
        return bool(self.cfg.wake_word)

    # -- on / off ----------------------------------------------------------------------------------
    def start(self) -> None:
        """Listen when configured (the app calls this after start-up, Whisper loaded)."""
        if not self.enabled or self.listener is not None or not self.voice.available:
            return
        from ..speech.wake import WakeWordUnavailable
        from ..speech.wake_listener import WakeListener

        box: list = []  # the callbacks name their listener: a stopped one's late news is ignored
        try:
            listener = WakeListener(self.cfg.wake_word, device=self.speech.input_device,
                                    cutoff=self.cfg.wake_cutoff, silence_ms=self.speech.vad_silence_ms,
                                    on_state=lambda s: self._state.emit(box[0], s),
                                    on_request=lambda a, i: self._request.emit(box[0], a, i))
        except WakeWordUnavailable as e:
            self.error.emit(str(e))
            return
        box.append(listener)
        self.listener = listener
        listener.start()
        self._refresh()

    def set_enabled(self, on: bool) -> None:
        """The one-click off (indicator, tray) and on again (tray); saved to the config."""
        if on == self.enabled:
            return
        self.cfg.wake_word = self.model if on else ""
        if self.config_path is not None:
            try:
                from ..config import set_value

                set_value(Path(self.config_path), ("voice_in", "wake_word"), self.cfg.wake_word)
            except OSError as e:
                log.warning("could not save voice_in.wake_word: %s", e)
        if on:
            self.start()
        else:
            self.stop()
        self.enabled_changed.emit(on)

    def reconfigure(self) -> None:
        """The settings window changed the wake word or its cutoff: listen with the new ones, or stop."""
        if self.cfg.wake_word:
            self.model = self.cfg.wake_word
        self.stop()
        self.start()
        self.enabled_changed.emit(self.enabled)

    def stop(self) -> None:
        """Close the microphone now (within one 30 ms read); the thread ends on a worker."""
        listener, self.listener = self.listener, None
        if listener is not None:
            listener.pause()
            import threading

            self._closing.append(listener)
            threading.Thread(target=listener.close, name="bestbox-wake-close", daemon=True).start()
        self.listener_state = "off"
        self._refresh()

    # -- listener → UI thread ----------------------------------------------------------------------
    def _on_state(self, listener, state: str) -> None:
        if listener is not self.listener:
            return
        self.listener_state = state
        if state == "error" and self.listener is not None and self.listener.error:
            self.error.emit(self.listener.error)
        self._refresh()

    def _on_request(self, listener, audio, info: dict) -> None:
        if listener is not self.listener:
            return
        self.heard += 1
        if audio is not None:
            self.voice.run_audio(audio)
        self._refresh()

    def _busy(self) -> bool:
        return bool(self.voice.active or self.voice.recording or (self.speak is not None and self.speak.speaking))

    def _refresh(self) -> None:
        """Pause while a turn or a spoken answer owns the microphone, resume after; say who has it."""
        if self.listener is not None:
            if self._busy():
                self.listener.pause()
            elif self.listener_state == "paused":
                self.listener.resume()
        if self.voice.recording or self.listener_state == "recording":
            mic = "recording"
        elif self.speak is not None and getattr(self.speak, "monitor", None) is not None and self.speak.speaking:
            mic = "barge_in"
        elif self.listener is not None and self.listener_state == "listening":
            mic = "wake"
        else:
            mic = ""
        if mic != self.mic:
            self.mic = mic
            self.mic_changed.emit(mic)

    async def aclose(self) -> None:
        """At quit: close the microphone and wait (on a worker) until every listener thread has ended."""
        import asyncio

        self.stop()
        closing, self._closing = self._closing, []
        loop = asyncio.get_running_loop()
        for listener in closing:
            await loop.run_in_executor(None, listener.close)
