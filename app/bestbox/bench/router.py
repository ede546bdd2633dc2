"""bench section `router`: one decision per method — fast path, BestBox's hybrid router, the grammar
label on light and on heavy, the design's JSON-schema decision on light and on heavy."""
from __future__ import annotations

from ..stats import summary
from ..trace import now_ms
from .context import Ctx, count, reps, rnd, rot

ROUTER_METHODS = ("fast_path", "bestbox_hybrid", "light_grammar", "heavy_grammar", "light_json", "heavy_json")
ROUTER_LABELS = {
    "fast_path": "fast path (in-process)",
    "bestbox_hybrid": "BestBox router (hybrid)",
    "light_grammar": "light LLM, grammar label",
    "heavy_grammar": "heavy LLM, grammar label (before)",
    "light_json": "light LLM, JSON schema (design after)",
    "heavy_json": "heavy LLM, JSON schema (design before)",
}


async def bench_router(ctx: Ctx) -> dict:
    """Every method on every router utterance, each repeat in a rotated order, prompt caches warm."""
    from ..routing.router import Router

    light, heavy = ctx.mgr.client("light"), ctx.mgr.client("heavy")
    router = Router(ctx.cfg, None)  # the shipped router without the decision log

    async def run(method: str, text: str) -> dict:
        if method in ("fast_path", "bestbox_hybrid"):
            return await _shipped_router(router, method, text, light, heavy)
        return await _router_llm(light if method.startswith("light") else heavy, method, text)

    utts = ctx.sel["router"]
    n = reps(ctx)
    samples: dict[str, list[dict]] = {m: [] for m in ROUTER_METHODS}
    for r in range(n):
        for m in rot(ROUTER_METHODS, r):
            await run(m, "warm up the prompt cache")  # each method measured with its prompt cached
            for u in utts:
                s = await run(m, u.text)
                s.update(text=u.text, expected=u.agent, correct=s.get("agent") == u.agent)
                samples[m].append(s)
        ctx.opt.log(f"  router: repeat {r + 1}/{n}")
    return {"methods": {m: _summarise(m, ss) for m, ss in samples.items()}, "labels": ROUTER_LABELS,
            "utterances": [u.text for u in utts], "repeats": n}


async def _router_llm(client, method: str, text: str, timeout_s: float = 120.0) -> dict:
    """One decision by the light-LLM router's own functions: grammar label or the design's JSON."""
    from ..routing import llm_router

    fn = llm_router.classify_json if method.endswith("json") else llm_router.classify
    t = now_ms()
    try:
        lab = await fn(client, text, timeout_s=timeout_s)
    except llm_router.RouterLLMError as e:
        return {"ms": now_ms() - t, "error": f"{e.kind}: {e}"}
    ms = now_ms() - t
    tm = lab.timings or {}
    return {"ms": ms, "agent": lab.agent, "predicted_n": tm.get("predicted_n"), "prompt_n": tm.get("prompt_n"),
            "cache_n": tm.get("cache_n"), "server_ms": (tm.get("prompt_ms") or 0) + (tm.get("predicted_ms") or 0),
            "raw": lab.raw[:80]}


async def _shipped_router(router, method: str, text: str, light, heavy) -> dict:
    """One decision by the shipped Router, in fast or hybrid mode."""
    t = now_ms()
    d = await router.route(text, light, heavy, mode="fast" if method == "fast_path" else "hybrid")
    s = {"ms": now_ms() - t, "agent": d.agent, "decided_by": d.decided_by}
    if d.decided_by == "llm":
        s.update(predicted_n=d.detail.get("predicted_n"), prompt_n=d.detail.get("prompt_n"),
                 cache_n=d.detail.get("cache_n"))
    elif method == "fast_path" or d.decided_by == "fast":
        s["predicted_n"] = 0
    return s


def _summarise(method: str, ss: list[dict]) -> dict:
    ok = [s for s in ss if "error" not in s]
    return {
        "ms": summary([s["ms"] for s in ok]),
        "generated_tokens": summary([s.get("predicted_n") for s in ok]),
        "prompt_n": summary([s.get("prompt_n") for s in ok]),
        "cache_n": summary([s.get("cache_n") for s in ok]),
        "server_ms": summary([s.get("server_ms") for s in ok]),
        "accuracy": rnd(sum(s["correct"] for s in ok) / len(ok), 3) if ok else None,
        "errors": len(ss) - len(ok),
        "decided_by": count(s.get("decided_by") for s in ok) if method in ("fast_path", "bestbox_hybrid") else None,
        "example": next((s.get("raw") for s in ok if s.get("raw")), None),
    }
