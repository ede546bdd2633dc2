"""The one place the UI meets voice (`bestbox.speech.voice_turn.VoiceSession`).

Every control — the mic button (hold or click), Space held in an empty box, Ctrl+Space, Esc, the
tray's Talk — calls this controller. It keeps one session for the window (Whisper preloaded in
the background), runs one `listen()` at a time as an asyncio task, and re-emits as Qt signals,
for the chat pane, the mic button, the status bar and the tray, what it subscribed to: the
session's events (`on_voice_event`) and the answer's TurnEvents, which come from the pipeline
(`on_turn_event`: the session hands its text to a `pipeline.answerer.PipelineAnswerer` that
reports here).

A session is anything with `listen(mode=...)` (a coroutine), `stop()` (end of speech: keep the
audio), `cancel()` (discard it), `recording` and optionally `preload()`. The factory that makes
it gets the controller's two subscriptions and the open conversation:
`session_factory(on_event=..., on_turn_event=..., conversation_id=...)`."""
from __future__ import annotations

import asyncio
import logging
from typing import Callable

from PySide6.QtCore import QObject, Signal

log = logging.getLogger(__name__)


class VoiceController(QObject):
    event = Signal(str, dict, object)   # kind, data, TurnEvent (kind "turn") or None
    recording_changed = Signal(bool)
    active_changed = Signal(bool)
    level = Signal(float)               # dBFS
    status = Signal(str)                # a short line for the status bar
    unavailable = Signal(str)

    def __init__(self, session_factory: Callable | None = None, parent: QObject | None = None):
        """session_factory(on_event=, on_turn_event=, conversation_id=) → session."""
        super().__init__(parent)
        self.session_factory = session_factory
        self.session = None
        self.mode = ""
        self._task: asyncio.Task | None = None
        self.recording = False
        self.reason_unavailable = "" if session_factory else "Voice input is not available in this build."
        self.conversation_id: Callable[[], str | None] = lambda: None
        self.last_raw: str | None = None

    @property
    def available(self) -> bool:
        return self.session_factory is not None

    @property
    def active(self) -> bool:
        return self._task is not None and not self._task.done()

    async def ensure_session(self):
        """Build the session in a worker thread (it reads the glossary from the database)."""
        if self.session is None and self.session_factory is not None:
            loop = asyncio.get_running_loop()
            self.session = await loop.run_in_executor(None, lambda: self.session_factory(
                on_event=self.on_voice_event, on_turn_event=self.on_turn_event,
                conversation_id=lambda: self.conversation_id()))
        return self.session

    async def preload(self) -> None:
        """Build the session and load Whisper in the background, so the first utterance does not
        pay for either."""
        if self.session_factory is None:
            return
        self.status.emit("Loading speech recognition…")
        try:
            s = await self.ensure_session()
            if hasattr(s, "preload"):
                await s.preload()
            self.status.emit("")
        except Exception as e:  # noqa: BLE001
            log.warning("voice preload failed: %s", e)
            self.status.emit(f"Speech recognition is unavailable: {e}")

    # -- controls --------------------------------------------------------------------------------
    def hold_start(self) -> None:
        if not self.active:
            self._start("hold")

    def hold_end(self) -> None:
        if not self.active:
            return
        if self.recording:
            self.session.stop()
        else:
            self._stop_pending = "stop"  # released before the microphone opened

    def toggle(self) -> None:
        if self.active:
            if self.recording:
                self.session.stop()
            elif self.session is None or not getattr(self.session, "recording", False):
                self._stop_pending = "stop"
            return
        self._start("auto")

    def cancel(self) -> None:
        """Esc: drop the recording; after it, stop the answer it started."""
        if not self.active:
            return
        if self.recording and self.session is not None:
            self.session.cancel()
            return
        if self.session is None or not getattr(self.session, "recording", False):
            self._stop_pending = "cancel"
        self._task.cancel()

    # -- running ---------------------------------------------------------------------------------
    def _start(self, mode: str) -> None:
        if self.session_factory is None:
            self.unavailable.emit(self.reason_unavailable)
            return
        self.mode = mode
        self.last_raw = None
        self._stop_pending = None
        self._task = asyncio.ensure_future(self._run(mode))
        self.active_changed.emit(True)

    def run_audio(self, audio) -> None:
        """A turn from speech already captured (a barge-in over a spoken answer: speak/barge_in.py)."""
        if self.session_factory is None or self.active:
            return
        self.mode = "barge_in"
        self.last_raw = None
        self._stop_pending = None
        self.event.emit("recording_started", {"barge_in": True}, None)  # the user's bubble
        self._task = asyncio.ensure_future(self._run("barge_in", audio))
        self.active_changed.emit(True)

    async def _run(self, mode: str, audio=None) -> None:
        try:
            session = await self.ensure_session()
            if audio is not None:
                await session.run_audio(audio, source="microphone")
            else:
                await session.listen(mode=mode)
        except asyncio.CancelledError:
            self.event.emit("cancelled", {}, None)
        except Exception as e:  # noqa: BLE001
            log.exception("voice turn failed")
            self.event.emit("error", {"message": f"Voice input failed: {e}"}, None)
        finally:
            self._set_recording(False)
            self.event.emit("ended", {}, None)
            self.active_changed.emit(False)

    def _set_recording(self, on: bool) -> None:
        if on != self.recording:
            self.recording = on
            self.recording_changed.emit(on)

    def on_turn_event(self, ev) -> None:
        """A TurnEvent of the answer, from the pipeline."""
        self.event.emit("turn", {}, ev)

    def on_voice_event(self, ev) -> None:
        """A VoiceEvent of the session (see `speech.events`)."""
        kind = getattr(ev, "kind", "")
        data = dict(getattr(ev, "data", None) or {})
        if kind == "level":
            self.level.emit(float(data.get("dbfs", -90.0)))
            return
        if kind == "recording_started":
            self._set_recording(True)
            pending, self._stop_pending = getattr(self, "_stop_pending", None), None
            if pending == "stop":
                asyncio.get_running_loop().call_soon(self.session.stop)
            elif pending == "cancel":
                asyncio.get_running_loop().call_soon(self.session.cancel)
        elif kind == "recording_stopped":
            self._set_recording(False)
            if data.get("reason") == "cancelled":
                self.event.emit("cancelled", data, None)
                return
        elif kind == "transcript_raw":
            self.last_raw = data.get("text")
        elif kind == "ended":
            return  # _run emits it once, after the task ends
        self.event.emit(kind, data, None)


def default_session_factory(config, assistant_adapter, endpoints_fn: Callable[[], object], *,
                            sounddevice=None) -> Callable | None:
    """The real VoiceSession (speech.voice_turn), answering through the same pipeline as typed
    text (`assistant_adapter`), in the open conversation, with confirmation cards (no
    auto-confirm); None when the voice package is not importable. sounddevice: a stand-in for
    the microphone module (the bench plays a WAV through it)."""
    import importlib.util

    if importlib.util.find_spec("bestbox.speech.voice_turn") is None:
        return None

    def factory(*, on_event, on_turn_event, conversation_id):
        from ..pipeline.answerer import PipelineAnswerer
        from ..speech.transcriber import Transcriber
        from ..speech.voice_turn import VoiceSession

        # Whisper's encoder keeps every core busy for up to a second per utterance; on a 2-core
        # machine that starved the UI thread (70 ms stalls).
        transcriber = Transcriber(config)
        transcriber.lower_priority()
        answerer = PipelineAnswerer(assistant_adapter, on_event=on_turn_event, auto_confirm=None,
                                    conversation_id=conversation_id)
        return VoiceSession(config, transcriber=transcriber, on_event=on_event, endpoints=endpoints_fn(),
                            answerer=answerer, sounddevice=sounddevice)

    return factory
