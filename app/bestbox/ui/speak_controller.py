"""The window's voice out: speaks answers as they stream (typed turns when voice_out.speak_typed,
spoken turns when voice_out.speak_spoken), replays one answer from its Speak button, and holds the
mute state shared by the window and the tray (saved to the config).

Nothing slow runs on the UI thread: the voice loads on a worker thread, synthesis has its own thread
and playback is PortAudio's callback. This object only routes TurnEvents to the current ReplySpeaker
and turns its end into a signal."""
from __future__ import annotations

import logging
import threading
from concurrent.futures import Future
from pathlib import Path

from PySide6.QtCore import QObject, Signal

from ..speak.reply import ReplySpeaker, engine_for, should_speak

log = logging.getLogger(__name__)


class _LazyEngine:
    """The configured engine, loading in the background; synthesis waits for it (in the speaker's
    worker thread, never here)."""

    def __init__(self, voice_out) -> None:
        self.future: Future = Future()
        threading.Thread(target=self._load, args=(voice_out,), name="bestbox-voice-load", daemon=True).start()

    def _load(self, voice_out) -> None:
        try:
            self.future.set_result(engine_for(voice_out))
        except Exception as e:  # noqa: BLE001 - reported when speech is asked for
            self.future.set_exception(e)

    @property
    def sample_rate(self) -> int:
        return self.future.result().sample_rate

    @property
    def name(self) -> str:
        return self.future.result().name

    def synthesize(self, text: str):
        return self.future.result().synthesize(text)


class SpeakController(QObject):
    muted_changed = Signal(bool)
    speaking_changed = Signal(object, bool)  # the answer bubble, speaking or not
    barged_in = Signal(object)  # speak.barge_in.BargeIn: the user talked over a spoken answer
    _finished = Signal(object)  # from the player's thread

    def __init__(self, voice_out, config_path: Path | None = None, parent: QObject | None = None, *, output: bool = True):
        super().__init__(parent)
        self.cfg = voice_out
        self.config_path = config_path
        self.output = output
        self.engine = _LazyEngine(voice_out)
        self.reply: ReplySpeaker | None = None
        self.bubble = None
        self.monitor = None  # BargeInMonitor while a spoken turn's answer plays
        self._listen_task = None
        self._finished.connect(self._on_finished)

    # -- state -----------------------------------------------------------------------------------
    @property
    def muted(self) -> bool:
        return bool(self.cfg.muted)

    def set_muted(self, on: bool) -> None:
        if on == self.muted:
            return
        self.cfg.muted = bool(on)
        if on:
            self.stop()
        if self.config_path is not None:
            try:
                from ..config import set_value

                set_value(Path(self.config_path), ("voice_out", "muted"), bool(on))
            except OSError as e:
                log.warning("could not save voice_out.muted: %s", e)
        self.muted_changed.emit(bool(on))

    @property
    def speaking(self) -> bool:
        return self.reply is not None and not self.reply.finished.is_set()

    # -- answers ---------------------------------------------------------------------------------
    def on_answer_event(self, bubble, ev, source: str) -> None:
        """Every TurnEvent the chat pane shows; a new turn's route decides whether it is spoken."""
        if ev.kind == "route" and bubble is not self.bubble:
            if self.muted or not should_speak(self.cfg, source):
                return
            self._start(bubble, listen=source == "voice" and self.cfg.barge_in)
        if bubble is self.bubble and self.reply is not None:
            self.reply.on_event(ev)

    def replay(self, bubble) -> None:
        """The Speak button: read this answer (again); a second click stops it."""
        if bubble is self.bubble and self.speaking:
            self.stop()
            return
        text = bubble.text() if callable(getattr(bubble, "text", None)) else getattr(bubble, "text", "")
        if not text:
            return
        from ..pipeline.events import TurnEvent

        self._start(bubble)
        self.reply.on_event(TurnEvent("done", {"answer": text}))

    def stop(self) -> None:
        if self.reply is not None:
            self.reply.stop()

    def _start(self, bubble, listen: bool = False) -> None:
        self.stop()
        self.bubble = bubble
        self.monitor = None
        if listen and self.output:
            from ..speak.barge_in import BargeInMonitor

            self.monitor = BargeInMonitor(device=self.microphone)
        self.reply = ReplySpeaker(self.engine, output=self.output, device=self.cfg.output_device or None,
                                  volume=self.cfg.volume, on_block=self.monitor.on_block if self.monitor else None,
                                  on_finished=lambda b=bubble: self._finished.emit(b))
        self.speaking_changed.emit(bubble, True)
        if self.monitor is not None:
            import asyncio

            self._listen_task = asyncio.ensure_future(self._listen(self.monitor, self.reply))

    microphone = ""  # speech.input_device (set by the app)

    async def _listen(self, monitor, reply) -> None:
        """Barge-in: the microphone stays open while the answer to a spoken question plays."""
        try:
            hit = await monitor.run(reply)
        except Exception as e:  # noqa: BLE001 - no microphone: the answer still plays
            log.info("barge-in listening unavailable: %s", e)
            return
        if hit is not None and reply is self.reply:
            self.barged_in.emit(hit)

    def _on_finished(self, bubble) -> None:
        self.speaking_changed.emit(bubble, False)
        if bubble is self.bubble and self.reply is not None and self.reply.finished.is_set():
            self.reply.close()

    def close(self) -> None:
        self.stop()
        if self._listen_task is not None:
            self._listen_task.cancel()
