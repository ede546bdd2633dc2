"""bench section `asr`: Whisper latency and real-time factor per utterance length (~1, 3, 5, 10 s)."""
from __future__ import annotations

from ..stats import summary
from . import utterances as U
from .context import Ctx, reps, rot


async def bench_asr(ctx: Ctx) -> dict:
    from ..audio.vad import find_speech
    from ..audio.wavfile import read_audio
    from ..speech.voice_turn import TAIL_S

    tr = await ctx.transcriber_ready()
    hint = ctx.glossary.whisper_prompt(ctx.glossary.for_whisper(None))
    clips = {}
    for target, u in ctx.sel["asr"].items():
        audio = read_audio(ctx.wavs[u.key]).audio
        first, last = find_speech(audio)
        last = last or len(audio)
        seg = audio[: min(len(audio), last + int(TAIL_S * U.RATE))]  # what a turn sends to Whisper
        clips[target] = (u, seg, (last - (first or 0)) / U.RATE)
    await tr.transcribe(clips[min(clips)][1], initial_prompt=hint)  # warm-up
    samples: dict[int, list[dict]] = {t: [] for t in clips}
    for r in range(reps(ctx)):
        for t in rot(sorted(clips), r):
            u, seg, voiced = clips[t]
            x = await tr.transcribe(seg, initial_prompt=hint)
            samples[t].append({"ms": x.asr_ms, "rtf": x.rtf, "text": x.text, "confident": x.confident})
    out = []
    for t in sorted(clips):
        u, seg, voiced = clips[t]
        ss = samples[t]
        out.append({"target_s": t, "audio_s": round(len(seg) / U.RATE, 2), "voiced_s": round(voiced, 2),
                    "text": u.text, "transcript": ss[-1]["text"], "confident": ss[-1]["confident"],
                    "ms": summary([s["ms"] for s in ss]), "rtf": summary([s["rtf"] for s in ss])})
    return {"model": "tiny.en (bundled)" if tr.model_name in ("", "model") else tr.model_name, "device": tr.device,
            "compute_type": tr.compute_type, "window": ctx.cfg.speech.whisper_window, "cpu_threads": tr.cpu_threads,
            "lengths": out}
