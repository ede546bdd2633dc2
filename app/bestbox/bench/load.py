"""`bestbox bench --only load`: what concurrent work costs a turn, on the servers as configured.

Two measurements, each against a baseline taken in the same run, interleaved by repeat:
- **turns at once**: two voice turns and a typed turn started together (the light server has two
  slots; heavy has one), each turn's first token against the same turn alone;
- **Whisper beside a streamed answer**: a transcription while the heavy server streams a long
  answer, against each alone — Whisper's time and the answer's decode speed (tokens/s from the
  server's own `timings`).

Voice turns run the app's real path (`VoiceSession.run_file(realtime=True)`: the recorder, VAD,
speculation, Router, Assistant) with the shipped router; nothing is pinned.
"""
from __future__ import annotations

import asyncio
import statistics

from ..trace import TurnTrace, now_ms

LONG_ANSWER_TOKENS = 160


def _median(xs):
    xs = [x for x in xs if x is not None]
    return round(statistics.median(xs), 1) if xs else None


def _ratio(a, b):
    return round(a / b, 2) if a and b else None


async def _typed(ctx, u) -> dict:
    from ..pipeline.assistant import run_text_turn

    trace = TurnTrace()
    res = await run_text_turn(u.text, config=ctx.cfg, trace=trace, assistant=ctx.assistants["bestbox"],
                              endpoints=ctx.mgr, auto_confirm=False)
    return {"kind": "typed", "key": u.key, "first_token_ms": trace.marks.get("first_token"),
            "first_output_ms": trace.marks.get("first_output"), "error": res.get("error")}


async def _voice(ctx, u) -> dict:
    from ..pipeline.answerer import PipelineAnswerer
    from ..speech.voice_turn import VoiceSession

    # Not through the recording endpoints: their call log is one per run, and these turns overlap.
    session = VoiceSession(ctx.cfg, transcriber=ctx.transcriber, glossary=ctx.glossary, endpoints=ctx.mgr,
                           answerer=PipelineAnswerer(ctx.assistants["bestbox"], auto_confirm=False))
    res = await session.run_file(str(ctx.wavs[u.key]), realtime=True)
    t = res.get("timings") or {}
    return {"kind": "voice", "key": u.key, "first_token_ms": t.get("speech_end_to_first_token_ms"),
            "asr_ms": t.get("asr_ms"), "error": res.get("error")}


async def _turns_at_once(ctx, reps: int) -> dict:
    voice_us = [u for u in ctx.sel["voice"] if u.key in ctx.wavs][:2]
    typed_u = ctx.sel["typed"][0]
    alone: dict[str, list] = {"voice": [], "typed": []}
    together: dict[str, list] = {"voice": [], "typed": []}
    for r in range(reps):
        for u in voice_us:
            alone["voice"].append((await _voice(ctx, u))["first_token_ms"])
        alone["typed"].append((await _typed(ctx, typed_u))["first_token_ms"])
        res = await asyncio.gather(*[_voice(ctx, u) for u in voice_us], _typed(ctx, typed_u))
        for x in res:
            together[x["kind"]].append(x["first_token_ms"])
        ctx.opt.log(f"  turns at once: repeat {r + 1}/{reps}")
    out = {"concurrent": f"{len(voice_us)} voice + 1 typed", "samples": {"alone": alone, "together": together}}
    for k in ("voice", "typed"):
        a, t = _median(alone[k]), _median(together[k])
        out[k] = {"alone_first_token_ms": a, "together_first_token_ms": t, "slowdown": _ratio(t, a)}
    return out


async def _stream_long(client) -> dict:
    msgs = [{"role": "system", "content": "You are a helpful assistant."},
            {"role": "user", "content": "Write a detailed overview of how purchase orders are approved."}]
    t0 = now_ms()
    first = None
    timings: dict = {}
    async for ev in client.stream(msgs, max_tokens=LONG_ANSWER_TOKENS, temperature=0.0,
                                  extra={"ignore_eos": True}):
        if ev.kind == "token" and first is None:
            first = now_ms() - t0
        elif ev.kind == "done":
            timings = ev.timings or {}
    return {"tokens_per_s": timings.get("predicted_per_second"), "first_token_ms": first,
            "total_ms": now_ms() - t0}


async def _asr_once(ctx, audio) -> float:
    t = now_ms()
    await ctx.transcriber.transcribe(audio)
    return now_ms() - t


async def _whisper_beside_answer(ctx, reps: int) -> dict:
    from ..audio.wavfile import read_audio

    heavy = ctx.mgr.client("heavy")
    clip = ctx.wavs.get("asr_5s") or next(iter(ctx.wavs.values()))
    audio = read_audio(clip).audio
    await ctx.transcriber_ready()
    asr_alone, asr_during, tps_alone, tps_during = [], [], [], []
    for r in range(reps):
        asr_alone.append(await _asr_once(ctx, audio))
        tps_alone.append((await _stream_long(heavy))["tokens_per_s"])
        stream = asyncio.ensure_future(_stream_long(heavy))
        await asyncio.sleep(0.05)  # the answer is decoding when Whisper starts
        asr_during.append(await _asr_once(ctx, audio))
        tps_during.append((await stream)["tokens_per_s"])
        ctx.opt.log(f"  whisper beside an answer: repeat {r + 1}/{reps}")
    a, d = _median(asr_alone), _median(asr_during)
    ta, td = _median(tps_alone), _median(tps_during)
    return {"clip": clip.name, "answer_tokens": LONG_ANSWER_TOKENS,
            "asr_alone_ms": a, "asr_during_answer_ms": d, "asr_slowdown": _ratio(d, a),
            "answer_tokens_per_s_alone": ta, "answer_tokens_per_s_during_asr": td,
            "answer_slowdown": _ratio(ta, td)}


async def bench_load(ctx) -> dict:
    reps = 1 if ctx.opt.quick else max(2, ctx.opt.repeats)
    out: dict = {}
    if ctx.wavs:
        await ctx.transcriber_ready()
        out["turns_at_once"] = await _turns_at_once(ctx, reps)
        out["whisper_beside_answer"] = await _whisper_beside_answer(ctx, reps)
    else:
        out["error"] = "no spoken clips (espeak-ng missing)"
    return out
