"""The window's voice out: speaks answers as they stream (typed turns when voice_out.speak_typed,
spoken turns when voice_out.speak_spoken), replays one answer from its Speak button, and holds the
mute state shared by the window and the tray (saved to the config).

Nothing slow runs on the UI thread: the voice loads on a worker thread (after start-up, or at the
first spoken sentence), synthesis has its own thread and playback is PortAudio's callback. This
object only routes TurnEvents to the current ReplySpeaker and turns its end into a signal.

A spoken question that needs no tool may be answered ahead, in the silence window
(`pipeline.answer_ahead`): `follow_answers` hands those answers to one `speak.ahead.FirstClauseAhead`
(the one the CLI's `voice --speak` uses too), which synthesizes the first clause on its own thread;
a voice turn's speaker plays it first when the turn took that answer, and never when it was dropped.

A turn's spoken reply marks `first_audio` on the turn's own TurnTrace (carried by its "route" event)
when its first block goes to the output, on the audio thread; `first_audio` re-emits it on the UI
thread for the answer's badge. A replay (the Speak button) is no turn's reply: it marks nothing."""
from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import QObject, Signal

from ..speak.ahead import FirstClauseAhead
from ..speak.lazy import LazyEngine, should_speak

log = logging.getLogger(__name__)


class SpeakController(QObject):
    muted_changed = Signal(bool)
    speaking_changed = Signal(object, bool)  # the answer bubble, speaking or not
    barged_in = Signal(object)  # speak.barge_in.BargeIn: the user talked over a spoken answer
    listening_changed = Signal(bool)  # the barge-in monitor holds the microphone open (or no longer)
    first_audio = Signal(object, dict)  # the answer bubble, {first_audio_ms, first_audio_ahead, voice}
    _finished = Signal(object)  # from the player's thread
    _first_audio = Signal(object, object)  # the bubble, its TurnTrace: from the audio thread

    def __init__(self, voice_out, config_path: Path | None = None, parent: QObject | None = None, *,
                 output: bool = True):
        super().__init__(parent)
        self.cfg = voice_out
        self.config_path = config_path
        self.output = output
        self.engine = LazyEngine(voice_out)  # loads on first use or preload(), never here
        # Nothing is synthesized ahead for an answer that will not be spoken.
        self.ahead = FirstClauseAhead(self.engine, enabled=lambda: should_speak(self.cfg, "voice"))
        self.reply = None  # speak.reply.ReplySpeaker of the answer being spoken
        self.bubble = None
        self.monitor = None  # BargeInMonitor while a spoken turn's answer plays
        self._listen_task = None
        self._finished.connect(self._on_finished)
        self._first_audio.connect(self._on_first_audio)

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

    async def preload(self) -> None:
        """Load the voice on a worker (after start-up) when answers will be spoken, so the first spoken
        answer does not wait seconds for it."""
        if self.muted or not (self.cfg.speak_spoken or self.cfg.speak_typed):
            return
        import asyncio

        try:
            await asyncio.get_running_loop().run_in_executor(None, self.engine.preload)
        except Exception as e:  # noqa: BLE001 - said again when speech is asked for
            log.warning("voice preload failed: %s", e)

    def follow_answers(self, adapter) -> None:
        """Follow the answers made ahead by the assistant behind `adapter` (a `ui.assistant_adapter.
        AssistantAdapter`), now if it is built, and again whenever it is (re)built."""
        def attach() -> None:
            self.ahead.follow(getattr(adapter.assistant, "answers_ahead", None))

        adapter.ready.connect(attach)
        if adapter.assistant is not None:
            attach()

    @property
    def speaking(self) -> bool:
        return self.reply is not None and not self.reply.finished.is_set()

    # -- answers ---------------------------------------------------------------------------------
    def on_answer_event(self, bubble, ev, source: str) -> None:
        """Every TurnEvent the chat pane shows; a new turn's route decides whether it is spoken."""
        if ev.kind == "route" and bubble is not self.bubble:
            if self.muted or not should_speak(self.cfg, source):
                return
            self._start(bubble, listen=source == "voice" and self.cfg.barge_in, voice=source == "voice",
                        trace=getattr(ev, "trace", None))
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

    def _start(self, bubble, listen: bool = False, voice: bool = False, trace=None) -> None:
        """voice: a spoken question's answer, whose first clause may have been made ahead. trace: the
        turn's TurnTrace, which gets the first_audio mark."""
        self.stop()
        self.bubble = bubble
        self.monitor = None
        from ..speak.reply import ReplySpeaker  # numpy: imported at the first spoken answer, not at start

        if listen and self.output:
            from ..speak.barge_in import BargeInMonitor

            self.monitor = BargeInMonitor(device=self.microphone)
        self.reply = ReplySpeaker(self.engine, output=self.output, device=self.cfg.output_device or None,
                                  volume=self.cfg.volume, on_block=self.monitor.on_block if self.monitor else None,
                                  on_finished=lambda b=bubble: self._finished.emit(b),
                                  premade=self.ahead.audio_for if voice else None, trace=trace,
                                  on_first_audio=(lambda b=bubble, t=trace: self._first_audio.emit(b, t))
                                  if trace is not None else None)
        self.speaking_changed.emit(bubble, True)
        if self.monitor is not None:
            import asyncio

            self._listen_task = asyncio.ensure_future(self._listen(self.monitor, self.reply))

    microphone = ""  # speech.input_device (set by the app)

    async def _listen(self, monitor, reply) -> None:
        """Barge-in: the microphone stays open while the answer to a spoken question plays."""
        self.listening_changed.emit(True)
        try:
            hit = await monitor.run(reply)
        except Exception as e:  # noqa: BLE001 - no microphone: the answer still plays
            log.info("barge-in listening unavailable: %s", e)
            return
        finally:
            if self.monitor is monitor:
                self.monitor = None
            self.listening_changed.emit(False)
        if hit is not None and reply is self.reply:
            self.barged_in.emit(hit)

    def _on_first_audio(self, bubble, trace) -> None:
        # marks and values only: the pipeline thread may still be adding stages to this trace
        self.first_audio.emit(bubble, {"first_audio_ms": trace.marks.get("first_audio"), "voice": trace.is_voice,
                                       "first_audio_ahead": trace.values.get("first_audio_ahead")})

    def _on_finished(self, bubble) -> None:
        self.speaking_changed.emit(bubble, False)
        if bubble is self.bubble and self.reply is not None and self.reply.finished.is_set():
            self.reply.close(join_s=0)  # the UI thread never waits for a synthesis; aclose() does

    async def aclose(self) -> None:
        """At quit: silence, stop listening (the microphone closes), and wait on a worker until the
        synthesis thread has left the engine (exiting under a running onnxruntime graph aborts)."""
        import asyncio

        self.stop()
        task, self._listen_task = self._listen_task, None
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        self.ahead.detach()
        loop = asyncio.get_running_loop()
        reply = self.reply
        if reply is not None:
            await loop.run_in_executor(None, reply.close)
        await loop.run_in_executor(None, self.ahead.wait_idle)
