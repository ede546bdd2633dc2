"""The conversation: messages in a scroll area, the composer below. A turn runs as one asyncio
task that consumes the pipeline's TurnEvents; Stop cancels that task, which closes the HTTP stream
so the server stops generating. Voice turns arrive through `voice_event` and reuse the same path."""
from __future__ import annotations

import asyncio
import logging

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QScrollArea, QSizePolicy, QVBoxLayout, QWidget

from . import theme
from .badges import FlowLayout
from .chat_actions import ChatActionsMixin
from .composer import Composer
from .message_bubble import AnswerBubble, UserBubble

log = logging.getLogger(__name__)

SUGGESTIONS = [
    "Show me the top five vendors by spend this quarter",
    "Which invoices are overdue?",
    "Any open P1 incidents right now?",
    "How many leave days do I have left?",
    "Analyze Q1 procurement trends",
]


class _Welcome(QWidget):
    picked = Signal(str)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 60, 0, 0)
        lay.setSpacing(10)
        title = QLabel("What can I help you with?", self)
        title.setStyleSheet("font-size: 17pt; font-weight: 600;")
        title.setAlignment(Qt.AlignmentFlag.AlignHCenter)
        lay.addWidget(title)
        sub = QLabel("Ask about purchasing, customers, IT operations or office matters — "
                     "type below or hold Space to talk. Everything runs on this computer.", self)
        sub.setWordWrap(True)
        sub.setAlignment(Qt.AlignmentFlag.AlignHCenter)
        sub.setStyleSheet(f"color: {theme.MUTED};")
        lay.addWidget(sub)
        chips = QWidget(self)
        flow = FlowLayout(chips, spacing=8)
        for s in SUGGESTIONS:
            b = QPushButton(s, chips)
            b.setCursor(Qt.CursorShape.PointingHandCursor)
            b.setStyleSheet(f"QPushButton {{ border-radius: 15px; padding: 6px 14px; background: {theme.PANEL};"
                            f" border: 1px solid {theme.BORDER}; }} QPushButton:hover {{ border-color: {theme.ACCENT};"
                            f" color: {theme.ACCENT}; }}")
            b.clicked.connect(lambda _=False, t=s: self.picked.emit(t))
            flow.addWidget(b)
        lay.addSpacing(8)
        lay.addWidget(chips)


class ChatPane(ChatActionsMixin, QWidget):
    start_servers_requested = Signal()
    conversation_started = Signal(str)   # a turn created or used this conversation
    turn_finished = Signal(dict)
    running_changed = Signal(bool)
    speak_requested = Signal(object)  # an AnswerBubble's Speak button

    COLUMN_MAX = 860

    def __init__(self, source, parent: QWidget | None = None):
        """source: AssistantAdapter-like (run_turn, server_state, wait_for_servers, correct_route)."""
        super().__init__(parent)
        self.source = source
        self.conversation_id: str | None = None
        self._task: asyncio.Task | None = None
        self._follow = True
        self.bubbles: list[QWidget] = []
        self._voice_user: UserBubble | None = None
        self._voice_answer: AnswerBubble | None = None
        self.answer_listeners: list = []  # (bubble, TurnEvent, source) for every answer event

        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(0)
        self.scroll = QScrollArea(self)
        self.scroll.setWidgetResizable(True)
        self.scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.scroll.setStyleSheet(f"QScrollArea {{ background: {theme.PANEL}; }}")
        body = QWidget()
        body.setObjectName("chatBody")
        body.setStyleSheet(f"#chatBody {{ background: {theme.PANEL}; }}")
        centre = QHBoxLayout(body)
        centre.setContentsMargins(24, 16, 24, 16)
        centre.addStretch(1)
        self.column = QWidget(body)
        self.column.setMaximumWidth(self.COLUMN_MAX)
        self.column.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        self.col = QVBoxLayout(self.column)
        self.col.setContentsMargins(0, 0, 0, 0)
        self.col.setSpacing(8)
        self.welcome = _Welcome(self.column)
        self.welcome.picked.connect(self.send)
        self.col.addWidget(self.welcome)
        self.col.addStretch(1)
        centre.addWidget(self.column, 100)
        centre.addStretch(1)
        self.scroll.setWidget(body)
        outer.addWidget(self.scroll, 1)

        bottom = QWidget(self)
        bottom.setObjectName("composerBar")
        bottom.setStyleSheet(f"#composerBar {{ background: {theme.PANEL}; }}")
        brow = QHBoxLayout(bottom)
        brow.setContentsMargins(24, 4, 24, 12)
        brow.addStretch(1)
        self.composer = Composer(bottom)
        self.composer.setMaximumWidth(self.COLUMN_MAX)
        brow.addWidget(self.composer, 100)
        brow.addStretch(1)
        outer.addWidget(bottom, 0)

        self.composer.send_requested.connect(self.send)
        self.composer.stop_requested.connect(self.stop)
        sb = self.scroll.verticalScrollBar()
        sb.rangeChanged.connect(self._on_range)
        sb.valueChanged.connect(self._on_scrolled)
        QTimer.singleShot(0, self._warm_up)

    def _warm_up(self) -> None:
        """Pay Qt's first-use costs (PySide's lazily built enums, style polish, the Markdown
        importer, table layout) while the window is idle, not in the middle of the first answer."""
        from .confirm_card import ConfirmCard

        b = AnswerBubble(self)
        b.hide()
        b.on_route({"agent": "erp", "tier": "heavy", "decided_by": "fast"}, "warm-up")
        b.add_tool_call("warm_up", {"a": 1}).set_result(1, "ok")
        b.set_text("**warm** up\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n```\ncode\n```")
        b.finish({"model": "heavy", "timings": {"route_ms": 1, "ttft_ms": 1, "total_ms": 1, "tokens_per_s": 1}})
        ConfirmCard("warm_up", {}, "warm up", None, b)
        UserBubble("warm up", "voice", "warm", self)
        b.deleteLater()

    # -- scrolling -------------------------------------------------------------------------------
    def _on_scrolled(self, v: int) -> None:
        sb = self.scroll.verticalScrollBar()
        self._follow = v >= sb.maximum() - 40

    def _on_range(self, _lo: int, hi: int) -> None:
        if self._follow:
            self.scroll.verticalScrollBar().setValue(hi)

    def scroll_to_end(self) -> None:
        self._follow = True
        QTimer.singleShot(0, lambda: self.scroll.verticalScrollBar().setValue(self.scroll.verticalScrollBar().maximum()))

    # -- messages --------------------------------------------------------------------------------
    def _add(self, w: QWidget) -> None:
        self.welcome.hide()
        self.col.insertWidget(self.col.count() - 1, w)
        self.bubbles.append(w)
        self._wire_bubble(w)
        if isinstance(w, UserBubble):
            w.set_room(self._room())

    def _room(self) -> int:
        # The scroll bar's width is kept free: it comes and goes with the content.
        sb = self.scroll.verticalScrollBar().sizeHint().width()
        return min(self.COLUMN_MAX, self.scroll.width() - sb - 48)

    def resizeEvent(self, e) -> None:  # noqa: N802
        super().resizeEvent(e)
        room = self._room()
        for b in self.bubbles:
            if isinstance(b, UserBubble):
                b.set_room(room)

    def _new_answer(self, source: str = "typed") -> AnswerBubble:
        b = AnswerBubble(self.column)
        b.source = source
        b.actions.speak.connect(lambda b=b: self.speak_requested.emit(b))
        b.correct_route.connect(self._correct)
        b.start_servers.connect(self.start_servers_requested)
        self._add(b)
        return b

    def clear(self) -> None:
        for w in self.bubbles:
            w.setParent(None)
            w.deleteLater()
        self.bubbles.clear()
        self.welcome.show()

    def new_conversation(self) -> None:
        self.stop()
        self.conversation_id = None
        self.clear()
        self.composer.input.setFocus()

    def show_conversation(self, conversation_id: str, messages: list[dict]) -> None:
        self.stop()
        self.clear()
        self.conversation_id = conversation_id
        for m in messages:
            meta = m.get("meta") or {}
            if m.get("role") == "user":
                raw = meta.get("raw_transcript")
                u = UserBubble(m.get("text", ""), meta.get("source", "typed"), raw, self.column)
                u.turn_id = m.get("turn_id")
                self._add(u)
            elif m.get("role") == "assistant":
                b = self._new_answer()
                b.load_from_history(m)
        self._after_history()
        self.scroll_to_end()

    @property
    def answers(self) -> list[AnswerBubble]:
        return [b for b in self.bubbles if isinstance(b, AnswerBubble)]

    # -- a typed turn ----------------------------------------------------------------------------
    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    def send(self, text: str) -> asyncio.Task | None:
        text = (text or "").strip()
        if not text or self.running:
            return None
        self._add(UserBubble(text, "typed", None, self.column))
        bubble = self._new_answer()
        self.scroll_to_end()
        return self._start(self._run_turn(text, "typed", None, bubble))

    def _start(self, coro) -> asyncio.Task:
        self._task = asyncio.ensure_future(coro)
        self._set_running(True)
        self._task.add_done_callback(lambda _t: self._set_running(False))
        return self._task

    def _set_running(self, on: bool) -> None:
        self.composer.set_running(on)
        self.running_changed.emit(on)

    def stop(self) -> None:
        if self.running:
            self._task.cancel()

    async def _run_turn(self, text: str, source: str, meta: dict | None, bubble: AnswerBubble) -> None:
        try:
            if self.source.server_state() == "starting":
                bubble.set_status("Waiting for the model servers to finish loading…")
                await self.source.wait_for_servers()
            bubble.set_status("Routing…")
            async for ev in self.source.run_turn(text, self.conversation_id, source=source, meta=meta):
                self.apply_event(bubble, ev)
        except asyncio.CancelledError:
            bubble.mark_stopped()
        except Exception as e:  # noqa: BLE001 - a readable message beats a dead pane
            log.exception("turn failed")
            bubble.fail(f"Something went wrong: {e}")

    def apply_event(self, bubble: AnswerBubble, ev) -> None:
        for listen in self.answer_listeners:  # e.g. the spoken reply
            listen(bubble, ev, getattr(bubble, "source", "typed"))
        d = ev.data
        k = ev.kind
        if k == "route":
            bubble.on_route(d.get("decision") or {}, d.get("turn_id"))
            self._note_turn(bubble, d.get("turn_id"))
            bubble.set_status("Answering…")
            self._note_conversation(d.get("conversation_id"))
        elif k == "note":
            bubble.add_note(d.get("text", ""))
        elif k == "tool_call":
            bubble.add_tool_call(d.get("name", "tool"), d.get("arguments"))
            bubble.set_status(f"Running {d.get('name', 'a tool')}…")
        elif k == "tool_result":
            bubble.set_tool_result(d.get("name", "tool"), d.get("rows"), d.get("summary") or "", d.get("error"),
                                   d.get("result"), d.get("arguments"))
            bubble.set_status("Answering…")
        elif k == "confirm":
            bubble.add_confirm(d.get("tool", "action"), d.get("arguments"), d.get("preview", ""), ev.reply)
            bubble.set_status("Waiting for your confirmation")
            self.scroll_to_end()
        elif k == "needs_input":
            self._show_form(bubble, d)
        elif k == "reasoning":   # a thinking model reasons first: its text is not the answer
            bubble.add_reasoning(d.get("text", ""))
            bubble.set_status("Thinking…")
        elif k == "token":
            bubble.append_token(d.get("text", ""))
            if bubble.status.text():
                bubble.set_status("")
        elif k == "done":
            bubble.finish(d)
            self._note_conversation(d.get("conversation_id"))
            self.turn_finished.emit(d)
        elif k == "error":
            bubble.fail(d.get("message", "Something went wrong."), both_down=bool(d.get("both_down")),
                        partial_answer=d.get("partial_answer", ""))
            self._note_conversation(d.get("conversation_id"))
            self.turn_finished.emit(d)

    def show_first_audio(self, bubble: AnswerBubble, t: dict) -> None:
        """A spoken reply's first sound (ui/speak_controller.py): its badge, and kept with the turn so
        the reopened answer shows it too (the answer may have been kept before the sound started)."""
        bubble.badges.set_first_audio(t)
        keep = getattr(self.source, "add_timings", None)
        if keep is not None and bubble.turn_id and t.get("first_audio_ms") is not None:
            keep(bubble.turn_id, {"first_audio_ms": round(float(t["first_audio_ms"]), 2),
                                  "first_audio_ahead": t.get("first_audio_ahead")})

    def _note_conversation(self, cid: str | None) -> None:
        if cid and cid != self.conversation_id:
            self.conversation_id = cid
            self.conversation_started.emit(cid)
        elif cid:
            self.conversation_started.emit(cid)

    def _correct(self, turn_id: str, agent: str) -> None:
        try:
            self.source.correct_route(turn_id, agent)
        except Exception as e:  # noqa: BLE001
            log.warning("route correction failed: %s", e)

    # -- voice turns -----------------------------------------------------------------------------
    def voice_event(self, kind: str, data: dict | None = None, ev=None) -> None:
        """Events of a voice turn (see voice_adapter): the user bubble fills in as the transcript
        arrives (cleaned text replaces the raw one, which stays one click away); answer events go
        to an answer bubble exactly like a typed turn's."""
        data = data or {}
        user = self._voice_user
        if kind == "recording_started":
            self._voice_user = UserBubble("Listening…", "voice", None, self.column)
            self._voice_user.set_listening("Listening…")
            self._add(self._voice_user)
            self._voice_answer = None
            self.scroll_to_end()
        elif user is None and kind not in ("turn", "error"):
            return
        elif kind in ("speech_started", "speech_resumed"):
            user.set_listening("Listening…")
        elif kind == "transcribing":
            user.set_listening("Transcribing…")
        elif kind == "transcript_raw":
            user.set_text(data.get("text", ""), None)
        elif kind == "transcript_clean":
            raw = data.get("raw") or user.label.text()
            user.set_text(data.get("text", "") or raw, raw)
        elif kind == "no_speech":
            user.set_listening(data.get("message") or "I didn't catch that.")
            user.kind.setText("Nothing sent")
        elif kind == "cancelled":
            if self._voice_answer is None:
                user.set_listening("Recording cancelled")
                user.kind.setText("Nothing sent")
        if kind == "turn" and ev is not None:
            if self._voice_answer is None:
                self._voice_answer = self._new_answer("voice")
                self._set_running(True)
            self.apply_event(self._voice_answer, ev)
            if ev.kind in ("done", "error"):
                self._set_running(self.running)
        elif kind == "error":
            msg = data.get("message", "Voice input failed.")
            if self._voice_answer is not None:
                self._voice_answer.fail(msg)
            elif self._voice_user is not None:
                self._voice_user.set_listening(msg)
                self._voice_user.kind.setText("Nothing sent")
            else:
                self._new_answer().fail(msg)
        elif kind == "ended":
            if self._voice_answer is not None:
                self._voice_answer.flush()
                if self._voice_answer.status.text():
                    self._voice_answer.set_status("")
            self._voice_user = None
            self._voice_answer = None
            self._set_running(self.running)
