"""bench section `turns`: whole typed and voice turns in three configurations — single (the
design's "before": JSON route on heavy, everything on heavy), dual (the design's "after": JSON route
on light, answer on heavy), bestbox (the shipped Router + Assistant)."""
from __future__ import annotations

import asyncio

from ..stats import summary
from ..trace import TurnTrace, now_ms
from . import utterances as U
from .context import Ctx, rot
from .loop_lag import LoopLag
from .tool_rounds import capped_on_random_weights
from .turn_analysis import analyse, summarise_turns

CONFIGS = ("single", "dual", "bestbox")
CONFIG_LABELS = {
    "single": "single (route+answer on heavy)",
    "dual": "dual (JSON route on light)",
    "bestbox": "BestBox (as shipped)",
}


async def bench_turns(ctx: Ctx) -> dict:
    out: dict = {"configs": CONFIG_LABELS, "answer_tokens_cap": ctx.opt.answer_tokens}
    with capped_on_random_weights(ctx.cfg, ctx.opt, ctx.assistants, out, ctx.rec):
        return await _bench_turns(ctx, out)


async def _bench_turns(ctx: Ctx, out: dict) -> dict:
    typed = {c: [] for c in CONFIGS}
    reps = max(1, ctx.opt.repeats)
    # Each question is asked by the three configurations back to back, in an order that rotates,
    # so a burst of load from elsewhere hits them alike.
    for r in range(reps):
        for i, u in enumerate(ctx.sel["typed"]):
            for c in rot(CONFIGS, r + i):
                typed[c].append(await _typed_turn(ctx, c, u))
        ctx.opt.log(f"  typed turns: repeat {r + 1}/{reps}")
    out["typed"] = summarise_turns(typed, voice=False)
    out["typed_samples"] = typed
    voice = {c: [] for c in CONFIGS}
    await ctx.transcriber_ready()
    vreps = max(1, reps - 1) if not ctx.opt.quick else 1
    first = next((u for u in ctx.sel["voice"] if u.key in ctx.wavs), None)
    if first is not None and not ctx.opt.quick:
        # Not counted: the first voice turn pays one-off costs that later ones reuse (on the H200
        # the first turn waited 14.8 s for Whisper's first use of CUDA, the second 25 ms).
        warm = await _voice_turn(ctx, CONFIGS[0], first)
        out["voice_warmup"] = {"config": CONFIGS[0], "text": first.text, "asr_ms": warm.get("asr_ms"),
                               "error": warm.get("error")}
    for r in range(vreps):
        for i, u in enumerate(ctx.sel["voice"]):
            if u.key not in ctx.wavs:
                continue
            for c in rot(CONFIGS, r + i):
                voice[c].append(await _voice_turn(ctx, c, u))
        ctx.opt.log(f"  voice turns: repeat {r + 1}/{vreps}")
    out["voice"] = summarise_turns(voice, voice=True)
    out["voice_samples"] = voice
    try:
        out["overhead_parts_ms"] = await _overhead_parts(ctx)
    except Exception as e:  # informative only
        out["overhead_parts_ms"] = {"error": f"{type(e).__name__}: {e}"}
    return out


async def _typed_turn(ctx: Ctx, config: str, u: U.Utterance) -> dict:
    from ..pipeline.assistant import run_text_turn

    ctx.rec.reset()
    events: list[tuple[float, str]] = []
    trace = TurnTrace()

    def on_event(ev) -> None:
        if ev.kind in ("tool_call", "tool_result"):
            events.append((now_ms() - trace.t0_ms, ev.kind))

    res = await run_text_turn(u.text, config=ctx.cfg, trace=trace, assistant=ctx.assistants[config],
                              on_event=on_event, auto_confirm=False)
    calls = ctx.rec.reset()
    s = analyse(trace, calls, events)
    route = res.get("route") or {}
    s.update(text=u.text, agent=route.get("agent"), decided_by=route.get("decided_by"), model=res.get("model"),
             model_said=(route.get("detail") or {}).get("model_said"), error=res.get("error"),
             tool_calls=len(res.get("tool_calls") or []))
    return s


async def _voice_turn(ctx: Ctx, config: str, u: U.Utterance) -> dict:
    from ..pipeline.answerer import PipelineAnswerer
    from ..speech.voice_turn import VoiceSession

    ctx.rec.reset()
    events: list[tuple[float, str]] = []
    holder: dict = {}

    class Answerer(PipelineAnswerer):  # keeps the turn's trace for the analysis
        async def answer(self, text, *, trace, meta):
            holder["trace"] = trace
            return await super().answer(text, trace=trace, meta=meta)

    def on_event(ev) -> None:
        if ev.kind in ("tool_call", "tool_result") and "trace" in holder:
            events.append((now_ms() - holder["trace"].t0_ms, ev.kind))

    cleanup_client = ctx.rec.client("heavy") if config == "single" else None
    session = VoiceSession(ctx.cfg, transcriber=ctx.transcriber, glossary=ctx.glossary, endpoints=ctx.rec,
                           answerer=Answerer(ctx.assistants[config], on_event=on_event),
                           cleanup_client=cleanup_client)
    lag = LoopLag().start()
    try:
        res = await session.run_file(str(ctx.wavs[u.key]), realtime=True)
    finally:
        lag.stop()
    calls = ctx.rec.reset()
    trace = holder.get("trace")
    if trace is None:
        return {"text": u.text, "error": res.get("error") or "no answer started"}
    t = res.get("timings") or {}
    s = analyse(trace, calls, events, voice={"vad_wait_ms": t.get("vad_wait_ms"),
                                              "cleanup_policy": res.get("cleanup_policy")})
    route = res.get("route") or {}
    s.update(text=u.text, transcript=res.get("transcript_raw"), answered_text=res.get("answered_text"),
             cleanup_policy=res.get("cleanup_policy"), speculation_reused=t.get("speculation_reused"),
             asr_ms=t.get("asr_ms"), vad_wait_ms=t.get("vad_wait_ms"), agent=route.get("agent"),
             route_speculative="speculative" in (route.get("detail") or {}),
             tool_calls=len(res.get("tool_calls") or []), tool_choice_ahead=t.get("tool_choice_ahead"),
             model=res.get("model"), error=res.get("error"), loop_lag=lag.summary(trace.t0_ms))
    return s


async def _overhead_parts(ctx: Ctx) -> dict:
    """Pieces of a turn's app time, timed alone (what the app does per turn besides the servers)."""
    from ..agents.loop import probe_tools_mode

    heavy = ctx.mgr.client("heavy")
    a = ctx.assistants["bestbox"]
    probe, hist, rec = [], [], []
    for i in range(5):
        t = now_ms()
        await probe_tools_mode(heavy.base_url, heavy.api_key)
        probe.append(now_ms() - t)
        t = now_ms()
        conv = a.history.ensure(None, "overhead probe")
        a.history.add_message(conv, "user", "overhead probe", turn_id=f"oh{i}")
        mid = a.history.add_message(conv, "assistant", "", turn_id=f"oh{i}", partial=True)
        a.history.update_message(mid, text="done", meta={"x": 1}, partial=False)
        hist.append(now_ms() - t)
        d = await a.router.route("overhead probe", mode="fast")
        t = now_ms()
        a.router.store.record(f"oh{i}", "overhead probe", d) if a.router.store else None
        rec.append(now_ms() - t)
    silero = []
    if ctx.wavs:
        from ..audio.vad import silero_speech_ms
        from ..audio.wavfile import read_audio

        audio = read_audio(next(iter(ctx.wavs.values()))).audio
        loop = asyncio.get_running_loop()
        for _ in range(3):
            t = now_ms()
            await loop.run_in_executor(None, silero_speech_ms, audio)
            silero.append(now_ms() - t)
    return {"tools-mode probe (remembered per server)": summary(probe)["median"],
            "Silero speech check (voice turns, after close)": summary(silero)["median"],
            "history writes (3 per turn)": summary(hist)["median"],
            "routing decision log write": summary(rec)["median"]}
