"""bench section `speak`: spoken replies on this machine.

- per engine (Piper voice, espeak-ng): load time, and time to first audio = a complete first sentence
  handed to the ReplySpeaker → its audio ready for the output (synthesis of that sentence), with the
  real-time factor;
- voice to voice: whole voice turns from spoken clips (real time through the recorder's file source,
  VAD, Whisper, VoiceSession, the shipped pipeline, SpeakingAnswerer/ReplySpeaker) with the configured
  engine: the last voiced sample → the first reply audio, beside the first answer token (the trace's
  first_audio and first_token marks). Reported apart: questions that need no tool (their answer and
  first clause can start in the silence window, `speech.answer_ahead`; each clip runs with it on and
  off back to back, and the paired ratio on/off is the figure that survives a noisy machine) and the
  run's tool questions (shipped configuration only: their answer never starts ahead);
- random-weight models (`--tool-call-tokens`, or a model file named "random"; or
  `BESTBOX_BENCH_TEXT_SHIM=1`): their text has no sentence ends, so the speaker gets a fixed answer
  instead, word by word as the server streams as many tokens (speak/shim.py); the output says
  `text_shim.used` and why.
No output device is opened (a bench box may have none): "first audio" is the moment the first
sentence's samples are ready for the speaker."""
from __future__ import annotations

import time

from ..pipeline.events import TurnEvent
from ..stats import summary
from ..trace import TurnTrace
from ..speak.shim import ANSWER as ShimAnswer
from .context import Ctx, reps, rot
from .tool_rounds import capped_on_random_weights
from .utterances import EspeakMissing, Utterance, make_wavs

FIRST = "Acme Components is the top vendor this quarter, with 412 thousand dollars."


async def bench_speak(ctx: Ctx) -> dict:
    import asyncio

    loop = asyncio.get_running_loop()
    engines = {}
    vo = ctx.cfg.voice_out
    for name in ("piper", "espeak"):
        voice = vo.voice if name == vo.engine else ""  # the configured voice file for its engine
        engines[name] = await loop.run_in_executor(None, _engine_first_audio, name, reps(ctx), voice)
    out = {"sentence": FIRST, "engines": engines}
    try:
        # Tool questions are timed as the turns section times them: on random weights one tool round,
        # each call a plain decode of a real call's length (bench/tool_rounds.py). Without this the
        # 2026-11-30 H200 run's tool questions paid the grammar's cost on random weights (+~450 ms).
        v2v: dict = {}
        with capped_on_random_weights(ctx.cfg, ctx.opt, ctx.assistants, v2v, ctx.rec):
            v2v.update(await _voice_to_voice(ctx))
        out["voice_to_voice"] = v2v
    except Exception as e:  # noqa: BLE001 - the engine numbers still count
        out["voice_to_voice"] = {"error": f"{type(e).__name__}: {e}"}
    return out


def _engine_first_audio(name: str, n: int, voice: str = "") -> dict:
    from ..speak.engines import make_engine
    from ..speak.reply import ReplySpeaker

    t = time.perf_counter()
    engine = make_engine(name, voice)
    load_ms = (time.perf_counter() - t) * 1000
    if engine.name != name:
        return {"error": getattr(engine, "fallback_reason", "engine unavailable")}
    engine.synthesize("Warm up.")
    first, rtf = [], []
    for _ in range(n + 1):
        trace = TurnTrace()
        rs = ReplySpeaker(engine, output=False, trace=trace)
        rs.on_event(TurnEvent("token", {"text": FIRST + " Then"}))  # the sentence is complete here
        deadline = time.monotonic() + 120
        while "first_audio" not in trace.marks and time.monotonic() < deadline:
            time.sleep(0.005)
        rs.stop()
        first.append(trace.marks["first_audio"])
        synth = rs.speaker.state.synth_ms[0]
        rtf.append(synth / 1000 / (rs.audio().size / engine.sample_rate))
    return {"load_ms": round(load_ms, 1), "first_audio_ms": summary(first), "rtf": summary(rtf),
            "sample_rate": engine.sample_rate}


# Spoken questions that need no tool (the agent "general" has none): their answer can start in the
# silence window (pipeline/answer_ahead.py). The tool questions are the run's voice clips (ctx.sel).
NO_TOOL = [Utterance("v_joke", "tell me a short joke about computers", "general"),
           Utterance("v_thanks", "say thank you in french", "general")]
MODES = ("answer_ahead", "no_answer_ahead")   # speech.answer_ahead on (shipped) / off, paired per clip


def shim_reason(ctx: Ctx) -> str | None:
    """Why the speaker gets the fixed answer (speak/shim.py), or None: the servers run random-weight
    models (`--tool-call-tokens` is for them only, docs/benchmarks.md; `bench.gguf_random` files are
    named so), or `BESTBOX_BENCH_TEXT_SHIM=1` asks for it (the CPU check with the demo model, whose
    answers hold no clause end within the token cap either)."""
    import os

    models = [str(getattr(ctx.cfg.server(n), "model", "")) for n in ("heavy", "light")]
    if ctx.opt.tool_call_tokens is not None or any("random" in m.lower() for m in models):
        return "random-weight models"
    if os.environ.get("BESTBOX_BENCH_TEXT_SHIM") == "1":
        return "BESTBOX_BENCH_TEXT_SHIM=1"
    return None


async def _voice_to_voice(ctx: Ctx) -> dict:
    import asyncio

    from ..speak.reply import engine_for

    await ctx.transcriber_ready()
    engine = await asyncio.get_running_loop().run_in_executor(None, engine_for, ctx.cfg.voice_out)
    why = shim_reason(ctx)
    shim = why is not None
    no_tool = NO_TOOL[:1] if ctx.opt.quick else NO_TOOL
    try:
        wavs = {**ctx.wavs, **make_wavs(ctx.opt.out_dir, no_tool)}
    except EspeakMissing:
        wavs = dict(ctx.wavs)
    samples = []
    if no_tool[0].key in wavs:   # warm-up, not counted: the first turn loads what later ones reuse
        await _one_turn(ctx, engine, wavs[no_tool[0].key], no_tool[0], "no_tool", MODES[1], shim, -1)
    for r in range(1 if ctx.opt.quick else max(1, ctx.opt.repeats - 1)):
        for u in rot(no_tool, r):
            for mode in rot(MODES, r):
                if u.key in wavs:
                    samples.append(await _one_turn(ctx, engine, wavs[u.key], u, "no_tool", mode, shim, r))
        for u in rot(ctx.sel["voice"], r)[:1 if ctx.opt.quick else None]:  # --quick: one turn
            if u.key in wavs:   # the answer of a tool question never starts ahead: one mode
                samples.append(await _one_turn(ctx, engine, wavs[u.key], u, "tool", MODES[0], shim, r))
    out = {"engine": engine.name, "turns": len(samples),
           "text_shim": ({"used": True, "answer": ShimAnswer,
                          "why": f"{why}: the speaker got this fixed answer, word by word as the server "
                                 "streamed as many tokens (speak/shim.py); every voice_to_voice and first "
                                 "audio figure here comes from it, first_token_ms does not"}
                         if shim else {"used": False})}
    for kind in ("no_tool", "tool"):
        group = {}
        for mode in MODES:
            ok = [s for s in samples if s["kind"] == kind and s["mode"] == mode and s["first_audio_ms"] is not None]
            if ok:
                group[mode] = {"voice_to_voice_ms": summary([s["first_audio_ms"] for s in ok]),
                               "close_to_first_audio_ms": summary([s["close_to_first_audio_ms"] for s in ok
                                                                   if s["close_to_first_audio_ms"] is not None]),
                               "first_token_ms": summary([s["first_token_ms"] for s in ok
                                                          if s["first_token_ms"] is not None]),
                               "taken_ahead": sum(1 for s in ok if s["answer_ahead"] == "taken"), "turns": len(ok)}
        if kind == "no_tool":
            group["paired_ratio"] = _paired(samples)
        out[kind] = group
    shipped = [s["first_audio_ms"] for s in samples if s["mode"] == MODES[0] and s["first_audio_ms"] is not None]
    out["voice_to_voice_ms"] = summary(shipped)   # every question, the shipped configuration
    out["samples"] = samples
    return out


def _minus(a, b):
    return None if a is None or b is None else round(a - b, 1)


def _paired(samples: list[dict]) -> dict | None:
    """answer_ahead / no_answer_ahead, per clip and repeat (the two ran back to back): voice to voice,
    and close of recording → first audio (the part the window does not fix)."""
    out = {}
    for field in ("first_audio_ms", "close_to_first_audio_ms"):
        by: dict = {}
        for s in samples:
            if s["kind"] == "no_tool" and s[field] is not None:
                by.setdefault((s["key"], s["rep"]), {})[s["mode"]] = s[field]
        ratios = [p[MODES[0]] / p[MODES[1]] for p in by.values() if len(p) == 2 and p[MODES[1]] > 0]
        if ratios:
            out["ahead_over_plain" if field == "first_audio_ms" else "close_ahead_over_plain"] = summary(ratios)
            out["pairs"] = len(ratios)
    return out or None


async def _one_turn(ctx: Ctx, engine, wav, u, kind: str, mode: str, shim: bool, rep: int) -> dict:
    from ..pipeline.answerer import PipelineAnswerer
    from ..speak.shim import TextShim
    from ..speak.voice_reply import SpeakingAnswerer
    from ..speech.voice_turn import VoiceSession

    assistant = ctx.assistants["bestbox"]
    saved = assistant.config
    assistant.config = saved.model_copy(update={"speech": saved.speech.model_copy(
        update={"answer_ahead": mode == MODES[0]})})
    ans = SpeakingAnswerer(PipelineAnswerer(assistant, auto_confirm=False), engine, output=False,
                           text_shim=TextShim if shim else None)
    try:
        session = VoiceSession(ctx.cfg, transcriber=ctx.transcriber, glossary=ctx.glossary, endpoints=ctx.rec,
                               answerer=ans)
        res = await session.run_file(str(wav), realtime=True)
        res = await ans.finish(res, None)
    finally:
        ans.detach()
        assistant.config = saved
        ctx.rec.reset()
    t = res.get("timings") or {}
    return {"key": u.key, "text": u.text, "kind": kind, "mode": mode, "rep": rep,
            "first_token_ms": t.get("speech_end_to_first_token_ms"), "first_audio_ms": t.get("first_audio_ms"),
            "close_ms": t.get("vad_wait_ms"), "close_to_first_audio_ms": _minus(t.get("first_audio_ms"),
                                                                               t.get("vad_wait_ms")),
            "answer_ahead_started_ms": t.get("answer_ahead_started_ms"),
            "answer_ahead": t.get("answer_ahead"), "answer_ahead_dropped": t.get("answer_ahead_dropped"),
            "premade_first_clause": bool(ans.reply and ans.reply.speaker.state.premade_first),
            "spoken": (res.get("spoken") or "")[:80], "answer": (res.get("answer") or "")[:80],
            "agent": (res.get("route") or {}).get("agent"), "error": res.get("error")}


def speak_lines(res: dict, add) -> None:
    """The terminal report's block for this section."""
    s = res.get("speak") or {}
    if not s:
        return
    def med(d, nd=0) -> str:
        v = None if not d else d.get("median")
        return "—" if v is None else f"{v:.{nd}f}"

    add("")
    add("Spoken replies (first sentence ready for the speaker)")
    for name, e in (s.get("engines") or {}).items():
        if e.get("error"):
            add(f"  {name:<7} {e['error']}")
        else:
            add(f"  {name:<7} load {e['load_ms']:.0f} ms · first audio {med(e['first_audio_ms'])} ms · "
                f"RTF {med(e['rtf'], 2)}")
    v = s.get("voice_to_voice") or {}
    if v.get("error"):
        add(f"  voice to voice: {v['error']}")
    elif v:
        shim = " · text shim (random weights): the speaker got a fixed answer paced by the tokens" \
            if (v.get("text_shim") or {}).get("used") else ""
        add(f"  voice to voice ({v['engine']}, {v['turns']} turns; last voiced sample → first audio){shim}")
        for kind, title in (("no_tool", "no-tool questions"), ("tool", "tool questions")):
            for mode, g in (v.get(kind) or {}).items():
                if mode == "paired_ratio" or not g:
                    continue
                add(f"    {title:<18} {mode:<16} {med(g['voice_to_voice_ms'])} ms, close → first audio "
                    f"{med(g.get('close_to_first_audio_ms'))} ms (first token {med(g['first_token_ms'])} ms; "
                    f"taken ahead {g['taken_ahead']}/{g['turns']})")
            pr = (v.get(kind) or {}).get("paired_ratio")
            if pr:
                add(f"    {title:<18} answer_ahead / no_answer_ahead, paired: {med(pr.get('ahead_over_plain'), 2)} "
                    f"(close → first audio {med(pr.get('close_ahead_over_plain'), 2)}; {pr['pairs']} pairs)")
