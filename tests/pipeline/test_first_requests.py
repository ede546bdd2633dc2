"""A new user's first requests, against real llama-servers with the demo model: each ends in a
confirmation card, a form (needs_input) or a tool result — never in a raw call or an exception
text as the answer. The demo model answers badly; these tests assert the mechanisms."""
from __future__ import annotations

import asyncio
import json
import re

import pytest

from bestbox.pipeline.assistant import Assistant, run_text_turn
from bestbox.pipeline.history import History

FIRST_REQUESTS = ["my laptop can't connect to the VPN, open a ticket",
                  "book a meeting room for tomorrow at 10:00 for one hour",
                  "show me the top five vendors"]
RAW = re.compile(r'"(?:tool|arguments)"\s*:|Traceback|Error:|isoformat|internal error')


class Only:
    def __init__(self, rs, *names):
        self.rs, self.names = rs, names

    def client(self, name):
        return self.rs.client(name) if name in self.names else None


@pytest.fixture
def assistant_with(running_servers, tmp_path, monkeypatch):
    monkeypatch.setenv("BESTBOX_DATA_DIR", str(tmp_path / "data"))
    made = []

    def make(tools_mode="auto", history=None):
        cfg = running_servers.config.model_copy(deep=True)
        cfg.servers.heavy.tools_mode = cfg.servers.light.tools_mode = tools_mode
        a = Assistant(cfg, Only(running_servers, "heavy", "light"), history=history or History(tmp_path / "h.sqlite"))
        made.append(a)
        return a

    yield make
    for a in made:
        a.history.close()


def turn(assistant, text, conv=None, confirm=False):
    """All events of one turn; every confirmation is answered with `confirm`."""
    async def go():
        out = []
        async for ev in assistant.run_turn(text, conv, auto_confirm=None):
            out.append(ev)
            if ev.kind == "confirm":
                ev.reply.set_result(confirm)
        return out
    return asyncio.run(go())


def useful_end(events) -> str:
    kinds = [e.kind for e in events]
    if "needs_input" in kinds:
        return "needs_input"
    if "confirm" in kinds:
        return "confirm"
    results = [e for e in events if e.kind == "tool_result" and not e.data["error"]]
    return "tool_result" if results else "nothing"


# The meeting-room request after the ticket once ended in "Nothing was looked up…": the forced call
# repeated words of the ticket turn until the token limit (cut-off JSON, twice). It now retries from
# the request alone, and an unreadable call ends in the tool's form (agents/salvage.py).
@pytest.mark.parametrize("mode", ["auto", "schema"])
def test_first_requests_end_in_something_useful(assistant_with, mode):
    a = assistant_with(mode)
    conv = a.new_conversation()
    for text in FIRST_REQUESTS:         # one conversation, as in the window: nothing leaks between turns
        events = turn(a, text, conv)
        end = useful_end(events)
        assert end != "nothing", (text, [(e.kind, e.data) for e in events])
        last = events[-1]
        assert last.kind in ("done", "needs_input"), last
        answer = last.data.get("answer", "") if last.kind == "done" else ""
        assert not RAW.search(answer), answer
        for e in events:
            if e.kind == "tool_result" and e.data["error"]:
                assert "internal error" not in e.data["error"] and "isoformat" not in e.data["error"]
        if end == "needs_input":
            form = last.data
            assert form["tool"] and form["schema"]["properties"] and form["message"].endswith(".")


def test_ticket_request_reaches_the_confirmation_card_with_its_own_title(assistant_with):
    a = assistant_with("schema")
    events = turn(a, FIRST_REQUESTS[0])
    confirm = next((e for e in events if e.kind == "confirm"), None)
    form = next((e for e in events if e.kind == "needs_input"), None)
    assert confirm or form
    if confirm:
        assert confirm.data["tool"] == "open_ticket" and len(confirm.data["arguments"]["title"]) >= 3
        assert any(e.kind == "note" and "Cancelled" in e.data["text"] for e in events)  # declined: nothing written


def test_top_five_vendors_is_called_with_five(assistant_with):
    a = assistant_with("schema")
    events = turn(a, FIRST_REQUESTS[2])
    calls = [e.data for e in events if e.kind == "tool_call" and e.data["name"] == "top_vendors_by_spend"]
    if calls:   # the router may send it elsewhere; when this tool runs, it runs with the user's count
        assert calls[-1]["arguments"]["limit"] == 5


def test_needs_input_then_submit_runs_the_call_and_answers(assistant_with):
    """The form's round trip: submit_tool runs exactly the sent call through the confirmation card."""
    a = assistant_with("schema")
    conv = a.new_conversation()

    async def go():
        out = []
        async for ev in a.submit_tool("book_room", {"room": "Cedar", "date": "next Friday", "start": "ten",
                                                    "duration_minutes": "one hour"}, conv):
            out.append(ev)
            if ev.kind == "confirm":
                ev.reply.set_result(True)
        return out

    events = asyncio.run(go())
    kinds = [e.kind for e in events]
    assert kinds[0] == "route" and events[0].data["decision"]["decided_by"] == "form"
    assert "confirm" in kinds and kinds[-1] == "done", kinds
    res = next(e for e in events if e.kind == "tool_result")
    assert res.data["error"] is None or "taken" in res.data["error"], res.data
    msgs = a.history.load(conv)
    assert [m["role"] for m in msgs] == ["user", "assistant"] and msgs[0]["meta"]["form"]["tool"] == "book_room"

    async def again():
        return [ev async for ev in a.submit_tool("book_room", {"room": "Cedar", "start": "whenever"}, conv)]

    bad = asyncio.run(again())
    assert bad[-1].kind == "needs_input" and "start" in bad[-1].data["invalid"]


def test_ask_json_reports_needs_input(assistant_with):
    a = assistant_with("schema")
    result = asyncio.run(run_text_turn("", config=a.config, assistant=a, call=("book_room", {"room": "Cedar"})))
    need = result["needs_input"]
    assert need["tool"] == "book_room" and need["missing"] == ["start"] and need["prefilled"] == {"room": "Cedar"}
    assert result["answer"] == "" and json.dumps(result)


def test_done_marks_the_demo_model_and_history_keeps_notes_and_corrections(assistant_with, tmp_path, demo_model):
    a = assistant_with("schema")
    events = turn(a, "thanks, that's all")
    done = events[-1]
    assert done.kind == "done" and done.data["demo_model"] is True   # the config points at the demo file
    conv, turn_id = done.data["conversation_id"], done.data["turn_id"]
    a.correct_route(turn_id, "crm")
    a.history.close()
    again = History(tmp_path / "h.sqlite")          # after a restart
    msgs = again.load(conv)
    assert all(m["meta"]["corrected_agent"] == "crm" for m in msgs)
    assert msgs[1]["meta"]["demo_model"] is True and "notes" in msgs[1]["meta"]
    again.close()


def test_fallback_note_is_stored_with_the_turn(running_servers, tmp_path, monkeypatch):
    monkeypatch.setenv("BESTBOX_DATA_DIR", str(tmp_path / "data"))
    h = History(tmp_path / "h2.sqlite")
    a = Assistant(running_servers.config, Only(running_servers, "heavy"), history=h)
    events = turn(a, "thanks, that's all")
    note = next(e.data["text"] for e in events if e.kind == "note")
    assert "heavy" in note
    conv = events[-1].data["conversation_id"]
    assert note in h.load(conv)[1]["meta"]["notes"]
    h.close()
