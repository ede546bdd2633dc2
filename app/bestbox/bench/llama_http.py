"""The few llama-server HTTP calls the benchmarks make: pure asyncio + httpx (no OpenAI client, no
Qt), so a GPU box with only Python and httpx runs them. Lengths and speeds come from the server's
own `timings`, never from the text (random-weight models emit bytes that are not valid UTF-8)."""
from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

import httpx

from ..stats import summary


@dataclass
class Endpoint:
    name: str
    base_url: str
    api_key: str = ""

    def headers(self) -> dict:
        h = {"Content-Type": "application/json"}
        if self.api_key:
            h["Authorization"] = f"Bearer {self.api_key}"
        return h

    def url(self, path: str) -> str:
        return self.base_url.rstrip("/") + path


def make_client(timeout: float = 300.0) -> httpx.AsyncClient:
    # One keep-alive connection pool, as the app's OpenAI client has: no TCP set-up in the numbers.
    return httpx.AsyncClient(timeout=httpx.Timeout(timeout, connect=5.0),
                             limits=httpx.Limits(max_keepalive_connections=8))


async def chat(client: httpx.AsyncClient, ep: Endpoint, messages: list[dict], **body: Any) -> tuple[dict, float]:
    """Non-streamed chat completion. Returns (response JSON, wall ms)."""
    payload = {"messages": messages, "temperature": 0.0, "cache_prompt": True, **body}
    t0 = time.perf_counter()
    r = await client.post(ep.url("/v1/chat/completions"), json=payload, headers=ep.headers())
    ms = (time.perf_counter() - t0) * 1000
    if r.status_code != 200:
        raise RuntimeError(f"{ep.name}: HTTP {r.status_code}: {r.text[:300]}")
    return r.json(), ms


async def chat_stream(client: httpx.AsyncClient, ep: Endpoint, messages: list[dict], t0: float | None = None,
                      **body: Any) -> dict:
    """Streamed chat completion. Times (ms from t0, default: the request) of the first chunk that
    carries a generated token (llama-server sends the assistant-role chunk with token 1, whatever
    the token's text) and of the end of the stream; the final chunk's timings."""
    payload = {"messages": messages, "temperature": 0.0, "cache_prompt": True, "stream": True, **body}
    start = time.perf_counter()
    t0 = start if t0 is None else t0
    first = None
    timings: dict = {}
    finish = None
    chunks = 0
    async with client.stream("POST", ep.url("/v1/chat/completions"), json=payload, headers=ep.headers()) as r:
        if r.status_code != 200:
            text = (await r.aread()).decode(errors="replace")
            raise RuntimeError(f"{ep.name}: HTTP {r.status_code}: {text[:300]}")
        async for line in r.aiter_lines():
            if not line.startswith("data:"):
                continue
            data = line[5:].strip()
            if data == "[DONE]":
                break
            try:
                obj = json.loads(data)
            except json.JSONDecodeError:
                continue
            if obj.get("choices"):
                chunks += 1
                if first is None:
                    first = time.perf_counter()
                fr = obj["choices"][0].get("finish_reason")
                if fr:
                    finish = fr
            if obj.get("timings"):
                timings = obj["timings"]
    end = time.perf_counter()
    return {
        "first_ms": None if first is None else (first - t0) * 1000,
        "last_ms": (end - t0) * 1000,
        "request_first_ms": None if first is None else (first - start) * 1000,
        "chunks": chunks,
        "finish_reason": finish,
        "timings": timings,
    }


async def count_tokens(client: httpx.AsyncClient, ep: Endpoint, text: str) -> int | None:
    """Tokens in `text` by the server's tokenizer (/tokenize); None when it cannot say."""
    try:
        r = await client.post(ep.url("/tokenize"), json={"content": text}, headers=ep.headers())
        return len(r.json()["tokens"])
    except Exception:
        return None


def msgs(system: str, user: str) -> list[dict]:
    return [{"role": "system", "content": system}, {"role": "user", "content": user}]


def timings_of(resp: dict) -> dict:
    t = resp.get("timings") or {}
    return {k: t.get(k) for k in ("prompt_n", "cache_n", "prompt_ms", "predicted_n", "predicted_ms",
                                  "predicted_per_second", "prompt_per_second")}


def collect(samples: list[dict], keys: tuple[str, ...]) -> dict:
    return {k: summary([s.get(k) for s in samples]) for k in keys}
