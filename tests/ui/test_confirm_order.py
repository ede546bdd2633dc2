"""A write in the window reads top to bottom: the confirmation card, then the confirmed call's
result table, then the answer, which does not list again the record the table shows. The events
follow the agent loop's real order (tool_call, confirm, tool_result, tokens); the answer text is
what the loop builds from the result when the model gives none (calls.result_markdown)."""
from __future__ import annotations

import asyncio

from bestbox.agents.calls import result_markdown
from bestbox.pipeline.events import TurnEvent
from bestbox.ui.chat_pane import ChatPane
from bestbox.ui.record_answer import without_repeated_record

from scripted_forms import DONE
from ui_helpers import save_shot
from ui_scripted import ROUTE, ScriptedSource

TICKET = {"created": True, "ref": "TCK-00701", "priority": "P2", "team": "Service Desk", "status": "new"}
ANSWER = f"Open an IT ticket:\n\n{result_markdown(TICKET)}"


class WriteSource(ScriptedSource):
    async def run_turn(self, text, conversation_id=None, *, source="typed", meta=None):
        self.turns.append(text)
        yield TurnEvent("route", {"decision": {**ROUTE, "agent": "it_ops"}, "turn_id": "t1", "conversation_id": "c1"})
        args = {"title": "My laptop can't connect to the VPN", "priority": "P2"}
        yield TurnEvent("tool_call", {"name": "open_ticket", "arguments": args})
        fut = asyncio.get_running_loop().create_future()
        self.confirm_reply = fut
        yield TurnEvent("confirm", {"tool": "open_ticket", "arguments": args, "preview": "Open a P2 ticket."},
                        reply=fut)
        await fut
        yield TurnEvent("tool_result", {"name": "open_ticket", "rows": 1, "summary": "", "error": None,
                                        "result": TICKET, "arguments": args})
        yield TurnEvent("token", {"text": ANSWER})
        yield TurnEvent("done", {**DONE, "answer": ANSWER})


def test_answer_keeps_a_list_the_table_does_not_show():
    assert without_repeated_record(ANSWER, TICKET) == "Open an IT ticket: done — the record is in the table above."
    other = "Open an IT ticket:\n\n- created: True\n- assignee: Kim"
    assert without_repeated_record(other, TICKET) == other   # "assignee" is not in the table
    assert without_repeated_record("Plain answer.", TICKET) == "Plain answer."


def test_confirm_card_above_its_result_and_no_repeated_list(qtbot, aloop, shots):
    p = ChatPane(WriteSource(delay=0.0))
    p.resize(900, 700)
    qtbot.addWidget(p)
    p.show()
    p.send("my laptop can't connect to the VPN, open a ticket")
    qtbot.waitUntil(lambda: bool(p.answers) and bool(p.answers[-1].confirm_cards), timeout=5000)
    ans = p.answers[-1]
    card, step = ans.confirm_cards[0], ans.tool_steps[0]
    assert ans.steps.indexOf(card) < ans.steps.indexOf(step)
    assert "waits for your confirmation" in step.header.text()
    card.confirm_btn.click()
    qtbot.waitUntil(lambda: not p.running, timeout=5000)
    assert step.table is not None and step.table.record
    assert card.status.text() == "Confirmed — done."
    assert card.geometry().bottom() < step.geometry().top() < ans.view.geometry().top()
    assert ans.text == "Open an IT ticket: done — the record is in the table above."
    assert "TCK-00701" not in ans.view.toPlainText()
    qtbot.wait(200)
    save_shot(p, shots / "confirm-then-table.png")
