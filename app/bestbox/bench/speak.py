"""bench section `speak`: spoken replies on this machine.

- per engine (Piper voice, espeak-ng): load time, and time to first audio = a complete first sentence
  handed to the ReplySpeaker → its audio ready for the output (synthesis of that sentence), with the
  real-time factor;
- voice to voice: whole voice turns from the spoken clips (real time, VAD, Whisper, the shipped
  pipeline) with the configured engine: the last voiced sample → the first reply audio, beside the
  first answer token (the trace's first_audio and first_token marks).
No output device is opened (a bench box may have none): "first audio" is the moment the first
sentence's samples are ready for the speaker."""
from __future__ import annotations

import time

from ..pipeline.events import TurnEvent
from ..stats import summary
from ..trace import TurnTrace
from .context import Ctx, reps, rot

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
        out["voice_to_voice"] = await _voice_to_voice(ctx)
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


async def _voice_to_voice(ctx: Ctx) -> dict:
    import asyncio

    from ..pipeline.answerer import PipelineAnswerer
    from ..speak.reply import engine_for
    from ..speak.voice_reply import SpeakingAnswerer
    from ..speech.voice_turn import VoiceSession

    await ctx.transcriber_ready()
    engine = await asyncio.get_running_loop().run_in_executor(None, engine_for, ctx.cfg.voice_out)
    samples = []
    for r in range(1 if ctx.opt.quick else max(1, ctx.opt.repeats - 1)):
        for u in rot(ctx.sel["voice"], r)[:2 if ctx.opt.quick else None]:  # --quick: two turns
            if u.key not in ctx.wavs:
                continue
            ans = SpeakingAnswerer(PipelineAnswerer(ctx.assistants["bestbox"], auto_confirm=False), engine, output=False)
            session = VoiceSession(ctx.cfg, transcriber=ctx.transcriber, glossary=ctx.glossary, endpoints=ctx.rec,
                                   answerer=ans)
            res = await session.run_file(str(ctx.wavs[u.key]), realtime=True)
            res = await ans.finish(res, None)
            t = res.get("timings") or {}
            samples.append({"text": u.text, "first_token_ms": t.get("speech_end_to_first_token_ms"),
                            "first_audio_ms": t.get("first_audio_ms"), "answer": (res.get("answer") or "")[:80],
                            "error": res.get("error")})
            ctx.rec.reset()
    ok = [s for s in samples if s["first_audio_ms"] is not None]
    return {"engine": engine.name, "turns": len(samples),
            "voice_to_voice_ms": summary([s["first_audio_ms"] for s in ok]),
            "first_token_ms": summary([s["first_token_ms"] for s in ok if s["first_token_ms"] is not None]),
            "samples": samples}


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
        add(f"  voice to voice ({v['engine']}, {v['turns']} turns): last voiced sample → first audio "
            f"{med(v['voice_to_voice_ms'])} ms (first token {med(v['first_token_ms'])} ms)")
