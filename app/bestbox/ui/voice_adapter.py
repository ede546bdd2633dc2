"""The one place the UI meets voice (`VoiceSession` in speech/pipeline). Every control — mic
button (hold or click), Space held in an empty box, Ctrl+Space, Esc, the tray's Talk — calls this
controller; it runs one session at a time as an asyncio task and re-emits the session's events
as Qt signals for the chat pane, the mic button, the status bar and the tray.

A session is anything with `events()` (an async iterator of objects with `.kind` and `.data`, or
TurnEvents for the answer), `stop()` (end of speech: keep the audio) and `cancel()` (discard)."""
from __future__ import annotations

import asyncio
import logging
from typing import Callable

from PySide6.QtCore import QObject, Signal

from ..pipeline.events import KINDS as TURN_KINDS

log = logging.getLogger(__name__)

VOICE_KINDS = ("recording_started", "level", "speech_started", "silence_started", "transcript_raw",
               "transcript_clean", "error", "ended", "cancelled")


class VoiceController(QObject):
    event = Signal(str, dict, object)   # kind, data, TurnEvent (kind "turn") or None
    recording_changed = Signal(bool)
    active_changed = Signal(bool)
    level = Signal(float)               # dBFS
    unavailable = Signal(str)

    def __init__(self, session_factory: Callable | None = None, parent: QObject | None = None):
        """session_factory(mode, conversation_id) → session; mode is 'hold' (ends on release,
        never on a pause) or 'auto' (voice activity detection ends it)."""
        super().__init__(parent)
        self.session_factory = session_factory
        self.session = None
        self._task: asyncio.Task | None = None
        self.recording = False
        self.reason_unavailable = "" if session_factory else "Voice input is not available in this build yet."
        self.conversation_id: Callable[[], str | None] = lambda: None

    @property
    def available(self) -> bool:
        return self.session_factory is not None

    @property
    def active(self) -> bool:
        return self._task is not None and not self._task.done()

    # -- controls --------------------------------------------------------------------------------
    def hold_start(self) -> None:
        if not self.active:
            self._start("hold")

    def hold_end(self) -> None:
        if self.active and self.recording and self.session is not None:
            self.session.stop()

    def toggle(self) -> None:
        if self.active:
            if self.recording and self.session is not None:
                self.session.stop()
            return
        self._start("auto")

    def cancel(self) -> None:
        """Esc: drop the recording (or stop the answer it started)."""
        if not self.active:
            return
        if self.recording and self.session is not None:
            try:
                self.session.cancel()
                return
            except Exception:  # noqa: BLE001
                pass
        self._task.cancel()

    # -- running ---------------------------------------------------------------------------------
    def _start(self, mode: str) -> None:
        if self.session_factory is None:
            self.unavailable.emit(self.reason_unavailable)
            return
        try:
            self.session = self.session_factory(mode, self.conversation_id())
        except Exception as e:  # noqa: BLE001
            log.warning("voice session failed to start: %s", e)
            self.event.emit("error", {"message": f"Voice input could not start: {e}"}, None)
            return
        self._task = asyncio.ensure_future(self._run(self.session))
        self.active_changed.emit(True)

    def _set_recording(self, on: bool) -> None:
        if on != self.recording:
            self.recording = on
            self.recording_changed.emit(on)

    async def _run(self, session) -> None:
        try:
            async for ev in session.events():
                self.dispatch(ev)
        except asyncio.CancelledError:
            self.event.emit("cancelled", {}, None)
        except Exception as e:  # noqa: BLE001
            log.exception("voice session failed")
            self.event.emit("error", {"message": f"Voice input failed: {e}"}, None)
        finally:
            self._set_recording(False)
            self.event.emit("ended", {}, None)
            self.session = None
            self.active_changed.emit(False)

    def dispatch(self, ev) -> None:
        kind = getattr(ev, "kind", None)
        data = getattr(ev, "data", None) or {}
        if kind is None and isinstance(ev, tuple):
            kind, data = ev[0], (ev[1] if len(ev) > 1 else {})
        if kind in TURN_KINDS and hasattr(ev, "reply"):
            self.event.emit("turn", {}, ev)
            return
        if kind == "level":
            self.level.emit(float(data.get("dbfs", data.get("level", -90.0))))
            return
        if kind == "recording_started":
            self._set_recording(True)
        elif kind in ("silence_started",) and data.get("final"):
            self._set_recording(False)
        elif kind in ("transcript_raw", "error", "ended", "cancelled", "recording_stopped"):
            self._set_recording(False)
        if kind == "ended":
            return  # emitted once in _run's finally
        self.event.emit(str(kind), dict(data), None)


def default_session_factory(config, assistant_adapter) -> Callable | None:
    """The real VoiceSession when the voice package provides one; None (controls say why) otherwise."""
    try:
        from ..pipeline.voice import VoiceSession  # noqa: F401 - lands with the voice issue
    except ImportError:
        return None

    def factory(mode: str, conversation_id):
        from ..pipeline.voice import VoiceSession

        return VoiceSession(config, assistant_adapter.assistant, mode=mode, conversation_id=conversation_id)

    return factory
