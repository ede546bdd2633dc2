"""(e) a whole typed turn against the two servers, in the design's configurations: single (JSON
route on heavy + answer on heavy), dual (JSON route on light + answer on heavy), bestbox (grammar
route on light + answer on heavy) and bestbox_fast (fast path in-process + answer on heavy)."""
from __future__ import annotations

import time
from typing import Any, Callable

import httpx

from ..stats import summary
from .llama_http import Endpoint, chat_stream, collect, msgs
from .server_measures import AGENT_SYSTEM_PROMPT, UTTERANCES, route_once, utterance

def keyword_fast_path(text: str) -> str:
    """A stand-in for the app's fast path (the real one is bestbox.routing.fast_path.FastPath),
    used where that cannot be imported: in-process, no server."""
    t = text.lower()
    for agent, words in (("erp", ("vendor", "supplier", "invoice", "purchase", "stock", "lead time", "reorder")),
                         ("crm", ("customer", "pipeline", "deal", "lead", "call with")),
                         ("it_ops", ("vpn", "server", "backup", "laptop", "password", "wifi")),
                         ("oa", ("meeting", "room", "vacation", "leave", "policy"))):
        if any(w in t for w in words):
            return agent
    return "general"


TURN_CONFIGS = ("single", "dual", "bestbox", "bestbox_fast")


async def turn_once(client: httpx.AsyncClient, light: Endpoint, heavy: Endpoint, config: str, text: str, *,
                    answer_tokens: int = 64, fast_route: Callable[[str], Any] | None = None,
                    agent_system_prompt: str | None = None, bare: dict | None = None) -> dict:
    """One typed turn: input → route decision → answer streamed from heavy (fixed length).
    single: JSON route on heavy; dual: JSON route on light; bestbox: grammar route on light;
    bestbox_fast: the fast path in-process (no server).
    bare: {"json": n, "grammar": m} routes at a real model's length without the constraint
    (see route_once); None routes as constrained."""
    bare = bare or {}
    t0 = time.perf_counter()
    route: dict = {}
    if config == "single":
        route = await route_once(client, heavy, text, "json", bare_tokens=bare.get("json"))
    elif config == "dual":
        route = await route_once(client, light, text, "json", bare_tokens=bare.get("json"))
    elif config == "bestbox":
        route = await route_once(client, light, text, "grammar", bare_tokens=bare.get("grammar"))
    elif config == "bestbox_fast":
        (fast_route or keyword_fast_path)(text)
    else:
        raise ValueError(config)
    t_route = (time.perf_counter() - t0) * 1000
    s = await chat_stream(client, heavy, msgs(agent_system_prompt or AGENT_SYSTEM_PROMPT, text), t0=t0,
                          max_tokens=answer_tokens, ignore_eos=True)
    t = s["timings"]
    return {"route_ms": t_route, "first_ms": s["first_ms"], "last_ms": s["last_ms"],
            "route_predicted_n": route.get("predicted_n"), "answer_predicted_n": t.get("predicted_n"),
            "answer_cache_n": t.get("cache_n"), "answer_prompt_n": t.get("prompt_n"),
            "answer_prompt_ms": t.get("prompt_ms")}


async def measure_turns(client: httpx.AsyncClient, light: Endpoint, heavy: Endpoint, *, repeats: int = 10,
                        warmup: int = 1, answer_tokens: int = 64, configs: tuple[str, ...] = TURN_CONFIGS,
                        fast_route: Callable[[str], Any] | None = None, utterances: list[str] | None = None,
                        bare: dict | None = None) -> dict:
    """The configurations interleaved (single, dual, bestbox, bestbox_fast for each utterance), so
    drift and cache state hit them alike. bare: see turn_once."""
    utts = utterances or UTTERANCES
    samples: dict[str, list[dict]] = {c: [] for c in configs}
    for i in range(warmup + repeats):
        for c in configs:   # the same utterance for each configuration, each with its own number
            text = utterance(utts, i)
            r = await turn_once(client, light, heavy, c, text, answer_tokens=answer_tokens, fast_route=fast_route,
                                bare=bare)
            if i >= warmup:
                samples[c].append(r)
    keys = ("route_ms", "first_ms", "last_ms", "route_predicted_n", "answer_predicted_n", "answer_cache_n",
            "answer_prompt_n", "answer_prompt_ms")
    return {c: collect(v, keys) for c, v in samples.items()}


async def measure_fast_path(fast_route: Callable[[str], Any] | None, *, repeats: int = 200,
                            utterances: list[str] | None = None) -> dict:
    fn = fast_route or keyword_fast_path
    utts = utterances or UTTERANCES
    fn(utts[0])
    ms = []
    for i in range(repeats):
        t0 = time.perf_counter()
        fn(utts[i % len(utts)])
        ms.append((time.perf_counter() - t0) * 1000)
    return {"ms": summary(ms)}
