"""One async client per llama-server, on the `openai` package.

llama-server adds `timings` (prompt_n, cache_n, prompt_ms, predicted_n, predicted_per_second) to
every completion and to the last streamed chunk; we surface them instead of guessing.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, AsyncIterator

import httpx
from openai import AsyncOpenAI

from .templates import request_fields, server_profile


@dataclass
class Completion:
    text: str
    timings: dict = field(default_factory=dict)
    usage: dict = field(default_factory=dict)
    finish_reason: str | None = None
    tool_calls: list[dict] = field(default_factory=list)
    reasoning: str = ""          # a thinking template's reasoning, apart from the answer


@dataclass
class StreamEvent:
    """kind: 'token' (text), 'reasoning' (text of a thinking template's reasoning, never part of the
    answer), 'tool_call_delta', 'done' (timings, finish_reason, tool_calls)."""

    kind: str
    text: str = ""
    timings: dict = field(default_factory=dict)
    finish_reason: str | None = None
    tool_calls: list[dict] = field(default_factory=list)


def _extra(obj: Any, name: str) -> Any:
    extra = getattr(obj, "model_extra", None) or {}
    return extra.get(name) if name in extra else getattr(obj, name, None)


def request_args(messages: list[dict], *, max_tokens: int, temperature: float, grammar: str | None = None,
                 json_schema: dict | None = None, tools: list[dict] | None = None, tool_choice: str | None = None,
                 cache_prompt: bool = True, extra: dict | None = None, model: str = "local") -> dict:
    """The keyword arguments of one chat completion request, streamed or not (the one request builder).

    llama-server's own fields (cache_prompt, grammar, anything in `extra`) travel in `extra_body`;
    a JSON schema becomes an OpenAI `response_format`."""
    body: dict = {"cache_prompt": cache_prompt}
    if grammar:
        body["grammar"] = grammar
    if extra:
        body.update(extra)
    kw: dict = {"model": model or "local", "messages": messages, "max_tokens": max_tokens, "temperature": temperature,
                "extra_body": body}
    if json_schema is not None:
        kw["response_format"] = {"type": "json_schema",
                                 "json_schema": {"name": "out", "schema": json_schema, "strict": True}}
    if tools:
        kw["tools"] = tools
        if tool_choice:
            kw["tool_choice"] = tool_choice
    return kw


class LLMClient:
    def __init__(self, base_url: str, api_key: str = "", timeout: float = 120.0, name: str = "",
                 adapt: bool = True, *, model: str = "local", ca_bundle: str = "", connect_timeout: float = 3.0,
                 remote: bool = False, stand_in: bool = False):
        """base_url is the server root, e.g. http://127.0.0.1:8081 (the /v1 is added here).
        adapt: read the server's chat template once (/props, llm/templates.py) and add its end markers
        and thinking switch to every request.
        model: the name sent in requests (llama-server ignores it; a remote vLLM needs its served name).
        ca_bundle: the PEM of a private CA for a remote server behind TLS.
        stand_in: a remote tier's local stand-in (servers/local_fallback.py), named in the turn's record."""
        self.name = name
        self.adapt = adapt
        self.base_url = base_url.rstrip("/")
        self.api_key = api_key or "none"
        self.model = model or "local"
        self.remote = remote
        self.stand_in = stand_in
        t = httpx.Timeout(timeout, connect=connect_timeout)
        # Plain-http loopback servers need no TLS: skipping the CA bundle saves 30-60 ms per client.
        if self.base_url.startswith("http://"):
            http = httpx.AsyncClient(timeout=t, verify=False)
        else:
            import ssl

            http = httpx.AsyncClient(timeout=t, verify=ssl.create_default_context(cafile=ca_bundle) if ca_bundle
                                     else True)
        self.http = http  # also for the few non-OpenAI GETs (/props) with the same TLS settings
        self._client = AsyncOpenAI(
            base_url=self.base_url + "/v1",
            api_key=self.api_key,
            timeout=t,
            max_retries=0,  # a dead server must fail fast so the router can fall back
            http_client=http,
        )

    async def close(self) -> None:
        await self._client.close()

    async def template_fields(self, thinking: bool | None) -> dict:
        """The request fields this server's chat template calls for (templates.request_fields)."""
        if not self.adapt:
            return {}
        http = self.http if self.remote else None  # a remote server's CA bundle
        return request_fields(await server_profile(self.base_url, self.api_key, http=http), thinking)

    async def context_per_slot(self) -> int | None:
        """The server's context per slot in tokens (from the same /props read), None when unknown."""
        if not self.adapt:
            return None
        http = self.http if self.remote else None
        return (await server_profile(self.base_url, self.api_key, http=http)).slot_ctx

    async def complete(
        self,
        messages: list[dict],
        *,
        max_tokens: int = 256,
        temperature: float = 0.0,
        grammar: str | None = None,
        json_schema: dict | None = None,
        tools: list[dict] | None = None,
        tool_choice: str | None = None,
        timeout: float | None = None,
        cache_prompt: bool = True,
        extra: dict | None = None,
        thinking: bool | None = False,
    ) -> Completion:
        """thinking: False (default) answers at once on a thinking template; True lets it think."""
        extra = {**await self.template_fields(thinking), **(extra or {})}
        kw = request_args(messages, max_tokens=max_tokens, temperature=temperature, grammar=grammar,
                          json_schema=json_schema, tools=tools, tool_choice=tool_choice,
                          cache_prompt=cache_prompt, extra=extra, model=self.model)
        if timeout is not None:
            kw["timeout"] = timeout
        resp = await self._client.chat.completions.create(**kw)
        choice = resp.choices[0]
        calls = [
            {"id": tc.id, "name": tc.function.name, "arguments": tc.function.arguments}
            for tc in (choice.message.tool_calls or [])
        ]
        return Completion(
            text=choice.message.content or "",
            timings=_extra(resp, "timings") or {},
            usage=resp.usage.model_dump() if resp.usage else {},
            finish_reason=choice.finish_reason,
            tool_calls=calls,
            reasoning=_extra(choice.message, "reasoning_content") or "",
        )

    async def stream(
        self,
        messages: list[dict],
        *,
        max_tokens: int = 512,
        temperature: float = 0.3,
        tools: list[dict] | None = None,
        json_schema: dict | None = None,
        grammar: str | None = None,
        extra: dict | None = None,
        thinking: bool | None = False,
    ) -> AsyncIterator[StreamEvent]:
        """Yield tokens as they arrive. Closing the iterator (e.g. task cancelled) closes the HTTP
        stream, which makes llama-server stop generating for this request. With thinking=True a
        thinking template's reasoning comes as 'reasoning' events before the answer's tokens."""
        extra = {**await self.template_fields(thinking), **(extra or {})}
        kw = request_args(messages, max_tokens=max_tokens, temperature=temperature, grammar=grammar,
                          json_schema=json_schema, tools=tools, extra=extra, model=self.model)
        stream = await self._client.chat.completions.create(stream=True, **kw)
        calls: dict[int, dict] = {}
        timings: dict = {}
        finish = None
        try:
            async for chunk in stream:
                t = _extra(chunk, "timings")
                if t:
                    timings = t
                if not chunk.choices:
                    continue
                ch = chunk.choices[0]
                if ch.finish_reason:
                    finish = ch.finish_reason
                delta = ch.delta
                if delta is None:
                    continue
                for tc in delta.tool_calls or []:
                    slot = calls.setdefault(tc.index or 0, {"id": None, "name": "", "arguments": ""})
                    if tc.id:
                        slot["id"] = tc.id
                    if tc.function and tc.function.name:
                        slot["name"] += tc.function.name
                    if tc.function and tc.function.arguments:
                        slot["arguments"] += tc.function.arguments
                    yield StreamEvent("tool_call_delta")
                reasoning = _extra(delta, "reasoning_content")
                if reasoning:
                    yield StreamEvent("reasoning", text=reasoning)
                if delta.content:
                    yield StreamEvent("token", text=delta.content)
        finally:
            await stream.close()
        yield StreamEvent("done", timings=timings, finish_reason=finish,
                          tool_calls=[calls[i] for i in sorted(calls)])


def parse_json_object(text: str) -> dict | None:
    """Garbage-tolerant: the first {...} object in the text, or None."""
    text = text.strip()
    try:
        v = json.loads(text)
        return v if isinstance(v, dict) else None
    except json.JSONDecodeError:
        pass
    start = text.find("{")
    while start != -1:
        depth = 0
        for i in range(start, len(text)):
            if text[i] == "{":
                depth += 1
            elif text[i] == "}":
                depth -= 1
                if depth == 0:
                    try:
                        v = json.loads(text[start : i + 1])
                        return v if isinstance(v, dict) else None
                    except json.JSONDecodeError:
                        break
        start = text.find("{", start + 1)
    return None


async def close_clients(clients: dict) -> None:
    """Close every client in `clients` and empty it: one that fails to close (its server already gone)
    must not keep the others open."""
    for c in list(clients.values()):
        try:
            await c.close()
        except Exception:
            pass
    clients.clear()
