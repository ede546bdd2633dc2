"""The light-model router: one label out of the light model, as cheaply as the server allows.

- A GBNF grammar allows exactly the five labels, so the model generates the label and the end
  token, nothing else (about 2–4 tokens; `predicted_n` in the server's timings shows it).
- The system prompt, with a few examples, is static and comes first: llama-server's prompt cache
  (`cache_prompt: true`) reuses it, so only the user's words are evaluated (`timings.cache_n`).
- Temperature 0, a small max_tokens, and a timeout: past it the caller falls back to the fast path.
- `classify_json` is the design's structured variant (`{"agent", "needs_tools", "complexity"}`
  under a JSON schema), kept for the benchmark to compare: it costs ~5–10× the tokens.
"""
from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field

from ..llm.client import LLMClient, parse_json_object
from .decision import AGENTS

from .prompts import GRAMMAR, JSON_SCHEMA, JSON_SYSTEM_PROMPT, LABELS, MAX_TOKENS, SYSTEM_PROMPT  # noqa: F401


class RouterLLMError(Exception):
    """The light model did not give a usable label (timeout, server error, garbage)."""

    def __init__(self, kind: str, message: str, ms: float):
        super().__init__(message)
        self.kind = kind          # "timeout" | "error" | "garbage"
        self.ms = ms


@dataclass
class LLMLabel:
    agent: str
    ms: float
    timings: dict = field(default_factory=dict)
    raw: str = ""
    extra: dict = field(default_factory=dict)   # json variant: needs_tools, complexity

    def detail(self) -> dict:
        t = self.timings
        return {
            "llm_ms": round(self.ms, 2),
            "predicted_n": t.get("predicted_n"),
            "prompt_n": t.get("prompt_n"),
            "cache_n": t.get("cache_n"),
            "prompt_ms": _r(t.get("prompt_ms")),
            "predicted_ms": _r(t.get("predicted_ms")),
            "raw": self.raw,
            **self.extra,
        }


def _r(v):
    return round(v, 2) if isinstance(v, (int, float)) else v


def messages_for(text: str, json_variant: bool = False) -> list[dict]:
    return [
        {"role": "system", "content": JSON_SYSTEM_PROMPT if json_variant else SYSTEM_PROMPT},
        {"role": "user", "content": text.strip()[:1000]},
    ]


def parse_label(text: str) -> str | None:
    """The label in the model's output, tolerant of case and stray spaces; None when garbage."""
    t = text.strip().strip('"').strip().lower().replace("-", "_").replace(" ", "_")
    if t in AGENTS:
        return t
    return LABELS.get(t)


async def _call(client: LLMClient, msgs: list[dict], timeout_s: float, **kw):
    t0 = time.perf_counter()
    try:
        # The HTTP timeout and wait_for agree; cancelling the request closes the connection,
        # which makes llama-server stop working on it.
        comp = await asyncio.wait_for(client.complete(msgs, temperature=0.0, timeout=timeout_s, **kw), timeout_s)
    except asyncio.TimeoutError:
        raise RouterLLMError("timeout", f"no label within {timeout_s * 1000:.0f} ms",
                             (time.perf_counter() - t0) * 1000) from None
    except asyncio.CancelledError:
        raise
    except Exception as e:  # connection refused, HTTP 5xx, httpx timeout: all mean "no label"
        kind = "timeout" if "timeout" in type(e).__name__.lower() else "error"
        raise RouterLLMError(kind, f"{type(e).__name__}: {e}", (time.perf_counter() - t0) * 1000) from None
    return comp, (time.perf_counter() - t0) * 1000


async def classify(client: LLMClient, text: str, timeout_s: float = 1.5) -> LLMLabel:
    """One grammar-constrained label from the model. Raises RouterLLMError."""
    comp, ms = await _call(client, messages_for(text), timeout_s, grammar=GRAMMAR, max_tokens=MAX_TOKENS)
    agent = parse_label(comp.text)
    if agent is None:
        raise RouterLLMError("garbage", f"not a label: {comp.text[:80]!r}", ms)
    return LLMLabel(agent, ms, comp.timings, comp.text)


async def classify_json(client: LLMClient, text: str, timeout_s: float = 5.0) -> LLMLabel:
    """The design's structured decision under a JSON schema (for comparison). Raises RouterLLMError."""
    comp, ms = await _call(client, messages_for(text, json_variant=True), timeout_s,
                           json_schema=JSON_SCHEMA, max_tokens=64)
    obj = parse_json_object(comp.text) or {}
    agent = parse_label(str(obj.get("agent", "")))
    if agent is None:
        raise RouterLLMError("garbage", f"no agent in {comp.text[:80]!r}", ms)
    extra = {k: obj[k] for k in ("needs_tools", "complexity") if k in obj}
    return LLMLabel(agent, ms, comp.timings, comp.text, extra)
