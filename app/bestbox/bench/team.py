"""`bestbox bench --only team`: how a shared server's cost grows with the team.

A throw-away llama-server (the heavy model as configured, `--parallel 4`, its own port and API
key: a team's shared heavy tier) serves N headless clients at once (1, 2, 4, 8). Each client asks
typed questions back to back, as the app's heavy tier does (system prompt + question, streamed,
the bench's answer cap), through the app's own `LLMClient`. Reported per N: first token and whole
answer p50/p95, and the server's own queueing beside it (`/metrics`: requests deferred, processing;
`/slots`). Closed loop (no think time), so it is the worst case for N people asking at once.
"""
from __future__ import annotations

import asyncio
import secrets

from ..trace import now_ms

CLIENTS = (1, 2, 4, 8)
PARALLEL = 4
QUESTIONS = (
    "Which purchase orders are waiting for approval?",
    "Summarise the open support tickets for the finance team.",
    "What is our leave policy for parental leave?",
    "List the top customers by revenue this year.",
)


def _pct(xs: list[float], q: float) -> float | None:
    from ..stats import percentile

    v = percentile(xs, q)
    return None if v is None else round(v, 1)


async def _client_loop(client, turns: int, answer_tokens: int, idx: int) -> list[dict]:
    out = []
    for t in range(turns):
        q = QUESTIONS[(idx + t) % len(QUESTIONS)]
        msgs = [{"role": "system", "content": "You are BestBox, an office assistant. Answer briefly."},
                {"role": "user", "content": q}]
        t0 = now_ms()
        first = None
        try:
            async for ev in client.stream(msgs, max_tokens=answer_tokens, temperature=0.0,
                                          extra={"ignore_eos": True}):
                if ev.kind == "token" and first is None:
                    first = now_ms() - t0
            out.append({"first_token_ms": first, "total_ms": now_ms() - t0})
        except Exception as e:  # a refused or dropped request is a result too
            out.append({"error": f"{type(e).__name__}: {e}"})
    return out


async def _metrics(base: str, key: str) -> dict:
    import httpx

    async with httpx.AsyncClient(timeout=5.0) as h:
        try:
            r = await h.get(base + "/metrics", headers={"Authorization": f"Bearer {key}"})
        except httpx.HTTPError:
            return {}
    m = {}
    for line in r.text.splitlines():
        if line.startswith("llamacpp:") and " " in line:
            k, v = line.split(" ", 1)
            try:
                m[k.split(":", 1)[1]] = float(v)
            except ValueError:
                pass
    return m


async def bench_team(ctx) -> dict:
    from ..llm.client import LLMClient
    from .supervision import throwaway_server

    turns = 1 if ctx.opt.quick else 3
    key = secrets.token_hex(8)
    async with throwaway_server(ctx.cfg, "heavy", parallel=PARALLEL, api_key=key, log=ctx.opt.log) as base:
        client = LLMClient(base, key, name="team")
        try:
            await _client_loop(client, 1, 4, 0)  # warm-up: the system prompt in the cache
            rows = []
            for n in CLIENTS:
                before = await _metrics(base, key)
                t0 = now_ms()
                per = await asyncio.gather(*[_client_loop(client, turns, ctx.opt.answer_tokens, i) for i in range(n)])
                wall = now_ms() - t0
                after = await _metrics(base, key)
                flat = [x for xs in per for x in xs]
                ok = [x for x in flat if "error" not in x]
                rows.append({
                    "clients": n, "turns": len(flat), "errors": len(flat) - len(ok),
                    "first_token_p50_ms": _pct([x["first_token_ms"] for x in ok], 50),
                    "first_token_p95_ms": _pct([x["first_token_ms"] for x in ok], 95),
                    "answer_p50_ms": _pct([x["total_ms"] for x in ok], 50),
                    "answer_p95_ms": _pct([x["total_ms"] for x in ok], 95),
                    "wall_ms": round(wall, 1),
                    "server_deferred": (after.get("requests_deferred", 0) - before.get("requests_deferred", 0))
                    if "requests_deferred" in after else after.get("requests_deferred"),
                    "server_tokens_per_s": round(after.get("predicted_tokens_seconds", 0.0), 1) or None,
                })
                ctx.opt.log(f"  team: {n} clients → first token p95 {rows[-1]['first_token_p95_ms']} ms")
        finally:
            await client.close()
    within = [r["clients"] for r in rows if r["first_token_p95_ms"] is not None and r["first_token_p95_ms"] < 1000]
    return {"parallel": PARALLEL, "answer_tokens": ctx.opt.answer_tokens, "turns_per_client": turns, "rows": rows,
            "max_clients_within_1s_first_token_p95": max(within) if within else 0}
