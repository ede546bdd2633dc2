"""llm/client.py: the one request builder, and completions / streams against the session's real
light server (demo model)."""
from __future__ import annotations

import asyncio

import openai
import pytest

from bestbox.llm.client import LLMClient, parse_json_object, request_args

MSG = [{"role": "user", "content": "Say hi"}]


def test_request_args_put_llama_fields_in_extra_body():
    kw = request_args(MSG, max_tokens=8, temperature=0.0, grammar='root ::= "a"', json_schema={"type": "object"},
                      tools=[{"type": "function", "function": {"name": "f"}}], tool_choice="auto",
                      cache_prompt=False, extra={"n_probs": 1})
    assert kw["model"] == "local" and kw["messages"] is MSG and kw["max_tokens"] == 8
    assert kw["extra_body"] == {"cache_prompt": False, "grammar": 'root ::= "a"', "n_probs": 1}
    assert kw["response_format"]["json_schema"]["schema"] == {"type": "object"}
    assert kw["tool_choice"] == "auto" and kw["tools"][0]["function"]["name"] == "f"
    plain = request_args(MSG, max_tokens=4, temperature=0.3)
    assert plain["extra_body"] == {"cache_prompt": True}
    assert not {"response_format", "tools", "tool_choice"} & set(plain)
    # tool_choice without tools means nothing and is not sent
    assert "tool_choice" not in request_args(MSG, max_tokens=4, temperature=0.0, tool_choice="required")


def test_parse_json_object_tolerates_garbage():
    assert parse_json_object('{"agent": "erp"}') == {"agent": "erp"}
    assert parse_json_object('sure! {"a": {"b": 1}} and more') == {"a": {"b": 1}}
    assert parse_json_object("[1, 2]") is None and parse_json_object("no json {here") is None


def _with_client(running_servers, fn):
    async def go():
        client = LLMClient(running_servers.base_url("light"), running_servers.api_key, name="light")
        try:
            return await fn(client)
        finally:
            await client.close()
    return asyncio.run(go())


def test_complete_returns_text_and_server_timings(running_servers):
    out = _with_client(running_servers, lambda c: c.complete(MSG, max_tokens=6))
    assert out.timings.get("predicted_n", 0) >= 1 and "prompt_n" in out.timings
    assert out.finish_reason in ("stop", "length") and out.usage.get("completion_tokens", 0) >= 1


def test_grammar_and_schema_constrain_the_answer(running_servers):
    async def both(c):
        g = await c.complete(MSG, max_tokens=8, grammar='root ::= "erp" | "crm"')
        s = await c.complete(MSG, max_tokens=40, json_schema={
            "type": "object", "properties": {"agent": {"enum": ["erp", "crm"]}}, "required": ["agent"]})
        return g, s
    g, s = _with_client(running_servers, both)
    assert g.text in ("erp", "crm")
    assert parse_json_object(s.text)["agent"] in ("erp", "crm")


def test_stream_yields_tokens_then_done_with_timings(running_servers):
    async def collect(c):
        return [ev async for ev in c.stream(MSG, max_tokens=8, temperature=0.0)]
    events = _with_client(running_servers, collect)
    assert events[-1].kind == "done" and events[-1].timings.get("predicted_n", 0) >= 1
    assert all(e.kind == "token" for e in events[:-1]) and "".join(e.text for e in events[:-1])


def test_wrong_key_is_an_authentication_error(running_servers):
    async def go():
        client = LLMClient(running_servers.base_url("light"), "not-the-key")
        try:
            await client.complete(MSG, max_tokens=2)
        finally:
            await client.close()
    with pytest.raises(openai.AuthenticationError):
        asyncio.run(go())
