"""How fast supervision reacts: a real llama-server (the bundled demo model, on a free port, so the
user's two servers are left alone) started, SIGKILLed and brought back by the app's Supervisor.

Reported per repeat: start → ready (health 200 and a one-token completion), kill → crashed (the
issue's "crash detected within 2 s"), and crashed → ready again (backoff + restart + load).
The `supervision` section of `bestbox bench`."""
from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import tempfile
import time
from pathlib import Path

from .context import Ctx


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.asynccontextmanager
async def throwaway_server(cfg, tier: str, *, parallel: int | None = None, api_key: str | None = None,
                           model: str | None = None, ctx_size: int | None = None, log=lambda m: None):
    """A third llama-server with `tier`'s settings on a free port, started by the app's own
    Supervisor (same command line, same readiness check) and stopped on exit; yields its base URL
    (without /v1). The user's two servers are left alone."""
    from ..servers import ServerState as S
    from ..servers import Supervisor

    base = cfg.server(tier)
    n = parallel or base.parallel
    scfg = base.model_copy(update={"port": _free_port(), "command": [], "parallel": n,
                                   "ctx_size": ctx_size or base.ctx_size * n,
                                   **({"model": model} if model else {})})
    key = api_key if api_key is not None else cfg.llama.api_key
    with tempfile.TemporaryDirectory(prefix="bestbox-bench-") as td:
        sup = Supervisor(f"bench-{tier}", scfg, api_key=key, server_binary=cfg.llama.server_binary,
                         state_dir=Path(td))
        try:
            snap = await sup.start()
            if snap.state is not S.READY:
                raise RuntimeError(f"throw-away {tier} server did not start: {snap.message}")
            log(f"  throw-away {tier} server on port {scfg.port} (parallel {n})")
            yield f"http://{scfg.host}:{scfg.port}"
        finally:
            await sup.stop()
            await sup.close()


async def measure_supervision(cfg, *, repeats: int = 3, log=lambda m: None) -> dict:
    from .. import paths
    from ..servers import ServerState as S
    from ..servers import Supervisor

    demo = paths.demo_llm_model()
    if demo is None:
        raise RuntimeError("the bundled demo model is not installed (the `demo` extra)")
    # The small model keeps this about supervision, not about loading 7B weights a third time.
    scfg = cfg.server("light").model_copy(update={"port": _free_port(), "model": str(demo), "command": [],
                                                   "ctx_size": 512, "parallel": 1, "n_gpu_layers": 0,
                                                   "max_restarts": repeats + 1})
    out: dict = {"model": demo.name, "start_to_ready_ms": [], "kill_to_crashed_ms": [],
                 "crashed_to_ready_ms": [], "restart_backoff_s": None}
    with tempfile.TemporaryDirectory(prefix="bestbox-bench-sup-") as td:
        sup = Supervisor("bench", scfg, api_key=cfg.llama.api_key, server_binary=cfg.llama.server_binary,
                         state_dir=Path(td))
        out["restart_backoff_s"] = sup.backoff_s
        try:
            t = time.perf_counter()
            snap = await sup.start()
            if snap.state is not S.READY:
                raise RuntimeError(f"demo server did not start: {snap.message}")
            out["start_to_ready_ms"].append(round((time.perf_counter() - t) * 1000, 1))
            for i in range(repeats):
                pid = sup.snapshot().pid
                t = time.perf_counter()
                os.kill(pid, signal.SIGKILL)
                await sup.wait_for(lambda s: s.state is S.CRASHED, timeout=30)
                t_crash = time.perf_counter()
                out["kill_to_crashed_ms"].append(round((t_crash - t) * 1000, 1))
                await sup.wait_for(lambda s: s.state is S.READY, timeout=120)
                out["crashed_to_ready_ms"].append(round((time.perf_counter() - t_crash) * 1000, 1))
                log(f"  kill {i + 1}: detected in {out['kill_to_crashed_ms'][-1]:.0f} ms")
        finally:
            await sup.stop()
            await sup.close()
    return out


async def bench_supervision(ctx: Ctx) -> dict:
    """A third, throw-away server (demo model, free port): start, SIGKILL, detection, restart."""
    return await measure_supervision(ctx.cfg, repeats=1 if ctx.opt.quick else 3, log=ctx.opt.log)


if __name__ == "__main__":  # python -m bestbox.bench.supervision
    import json

    from .. import config as config_mod

    print(json.dumps(asyncio.run(measure_supervision(config_mod.load().config)), indent=2))
