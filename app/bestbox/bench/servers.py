"""bench section `servers`: decode / prompt speed and build facts of each server."""
from __future__ import annotations

from .context import Ctx


async def bench_servers(ctx: Ctx) -> dict:
    """Decode and prompt speed per server, with the GPU engineer's measurement functions."""
    from .llama_http import Endpoint, make_client
    from .server_measures import measure_decode, measure_prompt_speed, server_info

    out: dict = {}
    reps = 1 if ctx.opt.quick else 2
    n_tok = 16 if ctx.opt.quick else 32
    async with make_client() as http:
        for name in ("light", "heavy"):
            snap = ctx.mgr.snapshot(name)
            ep = Endpoint(name, snap.base_url, ctx.cfg.llama.api_key)
            info = await server_info(http, ep)
            info["decode"] = await measure_decode(http, ep, n_tokens=n_tok, repeats=reps, warmup=0)
            info["prompt_speed"] = await measure_prompt_speed(http, ep, repeats=1, warmup=0)
            info["decode_tokens"] = n_tok
            info["model_name"] = snap.model_name
            info["demo_model"] = snap.using_demo_model
            out[name] = info
    return out
