"""The agent loop driven by scripted model output: every path, no server needed."""
from __future__ import annotations

import asyncio
import json
import sqlite3

from bestbox.agents.loop import (AgentRunner, ConfirmNeededEvent, DeclinedEvent, DoneEvent, TokenEvent,
                                 ToolCallEvent, ToolResultEvent)

Q = [{"role": "user", "content": "show me the top five vendors by spend this quarter"}]
GOOD = '{"tool": "top_vendors_by_spend", "arguments": {"period": "this_quarter", "limit": 5}}'


def collect(runner, agent="erp", messages=Q, **kw):
    async def go():
        return [ev async for ev in runner.run(agent, messages, **kw)]
    return asyncio.run(go())


def kinds(events):
    return [e.kind for e in events]


def test_schema_happy_path(shared_db, scripted):
    client = scripted([GOOD], [["Falwood ", "leads."]])
    evs = collect(AgentRunner(client, shared_db, "schema"))
    assert kinds(evs) == ["llm_call", "tool_call", "tool_result", "token", "token", "llm_call", "done"]
    call = next(e for e in evs if isinstance(e, ToolCallEvent))
    assert call.name == "top_vendors_by_spend" and call.arguments == {"period": "this_quarter", "limit": 5}
    res = next(e for e in evs if isinstance(e, ToolResultEvent))
    assert res.rows == 5 and res.error is None
    done = evs[-1]
    assert isinstance(done, DoneEvent) and done.text == "Falwood leads." and done.mode == "schema"
    assert done.tool_calls == [{"name": "top_vendors_by_spend", "arguments": {"period": "this_quarter", "limit": 5},
                                "rows_returned": 5, "error": None, "ms": done.tool_calls[0]["ms"]}]
    assert done.timings["predicted_per_second"] == 99.0 and done.metrics["ttft_ms"] is not None
    # the forced request carried the schema; the answer request carried the tool result
    # the request's words narrowed the menu to the one matching tool (see agents/tool_ranker.py)
    assert client.requests[0]["json_schema"]["properties"]["tool"] == {"const": "top_vendors_by_spend"}
    answer_ctx = json.dumps(client.requests[1]["messages"], ensure_ascii=False)
    assert "Result of top_vendors_by_spend" in answer_ctx
    assert all(r["vendor"] in answer_ctx for r in res.result["rows"])      # every row reached the model


def test_garbage_twice_ends_in_the_form_of_the_tool_the_request_names(shared_db, scripted):
    client = scripted(["lol not json", '{"tool": "nope"}'], [["Sorry, the top vendors are Acme and Globex."]])
    evs = collect(AgentRunner(client, shared_db, "schema"))
    assert not any(isinstance(e, ToolCallEvent) for e in evs)
    done = evs[-1]
    # No data, so the model is not asked to answer (a small one invents vendors): the tool's form,
    # prefilled from the request, for the person to send.
    form = next(e for e in evs if e.kind == "needs_input").data
    assert form["tool"] == "top_vendors_by_spend" and form["prefilled"]["limit"] == 5
    assert done.text == "" and not done.unverified and done.needs_input == form
    assert "no usable tool call" in done.note and done.steps == 2
    assert "not a usable tool call" in json.dumps(client.requests[1]["messages"])  # the model was told why


def test_garbage_twice_with_no_tool_in_sight_says_nothing_was_looked_up(shared_db, scripted):
    client = scripted(["lol not json", '{"tool": "nope"}'], [["Acme and Globex."]])
    evs = collect(AgentRunner(client, shared_db, "schema"), messages=[{"role": "user", "content": "hmm, well"}])
    done = evs[-1]
    assert done.text.startswith("Nothing was looked up") and "Acme" not in done.text and done.unverified


def test_unknown_tool_then_valid(shared_db, scripted):
    client = scripted(['{"tool": "drop_tables", "arguments": {}}', GOOD], [["ok"]])
    evs = collect(AgentRunner(client, shared_db, "schema"))
    assert [e.name for e in evs if isinstance(e, ToolCallEvent)] == ["top_vendors_by_spend"]
    assert evs[-1].tool_calls[0]["rows_returned"] == 5


def test_bad_arguments_are_fed_back_bounded_and_end_in_a_form(shared_db, scripted):
    bad = '{"tool": "book_room", "arguments": {"room": "Cedar", "start": "whenever"}}'
    client = scripted([bad] * 10, [["Booked Cedar."]])
    evs = collect(AgentRunner(client, shared_db, "schema"), agent="oa",
                  messages=[{"role": "user", "content": "book Cedar for the team"}], max_steps=3)
    results = [e for e in evs if isinstance(e, ToolResultEvent)]
    assert len(results) == 2 and all("start" in r.error for r in results)
    assert "cannot read 'whenever'" in json.dumps(client.requests[1]["messages"])   # the model was told why
    form = next(e for e in evs if e.kind == "needs_input").data
    assert form["tool"] == "book_room" and form["missing"] == ["start"] and "start" in form["invalid"]
    assert form["prefilled"] == {"room": "Cedar"}
    done = evs[-1]
    assert done.needs_input == form and done.text == "" and not any(isinstance(e, TokenEvent) for e in evs)
    assert done.steps == 2                                      # no answer request: the form is the answer


def test_optional_values_nobody_said_are_dropped_when_refused(shared_db, scripted):
    bad = '{"tool": "top_vendors_by_spend", "arguments": {"period": "someday", "limit": 5}}'
    client = scripted([bad], [["ok"]])
    evs = collect(AgentRunner(client, shared_db, "schema"))
    call = next(e for e in evs if isinstance(e, ToolCallEvent))
    assert call.arguments == {"limit": 5} and evs[-1].tool_calls[0]["error"] is None


def test_the_count_the_user_said_wins(shared_db, scripted):
    client = scripted(['{"tool": "top_vendors_by_spend", "arguments": {"limit": 3}}'], [["ok"]])
    evs = collect(AgentRunner(client, shared_db, "schema"))
    call = next(e for e in evs if isinstance(e, ToolCallEvent))
    assert call.arguments["limit"] == 5 and evs[-1].tool_calls[0]["rows_returned"] == 5


def test_error_then_fixed_call(shared_db, scripted):
    client = scripted(['{"tool": "top_vendors_by_spend", "arguments": {"period": "soon"}}', GOOD], [["x"]])
    # The user said "soon", so the refused value is theirs: it goes back to the model, not dropped.
    evs = collect(AgentRunner(client, shared_db, "schema"),
                  messages=[{"role": "user", "content": "top five vendors by spend soon"}])
    results = [e for e in evs if isinstance(e, ToolResultEvent)]
    assert results[0].error and results[1].rows == 5


ORDER = [{"role": "user", "content": "order 12 of those"}]


def _req_call(sku):
    return json.dumps({"tool": "create_requisition", "arguments": {"product": sku, "quantity": 12}})


def test_mutation_confirmed(fresh_db, scripted):
    sku = sqlite3.connect(fresh_db).execute("SELECT sku FROM products LIMIT 1").fetchone()[0]
    seen = []

    async def confirm(preview):
        seen.append(preview)
        return True

    client = scripted([_req_call(sku)], [["Created."]])
    evs = collect(AgentRunner(client, fresh_db, "schema"), messages=[{"role": "user", "content": "order 12"}],
                  confirm=confirm)
    assert kinds(evs)[:4] == ["llm_call", "tool_call", "confirm_needed", "tool_result"]
    assert seen[0].name == "create_requisition" and "12" in seen[0].description
    assert isinstance(evs[2], ConfirmNeededEvent) and evs[2].preview is seen[0]
    assert sqlite3.connect(fresh_db).execute("SELECT COUNT(*) FROM requisitions").fetchone()[0] == 1


def test_mutation_declined_or_unconfirmable(fresh_db, scripted):
    sku = sqlite3.connect(fresh_db).execute("SELECT sku FROM products LIMIT 1").fetchone()[0]

    async def no(preview):
        return False

    async def broken(preview):
        raise RuntimeError("dialog crashed")

    for confirm in (no, broken, None):
        client = scripted([_req_call(sku)], [["Not created."]])
        evs = collect(AgentRunner(client, fresh_db, "schema"), messages=ORDER, confirm=confirm)
        assert any(isinstance(e, DeclinedEvent) for e in evs)
        assert evs[-1].tool_calls[0]["declined"] is True
        assert "declined" in json.dumps(client.requests[1]["messages"])
    assert sqlite3.connect(fresh_db).execute("SELECT COUNT(*) FROM requisitions").fetchone()[0] == 0


def test_mutation_that_would_fail_skips_confirmation(fresh_db, scripted):
    asked = []

    async def confirm(p):
        asked.append(p)
        return True

    client = scripted(['{"tool": "create_requisition", "arguments": {"product": "zzz-none", "quantity": 1}}'] * 3,
                            [["x"]])
    evs = collect(AgentRunner(client, fresh_db, "schema"), messages=ORDER, confirm=confirm, max_steps=2)
    assert not asked and next(e for e in evs if isinstance(e, ToolResultEvent)).error
    # The product is unknown: the person gets the requisition form naming the product field.
    assert "product" in evs[-1].needs_input["invalid"]


def test_a_write_nobody_asked_for_is_refused_and_never_a_form(fresh_db, scripted):
    asked = []

    async def confirm(p):
        asked.append(p)
        return True

    sku = sqlite3.connect(fresh_db).execute("SELECT sku FROM products LIMIT 1").fetchone()[0]
    client = scripted([_req_call(sku)] * 3, [["x"]])
    evs = collect(AgentRunner(client, fresh_db, "schema"), confirm=confirm)     # "show me the top five vendors"
    assert not asked and evs[-1].needs_input is None and evs[-1].unverified
    assert sqlite3.connect(fresh_db).execute("SELECT COUNT(*) FROM requisitions").fetchone()[0] == 0


def test_native_mode(shared_db, scripted):
    calls = [{"id": "c1", "name": "top_vendors_by_spend", "arguments": '{"limit": 3}'},
             {"id": "c2", "name": "overdue_invoices", "arguments": "{oops"}]
    client = scripted([], [{"tokens": [], "tool_calls": calls}, ["Here ", "they are."]])
    evs = collect(AgentRunner(client, shared_db, "native"))
    results = [e for e in evs if isinstance(e, ToolResultEvent)]
    # The model asked for 3; the user said "top five", and that count wins.
    assert results[0].rows == 5 and "not valid JSON" in results[1].error
    assert json.loads(client.requests[1]["messages"][-3]["tool_calls"][0]["function"]["arguments"])["limit"] == 5
    assert client.requests[0]["tools"] and client.requests[0]["tools"][0]["type"] == "function"
    second = client.requests[1]["messages"]
    assert second[-3]["tool_calls"][0]["id"] == "c1"
    assert [m["tool_call_id"] for m in second if m["role"] == "tool"] == ["c1", "c2"]
    assert evs[-1].text == "Here they are." and evs[-1].mode == "native"


def test_native_mode_step_limit(shared_db, scripted):
    loop_call = {"tokens": [], "tool_calls": [{"id": "c", "name": "overdue_invoices", "arguments": "{}"}]}
    client = scripted([], [loop_call] * 10)
    evs = collect(AgentRunner(client, shared_db, "native"), max_steps=3)
    assert len(client.requests) == 3 and client.requests[-1]["tools"] is None  # last step must answer
    assert isinstance(evs[-1], DoneEvent)


def test_general_agent_has_no_tools(shared_db, scripted):
    client = scripted([], [["Hello", "!"]])
    evs = collect(AgentRunner(client, shared_db, "auto"), agent="general",
                  messages=[{"role": "user", "content": "hi"}])
    assert kinds(evs) == ["token", "token", "llm_call", "done"] and evs[-1].mode == "none"
    assert client.requests[0]["tools"] is None


def test_named_tool_choice_forces_that_tool(shared_db, scripted):
    client = scripted([GOOD], [["ok"]])
    collect(AgentRunner(client, shared_db, "native"), tool_choice="top_vendors_by_spend")
    schema = client.requests[0]["json_schema"]
    assert schema["properties"]["tool"] == {"const": "top_vendors_by_spend"}


def test_cancel_mid_stream_closes_stream(shared_db, scripted):
    client = scripted([GOOD], [["tok"] * 1000], token_delay=0.01)
    runner = AgentRunner(client, shared_db, "schema")
    got = []

    async def consume():
        async for ev in runner.run("erp", Q):
            got.append(ev)

    async def main():
        task = asyncio.create_task(consume())
        while not any(isinstance(e, TokenEvent) for e in got):
            await asyncio.sleep(0.005)
        task.cancel()
        try:
            await task
        except asyncio.CancelledError:
            return "cancelled"

    assert asyncio.run(main()) == "cancelled"
    assert client.closed_streams == 1
    assert not any(isinstance(e, DoneEvent) for e in got)


# A call the model cannot complete, calls written as text, answers without data -------------------

VPN = [{"role": "user", "content": "my laptop can't connect to the VPN, open a ticket"}]


def test_native_prose_without_a_tool_is_retried_with_a_forced_call(shared_db, scripted):
    client = scripted([GOOD], [["The top vendors are Acme, Globex and Initech."], ["Falwood leads."]])
    evs = collect(AgentRunner(client, shared_db, "native"))
    done = evs[-1]
    assert "Acme" not in done.text and done.text == "Falwood leads." and not done.unverified
    assert done.mode == "native+schema" and done.tool_calls[0]["rows_returned"] == 5
    assert [r["kind"] for r in client.requests] == ["stream", "complete", "stream"]


def test_native_prose_and_a_failed_retry_end_in_the_form_never_the_prose(shared_db, scripted):
    client = scripted(["not json", "still not"], [["The top vendors are Acme, Globex and Initech."]])
    evs = collect(AgentRunner(client, shared_db, "native"))
    done = evs[-1]
    assert done.needs_input["tool"] == "top_vendors_by_spend" and done.text == "" and not done.unverified
    assert "Acme" not in "".join(e.text for e in evs if isinstance(e, TokenEvent))


def test_a_call_written_as_the_answer_is_run_as_a_call_never_shown(fresh_db, scripted):
    text_call = ['```json\n{"tool": "open_ticket", ', '"arguments": {}}\n```']
    client = scripted([], [text_call, ["Cancelled."]])
    seen = []

    async def confirm(preview):
        seen.append(preview)
        return False

    evs = collect(AgentRunner(client, fresh_db, "native"), agent="it_ops", messages=VPN, confirm=confirm)
    shown = "".join(e.text for e in evs if isinstance(e, TokenEvent))
    assert '"tool"' not in shown and "{" not in shown
    # The title the model left out comes from the request; the confirmation card shows it.
    assert seen and seen[0].arguments["title"] == "My laptop can't connect to the VPN"


def test_a_raw_call_as_the_final_answer_becomes_the_result(shared_db, scripted):
    client = scripted([GOOD], [['{"tool": "top_vendors_by_spend", "arguments": {"limit": 5}}']])
    evs = collect(AgentRunner(client, shared_db, "schema"))
    done = evs[-1]
    assert '"tool"' not in done.text and "- 5 rows: " in done.text    # the rows themselves: the table above


def test_a_sent_form_runs_exactly_that_call(fresh_db, scripted):
    client = scripted([], [["Ticket opened."]])
    evs = collect(AgentRunner(client, fresh_db, "schema"), agent="it_ops", messages=VPN,
                  call=("open_ticket", {"title": "VPN down", "priority": "P2"}), confirm=_yes)
    kinds_ = kinds(evs)
    assert kinds_.index("confirm_needed") < kinds_.index("tool_result")
    res = next(e for e in evs if isinstance(e, ToolResultEvent))
    assert res.result["created"] and res.result["priority"] == "P2"
    assert evs[-1].text == "Ticket opened." and evs[-1].mode == "form"
    assert not [r for r in client.requests if r["kind"] == "complete"]     # no tool choice by the model


def test_a_sent_form_still_invalid_is_another_form(fresh_db, scripted):
    client = scripted([], [])
    evs = collect(AgentRunner(client, fresh_db, "schema"), agent="oa",
                  messages=[{"role": "user", "content": "book a room"}],
                  call=("book_room", {"room": "Cedar", "start": "whenever"}), confirm=_yes)
    form = evs[-1].needs_input
    assert form["tool"] == "book_room" and "start" in form["invalid"] and form["prefilled"]["room"] == "Cedar"
    assert not client.requests


async def _yes(preview):
    return True


def test_a_write_the_tool_refuses_becomes_a_form_naming_the_field(fresh_db, scripted):
    bad = '{"tool": "book_room", "arguments": {"room": "Boardroom", "date": "tomorrow", "start": "10:00"}}'
    client = scripted([bad] * 5, [])
    evs = collect(AgentRunner(client, fresh_db, "schema"), agent="oa",
                  messages=[{"role": "user", "content": "book a meeting room for tomorrow at 10:00 for one hour"}],
                  confirm=_yes)
    form = evs[-1].needs_input
    assert form["tool"] == "book_room" and "no room matches" in form["invalid"]["room"]
    assert form["prefilled"]["start"] == "10:00" and form["message"].startswith("Could not book a meeting room")
