"""`bestbox bench --only team`: how a shared server's cost grows with the team.

A throw-away llama-server (the heavy model as configured, `--parallel 4`, its own port and API
key: a team's shared heavy tier) serves N headless clients at once (1, 2, 4, 8). Each client asks
typed questions back to back, as the app's heavy tier does (system prompt + question, streamed,
the bench's answer cap), through the app's remote path: the server is configured as a remote heavy
tier (`url`, `api_key_env`), watched by a `RemoteSupervisor`, and every client is the `LLMClient`
that supervisor hands out (its own connection, as each desktop has). While N clients run, the
supervisor's checks (every 0.5 s) record what a desktop's panel would show (remote / busy / slow)
and the queue it saw. Reported per N: first token and whole
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


async def _watch(sup, seen: dict, stop: asyncio.Event) -> None:
    """What the remote supervisor shows while the clients run: states counted, the longest queue."""
    while not stop.is_set():
        snap = await sup.observe()
        seen["states"][snap.state.value] = seen["states"].get(snap.state.value, 0) + 1
        seen["max_queued"] = max(seen["max_queued"], snap.queued or 0)
        seen["max_busy_slots"] = max(seen["max_busy_slots"], snap.busy_slots or 0)
        try:
            await asyncio.wait_for(stop.wait(), 0.5)
        except asyncio.TimeoutError:
            pass


async def bench_team(ctx) -> dict:
    import os

    from ..servers.remote import RemoteSupervisor
    from .supervision import throwaway_server

    turns = 1 if ctx.opt.quick else 3
    key = secrets.token_hex(8)
    async with throwaway_server(ctx.cfg, "heavy", parallel=PARALLEL, api_key=key, log=ctx.opt.log) as base:
        os.environ["BESTBOX_TEAM_BENCH_KEY"] = key  # the remote config names the variable, as a desktop's does
        rcfg = ctx.cfg.server("heavy").model_copy(update={"url": base, "api_key_env": "BESTBOX_TEAM_BENCH_KEY"})
        sup = RemoteSupervisor("team", rcfg)
        snap = await sup.start(timeout=30)
        if not snap.serving:
            await sup.close()
            raise RuntimeError(f"the team server is {snap.state.value}: {snap.message}")
        clients = [sup.make_client(snap) for _ in range(max(CLIENTS))]
        try:
            await _client_loop(clients[0], 1, 4, 0)  # warm-up: the system prompt in the cache
            rows = []
            for n in CLIENTS:
                before = await _metrics(base, key)
                seen = {"states": {}, "max_queued": 0, "max_busy_slots": 0}
                stop = asyncio.Event()
                watcher = asyncio.ensure_future(_watch(sup, seen, stop))
                t0 = now_ms()
                per = await asyncio.gather(*[_client_loop(clients[i], turns, ctx.opt.answer_tokens, i)
                                             for i in range(n)])
                wall = now_ms() - t0
                stop.set()
                await watcher
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
                    "remote_states_seen": seen["states"], "remote_max_queued": seen["max_queued"],
                    "remote_max_busy_slots": seen["max_busy_slots"],
                })
                shown = ", ".join(f"{k} {v}×" for k, v in seen["states"].items())
                ctx.opt.log(f"  team: {n} clients → first token p95 {rows[-1]['first_token_p95_ms']} ms; "
                            f"the panel showed {shown or '-'} (queue up to {seen['max_queued']})")
        finally:
            for c in clients:
                await c.close()
            await sup.close()
            os.environ.pop("BESTBOX_TEAM_BENCH_KEY", None)
    within = [r["clients"] for r in rows if r["first_token_p95_ms"] is not None and r["first_token_p95_ms"] < 1000]
    return {"parallel": PARALLEL, "answer_tokens": ctx.opt.answer_tokens, "turns_per_client": turns, "rows": rows,
            "max_clients_within_1s_first_token_p95": max(within) if within else 0}
