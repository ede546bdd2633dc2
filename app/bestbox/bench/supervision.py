"""How fast supervision reacts: a real llama-server (the bundled demo model, on a free port, so the
user's two servers are left alone) started, SIGKILLed and brought back by the app's Supervisor.

Reported per repeat: start → ready (health 200 and a one-token completion), kill → crashed (the
issue's "crash detected within 2 s"), and crashed → ready again (backoff + restart + load)."""
from __future__ import annotations

import asyncio
import os
import signal
import socket
import tempfile
import time
from pathlib import Path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


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


if __name__ == "__main__":  # python -m bestbox.bench.supervision
    import json

    from .. import config as config_mod

    print(json.dumps(asyncio.run(measure_supervision(config_mod.load().config)), indent=2))
