"""The chat pane's message actions, kept out of chat_pane.py: regenerate an answer, edit a question
and send it again (both replace what followed, in the view and in history), and tool forms (a
"needs_input" event shows the form; Send runs the filled call through the pipeline)."""
from __future__ import annotations

import asyncio
import logging

from .message_bubble import AnswerBubble, UserBubble

log = logging.getLogger(__name__)


class ChatActionsMixin:
    """Mixed into ChatPane (which provides bubbles, source, conversation_id, _add, _start...)."""

    def _wire_bubble(self, w) -> None:
        if isinstance(w, AnswerBubble):
            w.actions.regenerate.connect(lambda b=w: self.regenerate(b))
            for a in self.answers:
                a.actions.regen_btn.setVisible(a is w)  # only the last answer regenerates
        elif isinstance(w, UserBubble):
            w.actions.resend.connect(lambda text, u=w: self.resend_edited(u, text))

    def _note_turn(self, answer: AnswerBubble, turn_id: str | None) -> None:
        """The question before an answer gets the answer's turn id (to cut history there)."""
        i = self.bubbles.index(answer) if answer in self.bubbles else -1
        if i > 0 and isinstance(self.bubbles[i - 1], UserBubble) and turn_id:
            self.bubbles[i - 1].turn_id = turn_id

    # -- regenerate and edit ---------------------------------------------------------------------
    def regenerate(self, answer: AnswerBubble) -> asyncio.Task | None:
        i = self.bubbles.index(answer) if answer in self.bubbles else -1
        user = next((b for b in reversed(self.bubbles[:max(i, 0)]) if isinstance(b, UserBubble)), None)
        if user is None or self.running or not user.text_value.strip():
            return None
        text = user.text_value
        self._cut_from(user)
        return self.send(text)

    def resend_edited(self, user: UserBubble, text: str) -> asyncio.Task | None:
        if self.running or user not in self.bubbles:
            return None
        self._cut_from(user)
        return self.send(text)

    def _cut_from(self, user: UserBubble) -> None:
        """Remove `user` and everything after it, from the view and from history."""
        turn_id = user.turn_id or next((b.turn_id for b in self.bubbles[self.bubbles.index(user):]
                                        if isinstance(b, AnswerBubble) and b.turn_id), None)
        cut = getattr(self.source, "truncate_from_turn", None)
        if cut is not None and self.conversation_id and turn_id:
            try:
                cut(self.conversation_id, turn_id)
            except Exception as e:  # noqa: BLE001 - the view still changes; history keeps both
                log.warning("could not cut history at %s: %s", turn_id, e)
        i = self.bubbles.index(user)
        for w in self.bubbles[i:]:
            w.setParent(None)
            w.deleteLater()
        del self.bubbles[i:]

    # -- tool forms ------------------------------------------------------------------------------
    def _show_form(self, bubble: AnswerBubble, data: dict) -> None:
        self._wire_form(bubble, bubble.add_form(data))
        bubble.set_status("Waiting for the details")
        self.scroll_to_end()

    def _after_history(self) -> None:
        """Forms of a reopened conversation: the ones already sent (a later message of the same
        turn exists) are closed; the others can still be filled in and sent."""
        for i, b in enumerate(self.bubbles):
            if not isinstance(b, AnswerBubble):
                continue
            for form in b.forms:
                sent = any(getattr(x, "turn_id", None) == b.turn_id for x in self.bubbles[i + 1:])
                if sent:
                    form._close("Sent.")
                else:
                    self._wire_form(b, form)

    def _wire_form(self, bubble: AnswerBubble, form) -> None:
        form.submitted.connect(lambda args, f=form: self.submit_form(f, args))
        form.cancelled.connect(lambda b=bubble, f=form: b.add_note(
            f"Cancelled: {f.title.text().replace('<b>', '').replace('</b>', '')} was not sent; nothing changed. "
            "Ask again in other words, or fill in the form next time."))

    def submit_form(self, form, arguments: dict) -> asyncio.Task | None:
        return self.run_tool(form.tool, arguments, summary=form.summary(), turn_id=form.turn_id)

    def run_tool(self, tool: str, arguments: dict, *, summary: str | None = None,
                 turn_id: str | None = None) -> asyncio.Task | None:
        """Run one tool call as a turn (a sent form); its answer streams into a new bubble."""
        if getattr(self.source, "submit_tool", None) is None:
            return None
        self._add(UserBubble(summary or tool.replace("_", " "), "form", None, self.column))
        bubble = self._new_answer()
        bubble.set_status(f"Running {tool}…")
        self.scroll_to_end()
        prev = self._task if self.running else None
        return self._start(self._run_submit(prev, tool, arguments, bubble, turn_id))

    async def _run_submit(self, prev, tool: str, arguments: dict, bubble: AnswerBubble,
                          turn_id: str | None = None) -> None:
        try:
            if prev is not None:  # the turn that asked for the form ends first
                await asyncio.wait({prev})
            kw = {"turn_id": turn_id} if turn_id else {}
            async for ev in self.source.submit_tool(tool, arguments, self.conversation_id, **kw):
                self.apply_event(bubble, ev)
        except asyncio.CancelledError:
            bubble.mark_stopped()
        except Exception as e:  # noqa: BLE001 - a readable message beats a dead pane
            log.exception("form submission failed")
            bubble.fail(f"Could not run {tool}: {e}")
