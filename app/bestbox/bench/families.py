"""Router tokens and first-token time per model family: the bundled demo model served with each
family's real chat template (a throw-away server on a free port, one family at a time), asked what
the app asks — the grammar route label and a quick answer, with the template fields BestBox sends
(thinking off, end markers).

The demo model's weights make the times CPU-small-model times; what differs between families is the
prompt the template renders (prompt_n) and whether thinking stays off (predicted_n of the label).
Templates come from tests/data/templates in a source checkout, or from $BESTBOX_TEMPLATES_DIR.
"""
from __future__ import annotations

import os
import socket
import statistics
import tempfile
import time
from pathlib import Path

QUESTIONS = ("show me the top five vendors by spend this quarter", "is the vpn down for everyone",
             "draft a leave request for next friday")


def templates_dir() -> Path | None:
    env = os.environ.get("BESTBOX_TEMPLATES_DIR")
    for d in ([Path(env)] if env else []) + [Path(__file__).resolve().parents[3] / "tests" / "data" / "templates"]:
        if d.is_dir() and any(d.glob("*.jinja")):
            return d
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def _one_family(cfg, template: Path, reps: int) -> dict:
    from .. import paths
    from ..llm.client import LLMClient
    from ..llm.templates import server_profile
    from ..routing import llm_router
    from ..servers import ServerState as S
    from ..servers import Supervisor

    scfg = cfg.server("light").model_copy(update={
        "port": _free_port(), "model": str(paths.demo_llm_model()), "command": [], "ctx_size": 2048,
        "parallel": 1, "n_gpu_layers": 0, "max_restarts": 0,
        "extra_args": ["--chat-template-file", str(template)]})
    out: dict = {"template": template.name}
    with tempfile.TemporaryDirectory(prefix="bestbox-bench-fam-") as td:
        sup = Supervisor("family", scfg, api_key=cfg.llama.api_key, server_binary=cfg.llama.server_binary,
                         state_dir=Path(td))
        try:
            snap = await sup.start()
            if snap.state is not S.READY:
                return {**out, "error": f"server did not start: {snap.message}"}
            client = LLMClient(snap.base_url, cfg.llama.api_key, name="family")
            try:
                prof = await server_profile(snap.base_url, cfg.llama.api_key, fresh=True)
                out.update(thinking_template=prof.thinking, native_tools=prof.native_tools, stops=prof.stops)
                route_ms, predicted, prompt = [], [], []
                for r in range(reps):
                    for q in QUESTIONS:
                        lab = await llm_router.classify(client, f"{q} ({r})" if r else q, timeout_s=120)
                        route_ms.append(lab.ms)
                        predicted.append(lab.timings.get("predicted_n"))
                        prompt.append(lab.timings.get("prompt_n"))
                ttft = []
                for q in QUESTIONS[:reps + 1]:
                    t = time.perf_counter()
                    async for ev in client.stream([{"role": "user", "content": q}], max_tokens=8):
                        if ev.kind == "token":
                            ttft.append((time.perf_counter() - t) * 1000)
                            break
                out.update(route_ms_median=round(statistics.median(route_ms), 1),
                           router_predicted_n=max(p or 0 for p in predicted),
                           router_prompt_n=max(p or 0 for p in prompt),
                           first_token_ms_median=round(statistics.median(ttft), 1) if ttft else None)
            finally:
                await client.close()
        finally:
            await sup.stop()
            await sup.close()
    return out


async def bench_families(ctx) -> dict:
    """{family template: {route_ms_median, router_predicted_n, router_prompt_n, first_token_ms_median, …}}."""
    from .. import paths

    d = templates_dir()
    if d is None or paths.demo_llm_model() is None:
        raise RuntimeError("needs the demo model and the family templates (tests/data/templates or "
                           "$BESTBOX_TEMPLATES_DIR)")
    reps = 1 if ctx.opt.quick else 2
    res = {}
    for t in sorted(d.glob("*.jinja")):
        ctx.opt.log(f"  family {t.stem} ...")
        try:
            res[t.stem] = await _one_family(ctx.cfg, t, reps)
        except Exception as e:  # one family's failure (a timeout on a busy machine) must not lose the others
            res[t.stem] = {"template": t.name, "error": f"{type(e).__name__}: {e}"}
    return {"model": paths.demo_llm_model().name, "families": res}


def format_families(sec: dict | None) -> list[str]:
    """The section's lines for the text report."""
    if not sec:
        return []
    out = ["", f"Model families (the demo model {sec.get('model')} with each family's chat template)",
           f"  {'template':<44} {'route ms':>8} {'label tok':>9} {'prompt tok':>10} {'1st token ms':>12}  think/tools"]
    for name, r in (sec.get("families") or {}).items():
        if r.get("error"):
            out.append(f"  {name:<44} error: {r['error']}")
            continue
        flags = f"{'think' if r.get('thinking_template') else '-'}/{'native' if r.get('native_tools') else 'schema'}"
        out.append(f"  {name:<44} {r.get('route_ms_median', '?'):>8} {r.get('router_predicted_n', '?'):>9} "
                   f"{r.get('router_prompt_n', '?'):>10} {str(r.get('first_token_ms_median', '?')):>12}  {flags}")
    return out
