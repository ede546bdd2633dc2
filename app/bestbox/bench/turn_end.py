"""`bestbox bench --only turn_end`: the end of a voice turn, fixed silence window vs smart.

A labelled set of spoken requests (espeak-ng, made at run time): finished requests, and requests
with a mid-sentence pause of 0.4-1.2 s (two clips joined by silence). Each clip is played through
the app's real recorder path (`VoiceSession.run_file(realtime=True)`: file source, VAD,
speculation, the turn-end policy) under `fixed` (speech.vad_silence_ms) and `smart`
(speech/turn_end.py), and answered by the shipped Router + Assistant. A turn "cut the speaker off"
when its recording stopped before the clip's last word ended. Cleanup is off in both modes (the
same for both; it would only add the light server's time to each turn). The first token is the
light server's first streamed token for the transcript (`QuickAnswerer`): the whole agent turn
(router, tools, heavy model) costs the same after either mode's close and took minutes per turn on
the loaded 2-core machine, so it is left to the `turns` section.
"""
from __future__ import annotations

import statistics
import wave
from pathlib import Path

import numpy as np

from ..audio.wavfile import write_wav
from . import utterances as U
from .context import Ctx, rnd

# (key, first part, pause s, second part): pause None = a finished request said in one go.
CLIPS = [
    ("c_vendors", "show me the top vendors by spend", None, ""),
    ("c_overdue", "are any invoices overdue", None, ""),
    ("c_backup", "did the backup finish without errors", None, ""),
    ("c_vacation", "how many vacation days do I have left", None, ""),
    ("c_vpn", "the vpn is down, open a ticket", None, ""),
    ("c_percent", "what is 15% of 80", None, ""),
    ("p_invoices", "list the unpaid invoices from", 0.9, "last month"),
    ("p_vendors", "show me the top vendors for", 1.2, "the third quarter"),
    ("p_ticket", "open a ticket because the", 0.6, "printer is jammed"),
    ("p_vacation", "how many vacation days do I", 0.4, "have left"),
    ("p_room", "book a meeting room for tomorrow at", 0.8, "ten"),
    # a pause after words that already make a request: the hard case for any text rule
    ("p_northwind", "call Northwind", 0.5, "about the late delivery"),
]
QUICK = ("c_vendors", "c_overdue", "p_invoices", "p_vendors")


def _read(path: Path) -> tuple[np.ndarray, int]:
    with wave.open(str(path), "rb") as w:
        return np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").astype(np.float32) / 32768, w.getframerate()


def _trim(a: np.ndarray) -> np.ndarray:
    nz = np.nonzero(np.abs(a) > 1e-3)[0]
    return a[nz[0]:nz[-1] + 1] if len(nz) else a


def make_clip(d: Path, key: str, first: str, pause: float | None, second: str) -> tuple[Path, float]:
    """The clip's WAV and the time (s) its last word ends."""
    a, rate = _read(U.speak(first, d / f"{key}-a.wav"))
    parts = [np.zeros(int(U.LEAD_SILENCE_S * rate), np.float32), _trim(a)]
    if pause is not None:
        b, _ = _read(U.speak(second, d / f"{key}-b.wav"))
        parts += [np.zeros(int(pause * rate), np.float32), _trim(b)]
    end_s = sum(len(p) for p in parts) / rate
    parts.append(np.zeros(int(U.TAIL_SILENCE_S * rate), np.float32))
    return write_wav(d / f"{key}.wav", np.concatenate(parts), rate), end_s


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


async def bench_turn_end(ctx: Ctx) -> dict:
    await ctx.transcriber_ready()
    d = ctx.opt.out_dir / "wav" / "turn_end"
    d.mkdir(parents=True, exist_ok=True)
    clips = [c for c in CLIPS if not ctx.opt.quick or c[0] in QUICK]
    made = {c[0]: make_clip(d, *c) for c in clips}
    modes = {m: ctx.cfg.model_copy(update={"speech": ctx.cfg.speech.model_copy(update={"turn_end": m})})
             for m in ("fixed", "smart")}
    rows: dict[str, list[dict]] = {m: [] for m in modes}
    for i, (key, first, pause, second) in enumerate(clips):
        order = list(modes) if i % 2 == 0 else list(modes)[::-1]  # drift hits both modes alike
        for m in order:
            path, end_s = made[key]
            r = await _turn(ctx, modes[m], path, end_s)
            r.update(key=key, paused=pause is not None, pause_s=pause)
            rows[m].append(r)
            ctx.opt.log(f"  {m:5s} {key:12s} cut={r['cut_off']!s:5s} silence={r['silence_at_end_ms']} "
                        f"→token={r['to_first_token_ms']} {r['transcript']!r}")
    out: dict = {"clips": len(clips), "min_ms": ctx.cfg.speech.turn_min_ms, "max_ms": ctx.cfg.speech.turn_max_ms,
                 "fixed_ms": ctx.cfg.speech.vad_silence_ms, "modes": {}}
    for m, rs in rows.items():
        # Latency over the finished requests only: both modes hear all of them, while a paused
        # clip that one mode cut off is a shorter, different request.
        done = [r for r in rs if not r["paused"] and not r["cut_off"] and not r["error"]]
        out["modes"][m] = {
            "cut_offs": sum(r["cut_off"] for r in rs), "paused_clips": sum(r["paused"] for r in rs),
            "closed_on_text": sum(bool(r["turn_end"] and r["turn_end"].get("heard") is not None) for r in rs),
            "median_silence_at_end_ms": _median(rs, "silence_at_end_ms"),
            "median_to_transcript_ms": _median(done, "to_transcript_ms"),
            "median_to_first_token_ms": _median(done, "to_first_token_ms"),
            "median_asr_ms": _median(rs, "asr_ms"), "turns": rs}
    return out


def turn_end_lines(res: dict, add) -> None:
    s = res.get("turn_end")
    if not s:
        return
    add("")
    add(f"End of turn ({s['clips']} clips; fixed {s['fixed_ms']} ms; smart {s['min_ms']}-{s['max_ms']} ms)")
    for m, v in s["modes"].items():
        add(f"  {m:5s} cut-offs {v['cut_offs']}/{s['clips']} (paused clips {v['paused_clips']}); median silence "
            f"at close {v['median_silence_at_end_ms']} ms (closed on the text {v.get('closed_on_text')}); finished "
            f"requests: last voiced → transcript {v['median_to_transcript_ms']} "
            f"ms, → first token {v['median_to_first_token_ms']} ms; Whisper {v['median_asr_ms']} ms")

