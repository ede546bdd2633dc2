"""`bestbox bench --only turn_end`: the end of a voice turn, fixed silence window vs smart.

A labelled set of spoken requests (espeak-ng, made at run time; `turn_end_set.py`): finished
requests, and requests with a mid-sentence pause of 0.4-1.2 s (two clips joined by silence), in a
`dev` split (the rules were made on it) and a `held_out` split (other phrases and voices). A turn
"cut the speaker off" when its recording stopped before the clip's last word ended. Two runs:

* replay (`turn_end_replay.py`): every clip, the app's detector and policy with Whisper's text
  handed over at once, as on a GPU: what the rules decide, whatever this machine's Whisper speed;
* real time: each clip played through the app's recorder path (`VoiceSession.run_file(realtime=True)`:
  file source, VAD, speculation, the turn-end policy) under `fixed` and `smart`, answered by the light
  server (`--quick`: a few clips). Cleanup is off in both modes (the same for both; it would only add
  the light server's time to each turn). The first token is the light server's first streamed token
  for the transcript (`QuickAnswerer`): the whole agent turn (router, tools, heavy model) costs the
  same after either mode's close, so it is left to the `turns` section.
"""
from __future__ import annotations

import statistics
import wave
from pathlib import Path

import numpy as np

from ..audio.resample import resample
from .context import Ctx, rnd
from .turn_end_replay import replay
from .turn_end_set import CLIPS, QUICK, make_clip

__all__ = ["CLIPS", "make_clip", "bench_turn_end", "turn_end_lines"]  # pack-voice.sh makes the clips


class QuickAnswerer:
    """An `speech.handoff.Answerer` that streams a short reply from the light server and marks
    the turn's first token on the trace."""

    def __init__(self, client):
        self.client = client

    def preroute(self, text: str) -> None:
        pass

    async def answer(self, text: str, *, trace, meta: dict) -> dict:
        gen = self.client.stream([{"role": "user", "content": text}], max_tokens=8, temperature=0.0)
        try:
            async for ev in gen:
                if ev.kind == "token":
                    trace.mark("first_token")
                    break
        finally:
            await gen.aclose()  # closes the HTTP stream: the server stops generating
        return {}


async def _turn(ctx: Ctx, cfg, path: Path, end_s: float) -> dict:
    from ..speech.voice_turn import VoiceSession

    session = VoiceSession(cfg, transcriber=ctx.transcriber, glossary=ctx.glossary, endpoints=ctx.rec,
                           answerer=QuickAnswerer(ctx.mgr.client("light")), cleanup=False)
    res = await session.run_file(str(path), realtime=True)
    rec, t = res.get("recording") or {}, res.get("timings") or {}
    return {"transcript": res.get("transcript_raw"), "error": res.get("error"),
            "cut_off": bool(rec.get("audio_s") is not None and rec["audio_s"] < end_s - 0.05),
            "silence_at_end_ms": rnd((rec.get("silence_at_end_s") or 0) * 1000, 0),
            "turn_end": rec.get("turn_end"), "vad_wait_ms": t.get("vad_wait_ms"), "asr_ms": t.get("asr_ms"),
            "to_transcript_ms": t.get("speech_end_to_transcript_ms"),
            "to_first_token_ms": t.get("speech_end_to_first_token_ms")}


def _median(rows: list[dict], key: str):
    v = [r[key] for r in rows if r.get(key) is not None]
    return rnd(statistics.median(v), 0) if v else None


def _read16(path: Path) -> np.ndarray:
    with wave.open(str(path), "rb") as w:
        a = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").astype(np.float32) / 32768
        return resample(a, w.getframerate(), 16000).astype(np.float32)


def _summary(rs: list[dict], first_token: bool) -> dict:
    # Latency over the finished requests only: both modes hear all of them, while a paused clip
    # that one mode cut off is a shorter, different request.
    done = [r for r in rs if not r["paused"] and not r["cut_off"] and not r.get("error")]
    out = {"clips": len(rs), "cut_offs": sum(r["cut_off"] for r in rs),
           "cut": [r["key"] for r in rs if r["cut_off"]], "paused_clips": sum(r["paused"] for r in rs),
           "median_silence_at_end_ms": _median(done, "silence_at_end_ms")}
    if first_token:
        out.update(closed_on_text=sum(bool(r["turn_end"] and r["turn_end"].get("heard") is not None) for r in rs),
                   median_to_transcript_ms=_median(done, "to_transcript_ms"),
                   median_to_first_token_ms=_median(done, "to_first_token_ms"), median_asr_ms=_median(rs, "asr_ms"))
    return out


async def _replays(ctx: Ctx, clips, made, modes) -> dict:
    """Every clip under both policies with Whisper's delay taken out (turn_end_replay.py)."""
    from ..speech.turn_end import TurnEndPolicy

    hint = ctx.glossary.whisper_prompt(ctx.glossary.for_whisper(None))

    async def transcribe(a):
        return await ctx.transcriber.transcribe(a, initial_prompt=hint)

    rows: dict[str, list[dict]] = {m: [] for m in modes}
    for c in clips:
        path, end_s = made[c.key]
        audio, cache = _read16(path), {}
        for m, cfg in modes.items():
            r = await replay(audio, end_s, TurnEndPolicy.from_config(cfg.speech), transcribe, cache)
            r.update(key=c.key, split=c.split, paused=c.pause is not None, pause_s=c.pause)
            rows[m].append(r)
            ctx.opt.log(f"  replay {m:5s} {c.split:8s} {c.key:12s} cut={r['cut_off']!s:5s} "
                        f"silence={r['silence_at_end_ms']} heard={[(h['text'], h['verdict']) for h in r['heard']]}")
    return rows


async def _realtime(ctx: Ctx, clips, made, modes) -> dict:
    rows: dict[str, list[dict]] = {m: [] for m in modes}
    for i, c in enumerate(clips):
        order = list(modes) if i % 2 == 0 else list(modes)[::-1]  # drift hits both modes alike
        for m in order:
            path, end_s = made[c.key]
            r = await _turn(ctx, modes[m], path, end_s)
            r.update(key=c.key, split=c.split, paused=c.pause is not None, pause_s=c.pause)
            rows[m].append(r)
            ctx.opt.log(f"  {m:5s} {c.split:8s} {c.key:12s} cut={r['cut_off']!s:5s} silence={r['silence_at_end_ms']} "
                        f"→token={r['to_first_token_ms']} {r['transcript']!r}")
    return rows


async def bench_turn_end(ctx: Ctx) -> dict:
    await ctx.transcriber_ready()
    d = ctx.opt.out_dir / "wav" / "turn_end"
    d.mkdir(parents=True, exist_ok=True)
    # The replay costs Whisper's time only (tens of ms a clip on a GPU): every clip, always. The
    # real-time run costs each clip's length twice: --quick plays a few.
    clips = list(CLIPS)
    live = [c for c in clips if not ctx.opt.quick or c.key in QUICK]
    made = {c.key: make_clip(d, *c) for c in clips}
    modes = {m: ctx.cfg.model_copy(update={"speech": ctx.cfg.speech.model_copy(update={"turn_end": m})})
             for m in ("fixed", "smart")}
    sp = ctx.cfg.speech
    out: dict = {"clips": len(clips), "live_clips": len(live), "min_ms": sp.turn_min_ms, "max_ms": sp.turn_max_ms,
                 "fixed_ms": sp.vad_silence_ms, "replay": {}, "modes": {}}
    runs = {"replay": await _replays(ctx, clips, made, modes), "modes": await _realtime(ctx, live, made, modes)}
    for kind, rows in runs.items():
        for m, rs in rows.items():
            out[kind][m] = {split: _summary([r for r in rs if r["split"] == split], kind == "modes")
                            for split in ("dev", "held_out") if any(r["split"] == split for r in rs)}
            out[kind][m]["turns"] = rs
    return out


def turn_end_lines(res: dict, add) -> None:
    s = res.get("turn_end")
    if not s:
        return
    add("")
    add(f"End of turn ({s['clips']} clips, real time: {s.get('live_clips', s['clips'])}; fixed {s['fixed_ms']} ms; "
        f"smart {s['min_ms']}-{s['max_ms']} ms)")
    for kind, title in (("replay", "transcript at once (as on a GPU)"), ("modes", "real time on this machine")):
        add(f" {title}:")
        for m, by in s.get(kind, {}).items():
            for split, v in by.items():
                if split == "turns":
                    continue
                line = (f"  {m:5s} {split:8s} cut-offs {v['cut_offs']}/{v['clips']} (paused clips {v['paused_clips']})"
                        f" {v['cut']}; finished requests: median silence at close {v['median_silence_at_end_ms']} ms")
                if "median_to_first_token_ms" in v:
                    line += (f" (closed on the text {v['closed_on_text']}); last voiced → transcript "
                             f"{v['median_to_transcript_ms']} ms, → first token {v['median_to_first_token_ms']} ms; "
                             f"Whisper {v['median_asr_ms']} ms")
                add(line)
