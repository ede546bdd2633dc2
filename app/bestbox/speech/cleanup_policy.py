"""Cleanup vs answering: which text the pipeline gets, and when the light model's cleanup runs.

Decided from measurements (2-core CPU shared with other builds, so absolute numbers are noisy;
SmolLM2-135M as the light model, glossary prompt cached): cleanup generates 9-14 tokens and took
1.3-10.7 s (median 3.6 s) against 0.6-6.1 s (median 1.1 s) for a grammar-label routing call on the
same server — about 3x the routing cost — while Whisper with the glossary prompt got all five
espeak requests' domain words right with mean token log-prob -0.16..-0.26. Cleanup would add its
whole cost to every turn for a mostly cosmetic gain, so:
  * confident transcript (mean token log-prob > -0.7, no_speech_prob < 0.5) and no word that is a
    near miss of a glossary term → answer the (mended) text now, no cleanup at all (policy
    `as_heard`). The cleanup once ran beside the answer (the two servers fought over 2 cores: tool
    choice 4.0 s instead of 1.1 s), then after it, for the displayed text only; the hearing bench
    below showed it gained nothing there;
  * otherwise (low confidence, or e.g. "menders" next to the glossary's "vendors") → cleanup
    first, bounded by `cleanup_timeout_s` (2 s), and the answer gets the cleaned text when the
    judge accepted it, the raw text when not: a wrong domain word costs more than the wait.

2026-11-29, `bestbox bench --only hearing` (40 espeak clips, 5 voices/speeds/noise levels): the
light model's cleanup kept key-term recall where it was (0.548 → 0.548 on the clean voices, 0.414
→ 0.414 on all) and made the word error rate worse (0.499 → 0.518), so the cleanup of a confident
transcript is gone (it only rewrote the displayed text). Before anything else, `speech.mend`
replaces near misses of glossary terms by sound and spelling ("over you" → "overdue", "all bridge
KK" → "Altbridge K.K."): recall 0.548 → 0.643, WER 0.499 → 0.431 on the same transcripts.
"""
from __future__ import annotations

from dataclasses import replace
from functools import lru_cache
from typing import Any, Callable

from ..trace import TurnTrace, now_ms
from .cleanup import CleanupResult, clean_transcript
from .glossary import Glossary
from .handoff import Answerer
from .mend import Mender
from .transcriber import Transcript


@lru_cache(maxsize=4)
def mender_for(glossary: Glossary) -> Mender:
    return Mender(glossary.all_terms())


def answer_as_heard(tr: Transcript, near_misses: list) -> bool:
    """A confident transcript with no glossary near miss is answered as it was heard (mended, not
    cleaned); anything else is cleaned first."""
    return tr.confident and not near_misses


async def clean_and_answer(tr: Transcript, trace: TurnTrace, base: dict, *, glossary: Glossary, client: Any,
                           answerer: Answerer | None, timeout_s: float,
                           emit: Callable[..., None]) -> dict:
    """The policy above, for one transcript: cleanup (before or after the answer) and the hand-off
    to the pipeline. Returns `base` completed with the answer, the cleanup and the trace's timings."""
    raw = tr.text
    text, mended = mender_for(glossary).mend(tr.text)
    if mended:
        tr = replace(tr, text=text)
        base = {**base, "mended": [list(p) for p in mended]}
    near = glossary.near_misses(tr.text)
    confident = answer_as_heard(tr, near)
    policy = "none" if client is None else ("as_heard" if confident else "before_answer")

    async def cleanup() -> tuple[CleanupResult, dict]:
        st = now_ms()
        res = await clean_transcript(tr.text, client, glossary, timeout_s=timeout_s)
        stage = trace.add_stage("cleanup", st, now_ms(), cleaned=res.cleaned, reason=res.reason)
        out = {**res.to_dict(), "cleanup_ms": round(stage.ms or 0.0, 1)}
        emit("transcript_clean", **{k: v for k, v in out.items() if k != "timings"})
        return res, out

    cleaned: tuple[CleanupResult, dict] | None = None
    if client is not None and not confident:
        cleaned = await cleanup()
    text = cleaned[0].text if cleaned else tr.text
    result = {**base, "answered_text": text, "cleanup_policy": policy}
    if near:
        result["glossary_near_misses"] = [list(p) for p in near]
    if answerer is not None:
        result.update(await answerer.answer(text, trace=trace, meta={"raw_transcript": raw}))
    result["transcript_clean"] = cleaned[0].text if cleaned else tr.text
    result["cleanup"] = cleaned[1] if cleaned else {"cleaned": False, "reason": "confident transcript" if policy == "as_heard" else "cleanup off or no light server"}
    d = trace.to_dict()
    result["timings"], result["stages"] = d["timings"], d["stages"]
    return result
