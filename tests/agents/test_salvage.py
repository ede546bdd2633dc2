"""A forced tool call the model did not finish ends in that tool's form (prefilled), never in
"nothing was looked up"; the history sent to the model fits the server's context."""
from __future__ import annotations

import asyncio

from bestbox.agents.loop import AgentRunner
from bestbox.agents.salvage import fit_history, salvage_call
from bestbox.agents.tools import get_tool, tools_for
from bestbox.llm.client import Completion

CUT = ('{\n  "tool": "book_room",\n  "arguments": {\n    "start": "10:00",\n    "room": "'
       + "my_laptop_remote_work_desk_" * 20)
HISTORY = [{"role": "user", "content": "my laptop can't connect to the VPN, open a ticket"},
           {"role": "assistant", "content": "The user declined: Open a P2 ticket. Nothing was changed."},
           {"role": "user", "content": "book a meeting room for tomorrow at 10:00 for one hour"}]


def _cut_client(scripted, texts):
    class CutOff(scripted):
        async def complete(self, messages, **kw):
            self.requests.append({"kind": "complete", "messages": messages, **kw})
            text = self.completions.pop(0) if self.completions else ""
            return Completion(text=text, timings={"predicted_n": 200}, finish_reason="length")
    return CutOff(completions=texts)


def _run(runner, messages, agent="oa"):
    async def go():
        return [ev async for ev in runner.run(agent, messages)]
    return asyncio.run(go())


def test_salvage_keeps_the_tool_and_the_finished_fields():
    tool, args = salvage_call(CUT, tools_for("oa"), cut_off=True)
    assert tool.name == "book_room" and args == {"start": "10:00"}       # the cut-off room is dropped
    assert salvage_call('{"tool": "book_ro', tools_for("oa"), cut_off=True) is None
    assert salvage_call("not json at all", tools_for("oa"), cut_off=False) is None


def test_cut_off_call_retries_from_the_request_alone_then_ends_in_the_prefilled_form(scripted, shared_db):
    client = _cut_client(scripted, [CUT, CUT])
    events = _run(AgentRunner(client, shared_db, tools_mode="schema"), HISTORY)
    kinds = [e.kind for e in events]
    assert "needs_input" in kinds and "token" not in kinds, kinds
    form = next(e for e in events if e.kind == "needs_input").data
    assert form["tool"] == "book_room" and form["prefilled"]["start"] == "10:00"
    assert "room" not in form["prefilled"] and form["prefilled"]["duration_minutes"] == 60   # "for one hour"
    assert events[-1].kind == "done" and not events[-1].unverified
    second = client.requests[1]["messages"]     # the retry: system prompt and the request, no earlier turns
    assert [m["role"] for m in second] == ["system", "user"] and second[-1]["content"] == HISTORY[-1]["content"]


def test_unreadable_forced_calls_end_in_the_form_the_request_points_to(scripted, shared_db):
    client = scripted(completions=["", ""])     # nothing usable twice, no tool named at all
    events = _run(AgentRunner(client, shared_db, tools_mode="schema"), HISTORY[-1:])
    form = next(e for e in events if e.kind == "needs_input").data
    assert form["tool"] == "book_room" and form["message"].endswith(".")


def test_fit_history_keeps_the_newest_turns_that_fit():
    msgs = [{"role": "user" if i % 2 == 0 else "assistant", "content": f"{i} " + "x" * 600} for i in range(9)]
    kept = fit_history(msgs, 2048, "s" * 1500, 900)
    assert kept[-1] is msgs[-1] and kept[0]["role"] == "user" and len(kept) < len(msgs)
    assert kept == msgs[-len(kept):]
    assert fit_history(msgs, None, "s", 900) == msgs
    assert fit_history(msgs[-1:], 100, "s" * 5000, 900) == msgs[-1:]      # the request always stays
    assert get_tool("book_room") is not None


def test_an_empty_result_is_said_as_it_is_never_answered_by_the_model(scripted, shared_db):
    """Asked to answer from no rows, the demo model listed rooms from the turn before as vendors."""
    client = scripted(['{"tool": "top_vendors_by_spend", "arguments": {"category": "No such category"}}'],
                      [["The top vendors are Juniper, Oak and Maple."]])
    events = _run(AgentRunner(client, shared_db, tools_mode="schema"),
                  [{"role": "user", "content": "show me the top five vendors"}], agent="erp")
    done = events[-1]
    assert "Juniper" not in done.text and done.text.startswith("The lookup found no rows (Rank vendors")
    assert "category = No such category" in done.text and [r["kind"] for r in client.requests] == ["complete"]
