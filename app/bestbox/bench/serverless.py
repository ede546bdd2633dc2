"""`bestbox bench --only records,retrieval`: sections that need no model server run without
starting one (the same result document and report as a full run)."""
from __future__ import annotations

import os
import time


async def run_serverless(cfg, opt) -> dict:
    from .context import Ctx
    from .runner import SECTION_FUNCS, _machine, _run_section

    res: dict = {"meta": {"date": time.strftime("%Y-%m-%d %H:%M"), "machine": _machine(),
                          "models": {"light": "none (no server started)", "heavy": "none", "whisper": "-"},
                          "load_avg_start": [round(x, 2) for x in os.getloadavg()], "quick": opt.quick,
                          "note": f"{', '.join(opt.sections)} only: no model servers"}, "errors": {}}
    opt.out_dir.mkdir(parents=True, exist_ok=True)
    ctx = Ctx(cfg, None, opt)
    for name, fn in SECTION_FUNCS.items():
        if name in opt.sections:
            await _run_section(ctx, res, name, fn)
    res["meta"]["load_avg_end"] = [round(x, 2) for x in os.getloadavg()]
    return res
