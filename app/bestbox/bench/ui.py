"""bench section `ui`: the window in a subprocess (`bench/ui_probe.py`, offscreen Qt): event-loop
stalls during a streamed answer and a voice turn, launch → window shown, resident memory."""
from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys

from .context import Ctx


async def bench_ui(ctx: Ctx) -> dict:
    """The window in a subprocess (offscreen Qt): stalls during a streamed answer and a voice turn,
    launch → window shown, resident memory."""
    out_json = ctx.opt.out_dir / "ui_probe.json"
    wav = ctx.wavs.get(ctx.sel["voice"][0].key) if ctx.sel["voice"] else None
    cmd = [sys.executable, "-m", "bestbox.bench.ui_probe", "--out", str(out_json),
           "--launches", "1" if ctx.opt.quick else "3", "--answer-tokens", str(ctx.opt.answer_tokens)]
    if wav:
        cmd += ["--wav", str(wav)]
    env = dict(os.environ)
    env.setdefault("QT_QPA_PLATFORM", "offscreen")
    env["BESTBOX_CONFIG"] = str(ctx.config_path) if ctx.config_path else env.get("BESTBOX_CONFIG", "")
    if not env["BESTBOX_CONFIG"]:
        env.pop("BESTBOX_CONFIG")
    loop = asyncio.get_running_loop()
    proc = await loop.run_in_executor(None, lambda: subprocess.run(cmd, env=env, capture_output=True, text=True,
                                                                    timeout=600))
    if not out_json.exists():
        raise RuntimeError(f"ui probe failed (exit {proc.returncode}): {(proc.stderr or proc.stdout)[-1500:]}")
    res = json.loads(out_json.read_text())
    if proc.returncode != 0:
        res.setdefault("errors", []).append(f"exit {proc.returncode}: {(proc.stderr or '')[-800:]}")
    return res
