"""The end-of-turn decision replayed with the transcript ready at once (as on a GPU, where Whisper
takes ~20-40 ms).

The real-time run (`turn_end.py`) closes where the speculative transcript arrived; on this 2-core
machine Whisper takes longer than any window, so smart never gets its text in time and its cut-offs
say nothing about its rules. This replay feeds a clip to the app's `EndpointDetector` block by block
like the recorder (20 ms), starts the speculation where the voice turn starts it (`START_AFTER_MS` of
silence, on the audio up to the last voiced sample plus the speculation's tail) and hands its transcript to
the policy on the next block, as `VoiceSession._record` does. Whisper's text is the real one
(tiny.en here); only its delay is taken out. Decisions (cut-offs, silence at close) are in audio time.
"""
from __future__ import annotations

from typing import Awaitable, Callable

import numpy as np

from ..audio.vad import RATE, EndpointDetector
from ..speech.speculation import TAIL_S, speculation_due
from ..speech.transcriber import Transcript
from ..speech.turn_end import TurnEndPolicy, verdict

BLOCK = RATE * 20 // 1000

Transcribe = Callable[[np.ndarray], Awaitable[Transcript]]


async def replay(audio: np.ndarray, end_s: float, policy: TurnEndPolicy, transcribe: Transcribe,
                 cache: dict) -> dict:
    """One clip (16 kHz) under `policy`: where the turn closed and what the speculation heard.
    `cache` keeps transcripts by (audio end) across policies: Whisper is deterministic here."""
    det = EndpointDetector(silence_ms=policy.bound_ms)
    texts: dict[int, Transcript] = {}
    heard: list[dict] = []
    tail = np.zeros(int((policy.bound_ms / 1000 + 1.0) * RATE), np.float32)
    sig = np.concatenate([audio, tail])
    for i in range(0, len(sig), BLOCK):
        lv = det.last_voiced_sample
        tr = texts.get(lv) if lv is not None and policy.mode == "smart" else None
        wait = policy.wait_ms(tr.text if tr and not tr.no_speech else None, tr) if (
            tr is not None or policy.mode == "fixed") else policy.bound_ms
        det.set_silence_ms(wait)
        det.feed(sig[i:i + BLOCK])
        if det.ended:
            break
        lv = det.last_voiced_sample
        if policy.mode == "smart" and speculation_due(det) and lv not in texts:
            end = min(det.samples_seen, lv + int(TAIL_S * RATE))
            if end not in cache:
                cache[end] = await transcribe(sig[:end].copy())
            texts[lv] = t = cache[end]
            heard.append({"at_s": round(lv / RATE, 2), "text": t.text, "verdict": verdict(t.text, t),
                          "avg_logprob": t.avg_logprob})
    closed_s = det.samples_seen / RATE
    lv = det.last_voiced_sample or 0
    return {"closed": det.ended, "cut_off": bool(det.ended and closed_s < end_s - 0.05),
            "silence_at_end_ms": round((det.samples_seen - lv) / RATE * 1000) if det.ended else None,
            "wait_ms": wait, "heard": heard}
