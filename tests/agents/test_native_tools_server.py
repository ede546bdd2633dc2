"""Native tool calls (OpenAI `tools` through llama-server --jinja) against a real llama-server.

The demo model's own chat template has no tool support, so here the server runs SmolLM2-135M with
Qwen2.5-Instruct's chat template (tests/data/qwen2.5-instruct-tools.jinja; both are ChatML). From that
template llama.cpp derives the Qwen/Hermes `<tool_call>{"name": ..., "arguments": {...}}</tool_call>`
format: /props reports tool support, and the server grammar-constrains the call and parses it into
OpenAI `tool_calls`, streamed as deltas.

With the bundled llama.cpp, tool_choice "required" still lets the model write free text before the
first <tool_call> (its grammar is `content? tool-calls`), and a 135M model writes text until the token
limit. So the conversation ends with an assistant turn "<tool_call>\\n", which llama-server takes as
the start of its reply (assistant prefill): from there the grammar admits only calls of the offered
tools. Everything after that is BestBox's native path as it runs with a real Qwen2.5: collecting the
streamed deltas, parsing, running the tool on the demo database, sending the result back as a `tool`
message, streaming the answer.
"""
from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bestbox.agents.loop import (AgentRunner, DoneEvent, LLMCallEvent, TokenEvent, ToolCallEvent, ToolResultEvent,
                                 probe_tools_mode)
from bestbox.agents.tools import tools_for
from bestbox.llm.client import LLMClient, StreamEvent

TEMPLATE = Path(__file__).resolve().parents[1] / "data" / "qwen2.5-instruct-tools.jinja"
QUESTION = {"role": "user", "content": "show me the top five vendors by spend this quarter"}
PREFILL = {"role": "assistant", "content": "<tool_call>\n"}
ERP_TOOLS = {t.name for t in tools_for("erp")}
pytestmark = pytest.mark.timeout(600)


@pytest.fixture(scope="module")
def native_server(spawn_llama_server):
    """The demo model with Qwen2.5's chat template: a server that does native tool calls."""
    assert TEMPLATE.is_file(), TEMPLATE
    return spawn_llama_server("--ctx-size", "4096", "--jinja", "--chat-template-file", str(TEMPLATE))


def run_events(client_factory, db, messages, **kw):
    async def go():
        client = client_factory()
        try:
            runner = AgentRunner(client, db, "auto", answer_max_tokens=kw.pop("answer_max_tokens", 60))
            evs = [ev async for ev in runner.run("erp", messages, **kw)]
            return evs, runner._resolved
        finally:
            await client.close()
    return asyncio.run(go())


def check_calls_and_results(evs):
    """Every call names an ERP tool and gets exactly one result (a tool run, or its error as a result)."""
    calls = [e for e in evs if isinstance(e, ToolCallEvent)]
    results = [e for e in evs if isinstance(e, ToolResultEvent)]
    assert calls and all(c.name in ERP_TOOLS for c in calls), [(c.name, c.arguments) for c in calls]
    assert [r.call_id for r in results] == [c.call_id for c in calls] and all(c.call_id for c in calls)
    for r in results:
        if r.error is None:
            assert "error" not in r.result and r.rows is not None, r.result   # the tool ran on the database
        else:
            assert r.result["error"] == r.error and r.rows is None
    return calls, results


def test_probe_says_native_with_the_qwen_template(native_server, llama_server):
    assert asyncio.run(probe_tools_mode(native_server)) == "native"
    assert asyncio.run(probe_tools_mode(llama_server)) == "schema"   # the demo model's own template


def test_required_native_call_runs_the_tool_and_the_answer_streams(native_server, shared_db):
    evs, resolved = run_events(lambda: LLMClient(native_server, timeout=300), shared_db, [QUESTION, PREFILL],
                               tool_choice="required", max_steps=2)
    done = evs[-1]
    assert isinstance(done, DoneEvent) and sum(isinstance(e, DoneEvent) for e in evs) == 1
    assert resolved == "native" and done.mode == "native"
    assert not done.failed, done.note
    calls, results = check_calls_and_results(evs)
    assert [(r["name"], r["arguments"], r["error"]) for r in done.tool_calls] == \
        [(c.name, c.arguments, r.error) for c, r in zip(calls, results)]
    # Two model requests: the tool step (tools offered) and the answer (max_steps=2: no tools).
    steps = [e for e in evs if isinstance(e, LLMCallEvent)]
    assert [e.purpose for e in steps] == ["native_step", "native_step"] and done.steps == 2
    tokens = [e for e in evs if isinstance(e, TokenEvent)]
    assert tokens and done.text == "".join(t.text for t in tokens)
    assert evs.index(tokens[0]) > evs.index(results[-1])  # the answer streams after the tool results
    assert done.timings.get("predicted_n", 0) >= 1 and done.metrics["ttft_ms"] is not None
    print(f"\nnative calls: {[(c.name, c.arguments) for c in calls]}; results: {[r.summary for r in results]}; "
          f"answer {done.text!r}")


class FirstStepScripted(LLMClient):
    """A real client whose first streamed request is replaced by a reply of two tool calls, the second
    cut off mid-arguments (as a call is at the token limit); later requests go to the real server."""

    def __init__(self, *a, **kw):
        super().__init__(*a, **kw)
        self.requests = 0

    async def stream(self, messages, **kw):
        self.requests += 1
        if self.requests == 1:
            yield StreamEvent("done", timings={}, finish_reason="length", tool_calls=[
                {"id": "ok", "name": "top_vendors_by_spend", "arguments": '{"limit": 5, "period": "this_quarter"}'},
                {"id": "cut", "name": "top_vendors_by_spend", "arguments": '{"limit": 5, "per'}])
            return
        async for ev in super().stream(messages, **kw):
            yield ev


def test_a_call_cut_off_mid_arguments_does_not_break_the_next_request(native_server, shared_db):
    """llama-server parses the arguments of earlier calls back into JSON for the chat template and
    answers 500 to the whole request when they are not valid JSON; the loop must echo valid JSON."""
    evs, _ = run_events(lambda: FirstStepScripted(native_server, timeout=300), shared_db, [QUESTION],
                        max_steps=2, answer_max_tokens=30)
    done = evs[-1]
    assert isinstance(done, DoneEvent) and done.mode == "native"
    calls, results = check_calls_and_results(evs)
    assert [c.call_id for c in calls] == ["ok", "cut"]
    assert results[0].error is None and results[0].rows and results[0].rows > 0, results[0].result
    assert "not valid JSON" in results[1].error
    assert not done.failed, done.note
    tokens = [e for e in evs if isinstance(e, TokenEvent)]
    assert tokens and done.text == "".join(t.text for t in tokens)
