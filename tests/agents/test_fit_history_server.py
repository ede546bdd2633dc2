"""fit_history against a real llama-server with a small context: a long conversation that the server
refuses as it is ("exceeds the available context size") still gets its answer, because the agent
loop keeps only the newest turns that fit the server's context per slot (read from /props)."""
from __future__ import annotations

import asyncio

import httpx
import pytest

from bestbox.agents.loop import AgentRunner, DoneEvent, ToolResultEvent
from bestbox.agents.salvage import fit_history
from bestbox.llm.client import LLMClient

CTX = 2048          # the demo model's context here; the ERP system prompt alone is ~500 tokens of it
pytestmark = pytest.mark.timeout(600)


@pytest.fixture(scope="module")
def small_server(spawn_llama_server):
    return spawn_llama_server("--ctx-size", str(CTX), "--parallel", "1")


def long_conversation(turns: int = 16) -> list[dict]:
    """Earlier turns about vendors, each long (a pasted paragraph and a long answer), then the request."""
    msgs: list[dict] = []
    for i in range(turns):
        asked = f"Question {i}: tell me about vendor number {i}. " + "Details please. " * 25
        said = f"Vendor {i} supplies metal parts. " + "It delivers on time. " * 25
        msgs += [{"role": "user", "content": asked}, {"role": "assistant", "content": said}]
    msgs.append({"role": "user", "content": "show me the top five vendors by spend"})
    return msgs


def test_untrimmed_history_overflows_the_server(small_server):
    """The premise: sent as it is, this conversation does not fit the server's context."""
    r = httpx.post(small_server + "/v1/chat/completions", timeout=300,
                   json={"messages": long_conversation(), "max_tokens": 8})
    assert r.status_code == 400 and "context" in r.text.lower(), (r.status_code, r.text[:300])


def test_long_conversation_is_trimmed_and_still_answers(small_server, shared_db):
    msgs = long_conversation()

    async def go():
        client = LLMClient(small_server, timeout=300)
        try:
            slot_ctx = await client.context_per_slot()
            runner = AgentRunner(client, shared_db, "schema", answer_max_tokens=48)
            kept = await runner._fit("erp", msgs)
            call = ("top_vendors_by_spend", {"limit": 5})
            evs = [ev async for ev in runner.run("erp", msgs, call=call, max_steps=2)]
            untrimmed = AgentRunner(client, shared_db, "schema", answer_max_tokens=48)

            async def keep_all(agent, messages):
                return messages

            untrimmed._fit = keep_all       # the same turn without the trim: the server refuses it
            raw = [ev async for ev in untrimmed.run("erp", msgs, call=call, max_steps=2)]
            return slot_ctx, kept, evs, raw
        finally:
            await client.close()

    slot_ctx, kept, evs, raw = asyncio.run(go())
    assert raw[-1].failed and "context" in raw[-1].note.lower(), raw[-1]
    assert slot_ctx == CTX
    # Trimmed to the newest turns, starting with a user turn, ending with the request.
    assert 1 <= len(kept) < len(msgs) and kept == msgs[len(msgs) - len(kept):]
    assert kept[0]["role"] == "user" and kept[-1] == msgs[-1]
    assert fit_history(msgs, None, "", 0) == msgs            # unknown context: nothing dropped
    results = [e for e in evs if isinstance(e, ToolResultEvent)]
    assert results and results[0].error is None and results[0].rows == 5
    done = evs[-1]
    assert isinstance(done, DoneEvent)
    assert not done.failed and "context" not in done.note.lower(), done.note
    assert done.text.strip(), done
