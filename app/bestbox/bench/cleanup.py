"""bench section `cleanup`: cleanup latency, and transcript → first answer token with cleanup off,
after the answer (confident transcript) and before the answer (unsure transcript)."""
from __future__ import annotations

from ..stats import summary
from ..trace import TurnTrace
from .context import Ctx, count, reps, rnd, rot


async def bench_cleanup(ctx: Ctx) -> dict:
    """Cleanup latency with the shipped glossary; when every request fails (e.g. a glossary that no
    longer fits the light server's context), the reason is reported and the latency is measured
    again with the built-in terms only, labelled as such."""
    from ..speech.cleanup import clean_transcript
    from ..speech.glossary import Glossary

    light = ctx.rec.client("light")
    inputs = ["show me the top menders", "how many vacation days do I have left this year",
              "open a ticket the vpm is down"]
    if ctx.opt.quick:
        inputs = inputs[:2]
    out: dict = {"glossary": "shipped (built-in terms + demo company names)",
                 "glossary_terms": len(ctx.glossary.for_cleanup())}
    glossary = ctx.glossary
    probe = await clean_transcript(inputs[0], light, glossary, timeout_s=60)  # also fills the prompt cache
    if not probe.cleaned and probe.reason.startswith(("light server unavailable", "light server refused")):
        out["shipped_glossary_error"] = probe.reason
        comp_err = await _cleanup_error(light, inputs[0], glossary)
        if comp_err:
            out["shipped_glossary_error"] += f": {comp_err}"
        glossary = Glossary.from_config(ctx.cfg, with_database=False)
        out["glossary"] = "built-in terms only (the shipped glossary's request failed; see shipped_glossary_error)"
        out["glossary_terms"] = len(glossary.for_cleanup())
        await clean_transcript(inputs[0], light, glossary, timeout_s=60)
    lat: list[dict] = []
    for r in range(reps(ctx)):
        for raw in rot(inputs, r):
            res = await clean_transcript(raw, light, glossary, timeout_s=60)
            lat.append({"raw": raw, "ms": res.cleanup_ms, "cleaned": res.cleaned, "text": res.text,
                        "reason": res.reason, "predicted_n": (res.timings or {}).get("predicted_n")})
    ctx.rec.reset()
    out.update({"latency_ms": summary([s["ms"] for s in lat]),
                "generated_tokens": summary([s["predicted_n"] for s in lat]),
                "accepted_share": rnd(sum(s["cleaned"] for s in lat) / len(lat), 3) if lat else None,
                "over_2s_bound": sum(1 for s in lat if s["ms"] > 2000),
                "kept_raw_because": count(s["reason"] for s in lat if not s["cleaned"]),
                "examples": {s["raw"]: s["text"] for s in lat}})
    out.update(await _cleanup_ttft(ctx, glossary))
    return out


async def _cleanup_error(client, raw: str, glossary) -> str:
    """The server's own words for a failed cleanup request (the app keeps only the error's type)."""
    from ..speech.cleanup import SHOTS, SYSTEM

    msgs = [{"role": "system", "content": SYSTEM.format(terms=", ".join(glossary.for_cleanup()))}]
    for q, a in SHOTS:
        msgs += [{"role": "user", "content": q}, {"role": "assistant", "content": a}]
    msgs.append({"role": "user", "content": raw})
    try:
        await client.complete(msgs, max_tokens=8)
    except Exception as e:  # noqa: BLE001
        return str(e)[:300]
    return ""


async def _cleanup_ttft(ctx: Ctx, glossary) -> dict:
    """Transcript → first answer token with cleanup off, after the answer (confident transcript) and
    before the answer (unsure transcript): the same text and answer work each time; VoiceSession's
    own policy step decides."""
    from ..pipeline.answerer import PipelineAnswerer
    from ..speech.transcriber import Transcript
    from ..speech.voice_turn import VoiceSession

    text = "what is 15 percent of 80"  # a quick answer: no tool step, so the cleanup's share shows
    modes = ("off", "after_answer", "before_answer")
    ttft: dict[str, list[float]] = {m: [] for m in modes}
    policy: dict[str, list] = {m: [] for m in modes}
    answerer = PipelineAnswerer(ctx.assistants["bestbox"])
    for r in range(reps(ctx)):
        for m in rot(modes, r):
            session = VoiceSession(ctx.cfg, transcriber=ctx.transcriber, glossary=glossary, endpoints=ctx.rec,
                                   answerer=answerer, cleanup=(m != "off"), use_silero=False, speculate=False)
            tr = Transcript(text, avg_logprob=-0.2 if m != "before_answer" else -1.0, no_speech_prob=0.01,
                            audio_s=3.0, confident=(m != "before_answer"))
            trace = TurnTrace()
            res = await session.answer_transcript(tr, trace)  # the policy step of a voice turn
            ctx.rec.reset()
            ft = trace.marks.get("first_token")
            if ft is not None:
                ttft[m].append(ft - trace.marks["transcript"])
            policy[m].append(res.get("cleanup_policy"))
    t_sum = {m: summary(v) for m, v in ttft.items()}
    base = t_sum["off"]["median"]
    adds = {m: (rnd(t_sum[m]["median"] - base, 1) if base is not None and t_sum[m]["median"] is not None else None)
            for m in modes if m != "off"}
    return {"transcript_to_first_token_ms": t_sum, "adds_to_first_token_ms": adds,
            "policy_seen": {m: count(v) for m, v in policy.items()},
            "policy_note": "after_answer: confident transcript, answered at once (policy as_heard: no cleanup "
                           "since the hearing bench, docs/benchmarks.md); "
                           "before_answer: unsure transcript, cleanup (bounded at 2 s) runs first"}
