"""What the benchmark puts between the app and its servers: clients that note every request (when
it started and ended on our clock, the server's own `timings`) and cap the answer length, so that
all configurations generate the same number of answer tokens and a turn's time can be split into
server time and app time.

The wrapper changes nothing else: the app's code (Router, Assistant, AgentRunner, VoiceSession)
calls it exactly as it calls an `LLMClient`.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, AsyncIterator

from ..trace import now_ms


@dataclass
class Call:
    server: str
    kind: str            # "complete" | "stream"
    purpose: str         # "route" | "cleanup" | "tool_choice" | "answer" | "prefill" (the answer's prompt read ahead)
    start_ms: float      # our clock (trace.now_ms)
    end_ms: float = 0.0
    first_token_ms: float | None = None
    timings: dict = field(default_factory=dict)
    schema: bool = False
    grammar: bool = False
    substituted: bool = False   # a capped tool call's text replaced (RecordingClient.call_cap)
    unconstrained: bool = False  # timed as a plain decode of call_cap tokens (random weights, tool_rounds.py)

    @property
    def wall_ms(self) -> float:
        return self.end_ms - self.start_ms

    @property
    def server_ms(self) -> float:
        """Time the server says it computed (prompt + generation); the rest of wall_ms is HTTP,
        JSON and queueing."""
        t = self.timings or {}
        return float(t.get("prompt_ms") or 0.0) + float(t.get("predicted_ms") or 0.0)


_CLEANUP_PREFIX = "You correct speech-recognition transcripts"


def _purpose(messages: list[dict], schema: bool, grammar: bool) -> str:
    first = str((messages[0] or {}).get("content") or "") if messages else ""
    if first.startswith(_CLEANUP_PREFIX):
        return "cleanup"
    if first.startswith("You route office requests"):
        return "route"
    if schema:
        return "tool_choice"
    return "other"


class RecordingClient:
    """An LLMClient look-alike that records each request into `log` and caps streamed answers at
    `answer_cap` tokens. `call_cap` (`bestbox bench --tool-call-tokens`, for random-weight models)
    caps each schema-forced tool call at that many tokens, a real model's call length: a random
    model fills the schema's strings up to the token limit and is asked again (3 calls, 2-5 s on an
    H200). The server still generates those tokens under the schema grammar (its own `timings` are
    kept); only when the capped text is not a valid call, its text becomes the first offered tool
    with no arguments (the loop fills them from the request, as for any call), and the record says
    `substituted`."""

    def __init__(self, inner: Any, log: list[Call], answer_cap: int | None = None, call_cap: int | None = None,
                 owner: Any = None):
        self._inner = inner
        self._log = log
        self.answer_cap = answer_cap
        self.call_cap = call_cap
        self._owner = owner     # RecordingEndpoints: its `unconstrained` switch

    def __getattr__(self, name: str) -> Any:  # name, base_url, api_key, close, ...
        return getattr(self._inner, name)

    async def complete(self, messages: list[dict], **kw: Any):
        purpose = "prefill" if kw.get("max_tokens") == 0 else \
            _purpose(messages, kw.get("json_schema") is not None, bool(kw.get("grammar")))   # agents.ahead.prefill
        c = Call(self._inner.name, "complete", purpose, now_ms(),
                 schema=kw.get("json_schema") is not None, grammar=bool(kw.get("grammar")))
        self._log.append(c)
        capped = self.call_cap is not None and c.purpose == "tool_choice"
        if capped:
            kw["max_tokens"] = min(int(kw.get("max_tokens") or self.call_cap), self.call_cap)
        schema = kw.get("json_schema")
        if capped and getattr(self._owner, "unconstrained", False):
            # Random weights fail llama.cpp's grammar check on nearly every token, which then filters
            # the whole vocabulary (~25-30 ms a token on an H200); a trained model's tokens mostly pass.
            # So the call is timed as a plain decode of call_cap tokens, and a canned call stands in.
            kw = {**kw, "json_schema": None, "extra": {**(kw.get("extra") or {}), "ignore_eos": True}}
            c.unconstrained = True
        try:
            comp = await self._inner.complete(messages, **kw)
        finally:
            c.end_ms = now_ms()
        c.timings = dict(comp.timings or {})
        if capped:
            c.substituted, comp = _as_call(comp, schema, force=c.unconstrained)
        return comp

    async def stream(self, messages: list[dict], *, max_tokens: int = 512, **kw: Any) -> AsyncIterator:
        if self.answer_cap is not None:
            max_tokens = min(max_tokens, self.answer_cap)
        purpose = _purpose(messages, kw.get("json_schema") is not None, bool(kw.get("grammar")))
        c = Call(self._inner.name, "stream", "answer" if purpose == "other" else purpose, now_ms())
        self._log.append(c)
        agen = self._inner.stream(messages, max_tokens=max_tokens, **kw)
        try:
            async for ev in agen:
                if ev.kind == "token" and ev.text and c.first_token_ms is None:
                    c.first_token_ms = now_ms()
                if ev.kind == "done":
                    c.timings = dict(ev.timings or {})
                    c.end_ms = now_ms()
                yield ev
        finally:
            if not c.end_ms:
                c.end_ms = now_ms()
            await agen.aclose()


def _as_call(comp: Any, schema: dict, force: bool = False) -> tuple[bool, Any]:
    """(substituted, completion): the completion when its text is a call of a tool the schema
    offers (and not `force`), else one that calls the first offered tool with no arguments."""
    from dataclasses import replace

    from ..llm.client import parse_json_object

    options = schema.get("oneOf") or [schema]
    names = [((o.get("properties") or {}).get("tool") or {}).get("const") for o in options]
    obj = parse_json_object(comp.text or "")
    if not force and obj is not None and obj.get("tool") in names and isinstance(obj.get("arguments"), dict):
        return False, comp
    return True, replace(comp, text=json.dumps({"tool": names[0], "arguments": {}}), finish_reason="stop")


class RecordingEndpoints:
    """Wraps a ServerManager (anything with `client(name)`): the same servers, recorded clients.
    `calls` collects every request until `reset()`."""

    def __init__(self, inner: Any, answer_cap: int | None = None, call_cap: int | None = None):
        self._inner = inner
        self.answer_cap = answer_cap
        self.call_cap = call_cap
        self.unconstrained = False     # set for random-weight models by bench/tool_rounds.py
        self.calls: list[Call] = []
        self._clients: dict[int, RecordingClient] = {}

    def client(self, name: str):
        c = self._inner.client(name)
        if c is None:
            return None
        rc = self._clients.get(id(c))
        if rc is None:
            rc = self._clients[id(c)] = RecordingClient(c, self.calls, self.answer_cap, self.call_cap, self)
        return rc

    def reset(self) -> list[Call]:
        out = list(self.calls)
        self.calls.clear()
        return out

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


def union_ms(intervals: list[tuple[float, float]], lo: float | None = None, hi: float | None = None) -> float:
    """Total length covered by the intervals, clipped to [lo, hi]."""
    iv = []
    for a, b in intervals:
        if lo is not None:
            a = max(a, lo)
        if hi is not None:
            b = min(b, hi)
        if b > a:
            iv.append((a, b))
    iv.sort()
    total, cur_a, cur_b = 0.0, None, None
    for a, b in iv:
        if cur_b is None or a > cur_b:
            if cur_b is not None:
                total += cur_b - cur_a
            cur_a, cur_b = a, b
        else:
            cur_b = max(cur_b, b)
    if cur_b is not None:
        total += cur_b - cur_a
    return total
