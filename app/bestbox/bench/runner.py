"""`bestbox bench`: every measurement, against the configured servers, in one run.

Sections (each a module `bench/<section>.py` with `async def bench_<section>(ctx) -> dict`, listed
in SECTION_FUNCS below; a section that fails records its error and the others still run):
- router:  one decision per method — fast path, BestBox's hybrid router, the grammar label on light
           and on heavy, the design's JSON-schema decision on light and on heavy;
- calibration: the fast path's calibration (ECE, reliability, threshold) and the whole router on the
           spoken held-out set; needs no server when it is the only section (`bench/calibration.py`);
- asr:     Whisper latency and real-time factor per utterance length (~1, 3, 5, 10 s);
- cleanup: cleanup latency, and transcript → first answer token with cleanup off, after the answer
           (confident transcript) and before the answer (unsure transcript);
- turns:   whole typed and voice turns in three configurations — single (the design's "before":
           JSON route on heavy, everything on heavy), dual (the design's "after": JSON route on
           light, answer on heavy), bestbox (the shipped Router + Assistant);
- ui:      event-loop stalls during a streamed answer and a voice turn, launch → window shown, and
           the app's resident memory (a subprocess: `bench/ui_probe.py`);
- servers: decode / prompt speed and build facts (the GPU engineer's `server_bench` functions).

Fairness on a noisy machine: all configurations run in this one process, interleaved — each repeat
runs every method / configuration once, in a rotated order — so drift hits them alike. Answers are
capped at the same number of tokens for every configuration, and single and dual answer with the
agent a person would pick (their router's own label is recorded; a tiny model's misroute would
otherwise change the work, not the speed).
"""
from __future__ import annotations

import asyncio
import json
import os
import platform
import time
import traceback
from pathlib import Path

from . import (asr, calibration, cleanup, families, hearing, load, records, retrieval, router, servers, speak,
               supervision, team, turn_end, turns, ui, wake)
from . import utterances as U
from .context import Ctx, Options
from .recording import RecordingEndpoints

# One line per section, in the order they run. A new section: a module with bench_<name>(ctx) and
# a line here (and, to show it in the terminal table, a formatter in report.SECTION_LINES).
SECTION_FUNCS = {
    "servers": servers.bench_servers,
    "router": router.bench_router,
    "calibration": calibration.bench_calibration,
    "asr": asr.bench_asr,
    "cleanup": cleanup.bench_cleanup,
    "turns": turns.bench_turns,
    "ui": ui.bench_ui,
    "speak": speak.bench_speak,
    "supervision": supervision.bench_supervision,
    "load": load.bench_load,
    "team": team.bench_team,
    "retrieval": retrieval.bench_retrieval,
    "records": records.bench_records,
    "families": families.bench_families,
    "turn_end": turn_end.bench_turn_end,
    "hearing": hearing.bench_hearing,
    "wake": wake.bench_wake,
}
# Run only when named in --only (concurrent turns; a throw-away server and N clients; one throw-away
# server per model family: minutes on a CPU).
# retrieval: a generated corpus of 5,000 files / 500 MB (--quick: 500 / 50 MB) indexed and searched.
# speak: two engines' loads and whole spoken turns (minutes here); wake: an hour of generated speech.
OPT_IN = {"load", "team", "retrieval", "records", "families", "turn_end", "hearing", "speak", "wake"}

NOTE = ("Small-model CPU numbers: SmolLM2-135M as both light and heavy model and Whisper tiny.en on this "
        "machine's CPU cores. Ratios between configurations mean more than absolute times; GPU numbers with "
        "7B/14B-shaped models are in the GPU section of docs/benchmarks.md.")
REAL_SIZE_NOTE = ("Models of the real sizes (7B/14B-shaped; random weights time like trained ones, but their "
                  "answers are noise and bench/tool_rounds.py says how their tool calls are timed).")


def _machine() -> dict:
    cpu = platform.processor() or ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        import psutil

        mem_gb = round(psutil.virtual_memory().total / 2**30, 1)
    except Exception:
        mem_gb = None
    return {"cpu": cpu, "cores": os.cpu_count(), "memory_gb": mem_gb, "os": platform.platform(),
            "python": platform.python_version(), "gpu": _gpu()}


def _gpu() -> str | None:
    """The card's name and memory, as nvidia-smi reports them (None without an NVIDIA GPU)."""
    import shutil
    import subprocess

    if shutil.which("nvidia-smi") is None:
        return None
    try:
        out = subprocess.run(["nvidia-smi", "--query-gpu=name,memory.total,driver_version", "--format=csv,noheader"],
                             capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return out.splitlines()[0] if out else None


async def run_bench(cfg, mgr, opt: Options, *, config_path: Path | None = None) -> dict:
    """Every section in opt.sections, in SECTION_FUNCS order, into one result document."""
    from .. import __version__

    opt.out_dir.mkdir(parents=True, exist_ok=True)
    t_start = time.time()
    res: dict = {"meta": {"date": time.strftime("%Y-%m-%d %H:%M"), "bestbox": __version__, "machine": _machine(),
                          "load_avg_start": [round(x, 2) for x in os.getloadavg()], "quick": opt.quick,
                          "repeats": opt.repeats, "answer_tokens": opt.answer_tokens, "note": NOTE,
                          "tool_call_tokens": opt.tool_call_tokens},
                 "errors": {}}
    for name in ("light", "heavy"):
        if mgr.client(name) is None:
            raise RuntimeError(f"the {name} server is not running; `bestbox bench` needs both "
                               f"({mgr.snapshot(name).message})")
    if opt.tool_call_tokens == "auto":
        from .llama_http import Endpoint
        from .tool_rounds import call_tokens_of_examples

        heavy = mgr.snapshot("heavy")
        opt.tool_call_tokens, res["meta"]["tool_call_tokens_auto"] = await call_tokens_of_examples(
            Endpoint("heavy", heavy.base_url, cfg.llama.api_key))
        res["meta"]["tool_call_tokens"] = opt.tool_call_tokens
        opt.log(f"tool calls timed as {opt.tool_call_tokens} tokens (the app's example calls, median + 1)")
    ctx = Ctx(cfg, mgr, opt, config_path=config_path, sel=U.selection(opt.quick))
    try:
        await _prepare(ctx, res)
        for name, fn in SECTION_FUNCS.items():
            wanted = name in opt.sections if opt.sections is not None else name not in OPT_IN
            if wanted and not (name == "ui" and not opt.ui):
                await _run_section(ctx, res, name, fn)
    finally:
        for f in ctx.closers:
            try:
                f()
            except Exception:
                pass
        if ctx.transcriber is not None:
            ctx.transcriber.close()
    res["meta"]["duration_s"] = round(time.time() - t_start, 1)
    res["meta"]["load_avg_end"] = [round(x, 2) for x in os.getloadavg()]
    res["meta"]["models"] = {
        n: (res.get("servers", {}).get(n, {}).get("model_name") or mgr.snapshot(n).model_name) for n in ("light", "heavy")}
    wname = getattr(ctx.transcriber, "model_name", "")
    res["meta"]["models"]["whisper"] = "tiny.en (bundled)" if wname in ("", "model") else wname
    # Whether the GPU targets can be judged (report._gpu_checked): not on the CPU demo model.
    res["meta"]["demo_model"] = any(_runs_demo_model(mgr.snapshot(n)) for n in ("light", "heavy"))
    if not res["meta"]["demo_model"]:
        res["meta"]["note"] = REAL_SIZE_NOTE
    return res


def _runs_demo_model(snap) -> bool:
    """The bundled demo model, whether the config names it or fell back to it (a missing GGUF)."""
    from ..paths import demo_llm_model

    if getattr(snap, "using_demo_model", False):
        return True
    demo = demo_llm_model()
    try:
        return bool(demo and snap.model_path) and Path(snap.model_path).resolve() == demo.resolve()
    except OSError:
        return False


async def _prepare(ctx: Ctx, res: dict) -> None:
    """What the sections share: recording endpoints, Whisper (loading in the background), the
    glossary, the spoken clips, and one Assistant per configuration over one history."""
    from ..agents.data import ensure_database
    from ..pipeline.assistant import Assistant
    from ..pipeline.history import History
    from ..routing.corrections import CorrectionStore
    from ..routing.router import Router
    from ..speech.glossary import Glossary
    from ..speech.transcriber import Transcriber
    from .structured_router import StructuredRouter

    cfg, opt = ctx.cfg, ctx.opt
    ctx.rec = RecordingEndpoints(ctx.mgr, answer_cap=opt.answer_tokens, call_cap=opt.tool_call_tokens)
    ctx.transcriber = Transcriber(cfg)
    ctx.transcriber.load_async()
    # The glossary reads the company names from the demo database: make sure it exists first, as
    # the app's start-up does, or a fresh data dir benchmarks the built-in terms only.
    try:
        await asyncio.get_running_loop().run_in_executor(None, ensure_database, cfg)
    except (OSError, FileNotFoundError) as e:
        res["errors"]["database"] = str(e)
    ctx.glossary = Glossary.from_config(cfg)
    wav_utts = list(ctx.sel["voice"]) + list(ctx.sel["asr"].values())
    try:
        ctx.wavs = U.make_wavs(opt.out_dir, wav_utts)
    except U.EspeakMissing as e:
        res["errors"]["wav"] = str(e)
    pin = {u.text: u.agent for u in list(U.TYPED) + list(U.VOICE) + [U.TYPED_WARMUP]}
    history = History(opt.out_dir / "bench-history.sqlite")
    store = CorrectionStore(opt.out_dir / "bench-routing.sqlite")
    ctx.closers += [history.close, store.close]
    ctx.assistants = {
        "single": Assistant(cfg, ctx.rec, history=history, router=StructuredRouter("heavy", pin)),
        "dual": Assistant(cfg, ctx.rec, history=history, router=StructuredRouter("light", pin)),
        "bestbox": Assistant(cfg, ctx.rec, history=history, router=Router(cfg, store)),
    }
    db = await ctx.assistants["bestbox"].database()  # generated once (seconds), shared
    for a in ctx.assistants.values():
        a._db_path = db


async def _run_section(ctx: Ctx, res: dict, name: str, fn) -> None:
    """One section into res[name]; its failure is recorded and the run goes on."""
    if name == "asr" and not ctx.wavs:
        res["errors"][name] = "no spoken clips (espeak-ng missing)"
        return
    t = time.time()
    ctx.opt.log(f"{name} ...")
    try:
        res[name] = await fn(ctx)
    except Exception as e:  # one broken section must not lose the others
        res["errors"][name] = f"{type(e).__name__}: {e}"
        res.setdefault("tracebacks", {})[name] = traceback.format_exc()[-3000:]
        ctx.opt.log(f"  {name} failed: {type(e).__name__}: {e}")
    res.setdefault("section_s", {})[name] = round(time.time() - t, 1)
    # Keep what is measured so far: a run cut off by a time limit (the GPU machine's calls) still
    # leaves every finished section behind.
    try:
        (ctx.opt.out_dir / "bench.partial.json").write_text(json.dumps(res, indent=1, default=str))
    except OSError:
        pass
