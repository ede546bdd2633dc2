"""One message in the chat: the user's bubble, and the assistant's answer with its steps, notes
and badges. The answer re-renders its Markdown at most every `interval` ms while tokens stream in,
and backs off when rendering gets slow, so a long answer never stalls the event loop."""
from __future__ import annotations

import time

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QSizePolicy, QVBoxLayout, QWidget

from . import icons, theme
from .badges import BadgeRow
from .confirm_card import ConfirmCard
from .message_actions import AnswerActions, UserActions, demo_badge, unverified_badge
from .text_view import AutoTextView
from .tool_step import ToolStep


class UserBubble(QWidget):
    """Right-aligned bubble; for voice turns the raw transcript stays one click (or hover) away."""

    def __init__(self, text: str, source: str = "typed", raw: str | None = None, parent: QWidget | None = None):
        super().__init__(parent)
        self.source = source
        outer = QHBoxLayout(self)
        outer.setContentsMargins(80, 4, 0, 4)
        outer.addStretch(1)
        self.frame = QFrame(self)
        self.frame.setObjectName("userBubble")
        self.frame.setStyleSheet(f"#userBubble {{ background: {theme.USER_BUBBLE}; border-radius: 12px; }}")
        col = QVBoxLayout(self.frame)
        col.setContentsMargins(12, 8, 12, 8)
        col.setSpacing(3)
        self.kind = QLabel("", self.frame)
        self.kind.setStyleSheet(f"color: {theme.MUTED}; font-size: 8.5pt;")
        self.kind.setVisible(source == "voice")
        col.addWidget(self.kind)
        self.label = QLabel(self.frame)
        self.label.setWordWrap(True)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.label.setTextFormat(Qt.TextFormat.PlainText)
        self.label.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Preferred)
        col.addWidget(self.label)
        self.raw_btn = QPushButton("Show what was heard", self.frame)
        self.raw_btn.setProperty("flat", True)
        self.raw_btn.setCursor(Qt.CursorShape.PointingHandCursor)
        self.raw_btn.clicked.connect(self._toggle_raw)
        self.raw_label = QLabel(self.frame)
        self.raw_label.setWordWrap(True)
        self.raw_label.setStyleSheet(f"color: {theme.MUTED}; font-style: italic;")
        self.raw_label.hide()
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.raw_btn)
        row.addStretch(1)
        col.addLayout(row)
        col.addWidget(self.raw_label)
        self.actions = UserActions(lambda: self.text_value, self.frame)
        col.addWidget(self.actions)
        outer.addWidget(self.frame, 0)
        self.turn_id: str | None = None
        self.raw: str | None = None
        self.text_value = text
        self.room = 10_000
        self.set_text(text, raw)

    def _fit(self, text: str | None = None) -> None:
        # A wrapped QLabel in a stretchy row shrinks to its narrowest; give it the width it needs,
        # but never more than the bubble has: a fixed minimum pushed long questions under the side panel.
        text = self.label.text() if text is None else text
        fm = self.label.fontMetrics()
        widest = max((fm.horizontalAdvance(line) for line in (text or "…").splitlines() or [""]), default=0)
        self.label.setMinimumWidth(min(widest + 6, 520, max(120, self.room - 80 - 30)))

    def set_room(self, width: int) -> None:
        """The chat column's width (the chat pane says so when it changes)."""
        if width != self.room:
            self.room = width
            self._fit()

    def set_text(self, text: str, raw: str | None = None) -> None:
        self.text_value = text
        self.label.setText(breakable(text) or "…")
        self._fit(text)
        self.raw = raw
        differs = bool(raw) and raw.strip() != (text or "").strip()
        self.raw_btn.setVisible(differs)
        self.raw_label.setText(f"Heard: “{raw}”" if raw else "")
        tip = f"Heard (before clean-up): {raw}" if differs else ""
        self.label.setToolTip(tip)
        if self.source == "voice":
            self.kind.setText("Spoken" + (" · cleaned up" if differs else ""))
        self.label.setMaximumWidth(560)

    def set_listening(self, text: str) -> None:
        self.text_value = ""
        self.kind.setVisible(True)
        self.kind.setText("Spoken")
        self.label.setText(text)
        self._fit(text)

    def _toggle_raw(self) -> None:
        on = not self.raw_label.isVisible()
        self.raw_label.setVisible(on)
        self.raw_btn.setText("Hide what was heard" if on else "Show what was heard")


class AnswerBubble(QWidget):
    """The assistant's side of one turn."""

    correct_route = Signal(str, str)  # turn_id, agent
    start_servers = Signal()

    MIN_INTERVAL_MS = 50
    MAX_INTERVAL_MS = 600

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.turn_id: str | None = None
        self.route: dict | None = None
        self.partial = False
        self.renders = 0
        self._parts: list[str] = []
        self._text = ""
        self._dirty = False
        self._interval = self.MIN_INTERVAL_MS
        self._last_render_ms = 0.0
        self._steps: list[ToolStep] = []
        self.confirm_cards: list[ConfirmCard] = []
        self.forms: list = []
        self.demo = False
        self.reasoning = None

        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 6, 40, 10)
        lay.setSpacing(6)
        head = QHBoxLayout()
        head.setSpacing(7)
        avatar = QLabel(self)
        avatar.setPixmap(icons.app_icon().pixmap(18, 18))
        avatar.setFixedSize(18, 18)
        head.addWidget(avatar)
        name = QLabel("<b>BestBox</b>", self)
        head.addWidget(name)
        self.status = QLabel("", self)
        self.status.setStyleSheet(f"color: {theme.MUTED};")
        head.addWidget(self.status)
        head.addStretch(1)
        lay.addLayout(head)

        self.notes = QVBoxLayout()
        self.notes.setSpacing(4)
        lay.addLayout(self.notes)
        self.steps = QVBoxLayout()
        self.steps.setSpacing(4)
        lay.addLayout(self.steps)
        self.view = AutoTextView(self)
        self.view.hide()
        lay.addWidget(self.view)
        self.footer = QVBoxLayout()
        self.footer.setSpacing(4)
        lay.addLayout(self.footer)
        self.badges = BadgeRow(self)
        self.badges.correct_route.connect(lambda a: self.correct_route.emit(self.turn_id or "", a))
        lay.addWidget(self.badges)
        self.actions = AnswerActions(lambda: self.text, self)
        self.actions.hide()
        lay.addWidget(self.actions)

        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self._render)

    # -- streaming -----------------------------------------------------------------------------
    @property
    def text(self) -> str:
        if self._parts:
            self._text += "".join(self._parts)
            self._parts.clear()
        return self._text

    def set_status(self, text: str) -> None:
        self.status.setText(text)

    def add_reasoning(self, piece: str) -> None:
        """A thinking model's reasoning: collapsed above the answer, never part of it."""
        if self.reasoning is None:
            from .reasoning_view import ReasoningView

            self.reasoning = ReasoningView(self)
            self.notes.addWidget(self.reasoning)
        self.reasoning.append(piece)

    def append_token(self, piece: str) -> None:
        if self.reasoning is not None:
            self.reasoning.finish()
        self._parts.append(piece)
        self._dirty = True
        if not self._timer.isActive():
            # The first token shows at once; later ones wait for the throttle.
            self._timer.start(0 if self.renders == 0 else self._interval)

    def set_text(self, text: str) -> None:
        self._parts.clear()
        self._text = text
        self._dirty = True
        self._render()

    def _render(self) -> None:
        if not self._dirty:
            return
        self._dirty = False
        t = time.perf_counter()
        text = self.text
        if text.strip():
            self.view.show()
            self.view.set_markdown(text)
        self.renders += 1
        self._last_render_ms = (time.perf_counter() - t) * 1000
        # Rendering should take a small share of the loop: back off when it gets slow.
        self._interval = int(min(self.MAX_INTERVAL_MS, max(self.MIN_INTERVAL_MS, self._last_render_ms * 6)))

    def flush(self) -> None:
        self._timer.stop()
        self._render()

    # -- turn events ---------------------------------------------------------------------------
    def on_route(self, route: dict, turn_id: str | None) -> None:
        self.turn_id = turn_id
        self.route = route
        self.badges.set_route(route, correctable=bool(turn_id))

    def add_note(self, text: str, kind: str = "note") -> QLabel:
        lbl = QLabel(text, self)
        lbl.setWordWrap(True)
        lbl.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        bg, border, fg = ((theme.ERROR_BG, theme.ERROR_BORDER, theme.ERROR_TEXT) if kind == "error"
                          else (theme.NOTE_BG, theme.NOTE_BORDER, "#6b4a06"))
        lbl.setStyleSheet(f"background: {bg}; border: 1px solid {border}; color: {fg};"
                          " border-radius: 6px; padding: 6px 9px;")
        lbl.setProperty("noteKind", kind)
        self.notes.addWidget(lbl)
        return lbl

    def notes_texts(self) -> list[str]:
        return [self.notes.itemAt(i).widget().text() for i in range(self.notes.count())
                if self.notes.itemAt(i).widget() is not None]

    def add_tool_call(self, name: str, arguments) -> ToolStep:
        step = ToolStep(name, arguments, self)
        self._steps.append(step)
        self.steps.addWidget(step)
        return step

    def set_tool_result(self, name: str, rows=None, summary: str = "", error=None, result=None, arguments=None) -> ToolStep:
        step = next((s for s in self._steps if s.name == name and not s.finished), None)
        if step is None:
            step = self.add_tool_call(name, arguments)
        step.set_result(rows, summary, error, result)
        for card in self.confirm_cards:   # the confirmed call has run: its card says so
            if card.tool == name and card.status.text().startswith("Confirmed"):
                card.status.setText("Confirmed — done." if not error else "Confirmed — it failed (see below).")
        return step

    @property
    def tool_steps(self) -> list[ToolStep]:
        return list(self._steps)

    def add_confirm(self, tool: str, arguments, preview: str, reply) -> ConfirmCard:
        card = ConfirmCard(tool, arguments, preview, reply, self)
        self.confirm_cards.append(card)
        # The card goes above its own step: first the question, then (once confirmed) the result.
        step = next((s for s in self._steps if s.name == tool and not s.finished), None)
        at = self.steps.indexOf(step) if step is not None else -1
        if at >= 0:
            self.steps.insertWidget(at, card)
            step.set_waiting("waits for your confirmation")
        else:
            self.steps.addWidget(card)
        return card

    def add_form(self, data: dict):
        from .tool_form import ToolForm

        form = ToolForm(data, self)
        self.forms.append(form)
        self.steps.addWidget(form)
        return form

    def mark_demo(self) -> None:
        if not self.demo:
            self.demo = True
            self.badges._add(demo_badge(self.badges))

    def finish(self, data: dict) -> None:
        self.flush()
        answer = data.get("answer")
        if answer and not self.text.strip():
            self.set_text(answer)
        self._trim_repeated_record()
        route = data.get("route") or self.route
        if route and not self.badges.badges():
            self.badges.set_route(route, correctable=bool(self.turn_id))
        self.badges.set_result(route, data.get("model"), data.get("timings"), data.get("server"))
        if self.reasoning is not None:
            ms = (data.get("timings") or {}).get("reasoning_ms")
            self.reasoning.set_time(ms) if ms is not None else self.reasoning.finish()
        self.add_citations(data.get("citations"))
        self.partial = bool(data.get("partial"))
        if self.partial:
            self._mark_partial("Partial answer")
        mark_answer(self, data)
        self.actions.show()
        if not self.text.strip() and not self.forms:
            lbl = QLabel("The model returned no text for this question.", self)
            lbl.setStyleSheet(f"color: {theme.MUTED}; font-style: italic;")
            self.footer.addWidget(lbl)
        self.set_status("")

    def add_citations(self, citations) -> None:
        if citations:
            from .citations import CitationList

            self.citations = CitationList(citations, self)
            self.footer.addWidget(self.citations)

    def fail(self, message: str, *, both_down: bool = False, partial_answer: str = "") -> None:
        self.flush()
        if partial_answer and not self.text.strip():
            self.set_text(partial_answer)
        if self.text.strip():
            self._mark_partial("Partial answer")
        box = QFrame(self)
        box.setObjectName("errorBox")
        box.setStyleSheet(f"#errorBox {{ background: {theme.ERROR_BG}; border: 1px solid {theme.ERROR_BORDER};"
                          " border-radius: 8px; }")
        row = QHBoxLayout(box)
        row.setContentsMargins(10, 8, 10, 8)
        lbl = QLabel(message, box)
        lbl.setWordWrap(True)
        lbl.setStyleSheet(f"color: {theme.ERROR_TEXT};")
        lbl.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        row.addWidget(lbl, 1)
        if both_down:
            btn = QPushButton("Start servers", box)
            btn.setProperty("primary", True)
            btn.clicked.connect(self.start_servers)
            row.addWidget(btn, 0, Qt.AlignmentFlag.AlignVCenter)
            self.start_button = btn
        self.error_text = message
        self.footer.addWidget(box)
        self.set_status("")

    def mark_stopped(self) -> None:
        self.flush()
        self._mark_partial("Stopped — partial answer" if self.text.strip() else "Stopped before the answer began")
        self.set_status("")

    def _mark_partial(self, text: str) -> None:
        self.partial = True
        if getattr(self, "_partial_label", None) is not None:
            self._partial_label.setText(text)
            return
        lbl = QLabel(text, self)
        lbl.setStyleSheet("background:#fff2dc; color:#94600a; border-radius:9px; padding:2px 8px; font-size:8.5pt;")
        lbl.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)
        self._partial_label = lbl
        self.footer.addWidget(lbl, 0, Qt.AlignmentFlag.AlignLeft)

    def _trim_repeated_record(self) -> None:
        """An answer that only lists the record the last step's table shows keeps its first line."""
        step = next((s for s in reversed(self._steps) if s.finished), None)
        table = getattr(step, "table", None)
        if table is None or not table.record:
            return
        from .record_answer import without_repeated_record

        text = without_repeated_record(self.text, table.result)
        if text != self.text:
            self.set_text(text)

    # -- history -------------------------------------------------------------------------------
    def load_from_history(self, msg: dict) -> None:
        meta = msg.get("meta") or {}
        self.turn_id = msg.get("turn_id")
        route = meta.get("route")
        if route:
            self.on_route(route, self.turn_id)
        for tc in meta.get("tool_calls") or []:
            step = self.add_tool_call(tc.get("name", "tool"), tc.get("arguments"))
            step.set_result(tc.get("rows"), tc.get("summary", ""), tc.get("error"), tc.get("result"))
        for note in meta.get("notes") or []:
            self.add_note(note)
        if msg.get("text"):
            self.set_text(msg["text"])
            self._trim_repeated_record()
        self.add_citations(meta.get("citations"))
        if meta.get("error") and meta.get("error") != "stopped":
            self.fail(meta["error"])
        elif msg.get("partial") or meta.get("partial"):
            self._mark_partial("Partial answer" if meta.get("error") != "stopped" else "Stopped — partial answer")
        if route or meta.get("timings"):
            self.badges.set_result(route, meta.get("model"), meta.get("timings"), meta.get("server"))
        restore_extras(self, meta)


def breakable(text: str, run: int = 30) -> str:
    """Long unbroken runs (paths, URLs) get zero-width spaces, so a wrapped label can break them."""
    import re

    return re.sub(r"\S{%d,}" % (run + 1), lambda m: "\u200b".join(m.group(0)[i:i + run]
                                                              for i in range(0, len(m.group(0)), run)), text or "")


def mark_answer(bubble: "AnswerBubble", d: dict) -> None:
    """The marks an answer carries: from the demo model; not backed by any company data."""
    if d.get("demo_model"):
        bubble.mark_demo()
    if d.get("unverified") and not getattr(bubble, "_unverified", False):
        bubble._unverified = True
        bubble.badges._add(unverified_badge(bubble.badges))


def restore_extras(bubble: "AnswerBubble", meta: dict) -> None:
    """What a reopened answer shows beyond its text: the demo mark, the user's route correction,
    a form that was never sent, and the actions."""
    mark_answer(bubble, meta)
    fix = meta.get("route_correction") or meta.get("corrected_agent") or meta.get("correction")
    if isinstance(fix, dict):
        fix = fix.get("agent") or fix.get("to")
    rb = bubble.badges.route_badge
    if fix and rb is not None:
        rb._set(str(fix), corrected=True)
    ni = meta.get("needs_input")
    if isinstance(ni, dict) and ni.get("schema"):
        bubble.add_form(ni)
    bubble.actions.show()
