"""`bestbox bench`: every measurement, against the configured servers, in one run.

Sections (each a function; a section that fails records its error and the others still run):
- router:  one decision per method — fast path, BestBox's hybrid router, the grammar label on light
           and on heavy, the design's JSON-schema decision on light and on heavy;
- asr:     Whisper latency and real-time factor per utterance length (~1, 3, 5, 10 s);
- cleanup: cleanup latency, and transcript → first answer token with cleanup off, after the answer
           (confident transcript) and before the answer (unsure transcript);
- turns:   whole typed and voice turns in three configurations — single (the design's "before":
           JSON route on heavy, everything on heavy), dual (the design's "after": JSON route on
           light, answer on heavy), bestbox (the shipped Router + Assistant);
- ui:      event-loop stalls during a streamed answer and a voice turn, launch → window shown, and
           the app's resident memory (a subprocess: `bench/ui_probe.py`);
- servers: decode / prompt speed and build facts (the GPU engineer's `server_bench` functions).

Fairness on a noisy machine: all configurations run in this one process, interleaved — each repeat
runs every method / configuration once, in a rotated order — so drift hits them alike. Answers are
capped at the same number of tokens for every configuration, and single and dual answer with the
agent a person would pick (their router's own label is recorded; a tiny model's misroute would
otherwise change the work, not the speed).
"""
from __future__ import annotations

import asyncio
import json
import os
import platform
import subprocess
import sys
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from ..trace import TurnTrace, now_ms
from . import utterances as U
from .recording import Call, RecordingEndpoints, union_ms
from .server_bench import summary

CONFIGS = ("single", "dual", "bestbox")
CONFIG_LABELS = {
    "single": "single (route+answer on heavy)",
    "dual": "dual (JSON route on light)",
    "bestbox": "BestBox (as shipped)",
}
ROUTER_METHODS = ("fast_path", "bestbox_hybrid", "light_grammar", "heavy_grammar", "light_json", "heavy_json")
ROUTER_LABELS = {
    "fast_path": "fast path (in-process)",
    "bestbox_hybrid": "BestBox router (hybrid)",
    "light_grammar": "light LLM, grammar label",
    "heavy_grammar": "heavy LLM, grammar label (before)",
    "light_json": "light LLM, JSON schema (design after)",
    "heavy_json": "heavy LLM, JSON schema (design before)",
}
NOTE = ("Small-model CPU numbers: SmolLM2-135M as both light and heavy model and Whisper tiny.en on this "
        "machine's CPU cores. Ratios between configurations mean more than absolute times; GPU numbers with "
        "7B/14B-shaped models are in the GPU section of docs/benchmarks.md.")


@dataclass
class Options:
    out_dir: Path
    repeats: int = 3
    quick: bool = False
    answer_tokens: int = 48
    ui: bool = True
    log: Callable[[str], None] = lambda m: None
    sections: tuple[str, ...] = ("servers", "router", "asr", "cleanup", "turns", "ui", "supervision")


def _reps(ctx: "Ctx") -> int:
    return 1 if ctx.opt.quick else max(2, ctx.opt.repeats)


def _rot(items, r: int) -> list:
    items = list(items)
    k = r % len(items)
    return items[k:] + items[:k]


def _r(v, nd=2):
    return None if v is None else round(float(v), nd)


# --------------------------------------------------------------------------------------------------
# single / dual: the design's structured route

class StructuredRouter:
    """The design's router: a JSON-schema decision {"agent", "needs_tools", "complexity"} from one
    model, and every answer on heavy. Answers go to the agent a person would pick (`pin`), so the
    work after routing is the same as BestBox's; what the model said is kept in the detail."""

    def __init__(self, on: str, pin: dict[str, str] | None = None, timeout_s: float = 120.0):
        self.on = on
        self.pin = pin or {}
        self.timeout_s = timeout_s

    async def route(self, text: str, light=None, heavy=None, *, mode: str | None = None, turn_id: str | None = None):
        from ..routing import llm_router
        from ..routing.decision import RouteDecision
        from ..routing.fast_path import estimate_task

        client = heavy if self.on == "heavy" else light
        t0 = time.perf_counter()
        detail: dict = {"structured_on": self.on}
        said = None
        try:
            lab = await llm_router.classify_json(client, text, timeout_s=self.timeout_s)
            said = lab.agent
            detail.update(lab.detail())
        except llm_router.RouterLLMError as e:
            detail.update(error=f"{e.kind}: {e}", llm_ms=round(e.ms, 2))
        pinned = self.pin.get(text) or self._pin_near(text)
        agent = pinned or said or "general"
        detail["model_said"] = said
        task = estimate_task(text, agent)
        return RouteDecision(agent=agent, tier="heavy", needs_tools=task.requires_tools, complexity=task.complexity,
                             est_output_tokens=task.estimated_output_tokens, steps=task.steps, decided_by="llm",
                             confidence=None, ms=(time.perf_counter() - t0) * 1000, mode=f"structured-{self.on}",
                             tier_reason="design: everything answered on heavy", detail=detail)

    def _pin_near(self, text: str) -> str | None:
        """A voice turn's transcript is not the scripted text ("do my hub left" for "do I have
        left"): pin it to the closest scripted utterance, or every voice turn of single and dual
        would answer with whatever agent the tiny router said — other prompts, other work."""
        import difflib

        words = text.lower().split()
        best, agent = 0.0, None
        for known, a in self.pin.items():
            r = difflib.SequenceMatcher(None, words, known.lower().split()).ratio()
            if r > best:
                best, agent = r, a
        return agent if best >= 0.6 else None

    def correct(self, *_a, **_k):
        return {}


# --------------------------------------------------------------------------------------------------
# sections

async def bench_servers(ctx: "Ctx") -> dict:
    """Decode and prompt speed per server, with the GPU engineer's measurement functions."""
    from .server_bench import Endpoint, make_client, measure_decode, measure_prompt_speed, server_info

    out: dict = {}
    reps = 1 if ctx.opt.quick else 2
    n_tok = 16 if ctx.opt.quick else 32
    async with make_client() as http:
        for name in ("light", "heavy"):
            snap = ctx.mgr.snapshot(name)
            ep = Endpoint(name, snap.base_url, ctx.cfg.llama.api_key)
            info = await server_info(http, ep)
            info["decode"] = await measure_decode(http, ep, n_tokens=n_tok, repeats=reps, warmup=0)
            info["prompt_speed"] = await measure_prompt_speed(http, ep, repeats=1, warmup=0)
            info["decode_tokens"] = n_tok
            info["model_name"] = snap.model_name
            info["demo_model"] = snap.using_demo_model
            out[name] = info
    return out


async def bench_router(ctx: "Ctx") -> dict:
    from ..routing import llm_router
    from ..routing.router import Router

    light, heavy = ctx.mgr.client("light"), ctx.mgr.client("heavy")
    router = Router(ctx.cfg, None)  # the shipped router without the decision log
    timeout = 120.0

    async def llm(method: str, text: str) -> dict:
        client = light if method.startswith("light") else heavy
        fn = llm_router.classify_json if method.endswith("json") else llm_router.classify
        t = now_ms()
        try:
            lab = await fn(client, text, timeout_s=timeout)
        except llm_router.RouterLLMError as e:
            return {"ms": now_ms() - t, "error": f"{e.kind}: {e}"}
        ms = now_ms() - t
        tm = lab.timings or {}
        return {"ms": ms, "agent": lab.agent, "predicted_n": tm.get("predicted_n"), "prompt_n": tm.get("prompt_n"),
                "cache_n": tm.get("cache_n"), "server_ms": (tm.get("prompt_ms") or 0) + (tm.get("predicted_ms") or 0),
                "raw": lab.raw[:80]}

    async def run(method: str, text: str) -> dict:
        if method in ("fast_path", "bestbox_hybrid"):
            t = now_ms()
            d = await router.route(text, light, heavy, mode="fast" if method == "fast_path" else "hybrid")
            ms = now_ms() - t
            s = {"ms": ms, "agent": d.agent, "decided_by": d.decided_by}
            if d.decided_by == "llm":
                s.update(predicted_n=d.detail.get("predicted_n"), prompt_n=d.detail.get("prompt_n"),
                         cache_n=d.detail.get("cache_n"))
            elif method == "fast_path" or d.decided_by == "fast":
                s["predicted_n"] = 0
            return s
        return await llm(method, text)

    utts = ctx.sel["router"]
    reps = 1 if ctx.opt.quick else max(2, ctx.opt.repeats)
    samples: dict[str, list[dict]] = {m: [] for m in ROUTER_METHODS}
    for r in range(reps):
        for m in _rot(ROUTER_METHODS, r):
            await run(m, "warm up the prompt cache")  # each method measured with its prompt cached
            for u in utts:
                s = await run(m, u.text)
                s.update(text=u.text, expected=u.agent, correct=s.get("agent") == u.agent)
                samples[m].append(s)
        ctx.opt.log(f"  router: repeat {r + 1}/{reps}")
    out: dict = {"methods": {}, "labels": ROUTER_LABELS, "utterances": [u.text for u in utts], "repeats": reps}
    for m, ss in samples.items():
        ok = [s for s in ss if "error" not in s]
        out["methods"][m] = {
            "ms": summary([s["ms"] for s in ok]),
            "generated_tokens": summary([s.get("predicted_n") for s in ok]),
            "prompt_n": summary([s.get("prompt_n") for s in ok]),
            "cache_n": summary([s.get("cache_n") for s in ok]),
            "server_ms": summary([s.get("server_ms") for s in ok]),
            "accuracy": _r(sum(s["correct"] for s in ok) / len(ok), 3) if ok else None,
            "errors": len(ss) - len(ok),
            "decided_by": _count(s.get("decided_by") for s in ok) if m in ("fast_path", "bestbox_hybrid") else None,
            "example": next((s.get("raw") for s in ok if s.get("raw")), None),
        }
    return out


def _count(items) -> dict:
    out: dict = {}
    for i in items:
        out[str(i)] = out.get(str(i), 0) + 1
    return out


async def bench_asr(ctx: "Ctx") -> dict:
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
    for r in range(_reps(ctx)):
        for t in _rot(sorted(clips), r):
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
    return {"model": "tiny.en (bundled)" if tr.model_name in ("", "model") else tr.model_name, "device": ctx.cfg.speech.device, "compute_type": ctx.cfg.speech.compute_type,
            "cpu_threads": tr.cpu_threads, "lengths": out}


async def bench_cleanup(ctx: "Ctx") -> dict:
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
    for r in range(_reps(ctx)):
        for raw in _rot(inputs, r):
            res = await clean_transcript(raw, light, glossary, timeout_s=60)
            lat.append({"raw": raw, "ms": res.cleanup_ms, "cleaned": res.cleaned, "text": res.text,
                        "reason": res.reason, "predicted_n": (res.timings or {}).get("predicted_n")})
    ctx.rec.reset()
    out.update({"latency_ms": summary([s["ms"] for s in lat]),
                "generated_tokens": summary([s["predicted_n"] for s in lat]),
                "accepted_share": _r(sum(s["cleaned"] for s in lat) / len(lat), 3) if lat else None,
                "over_2s_bound": sum(1 for s in lat if s["ms"] > 2000),
                "kept_raw_because": _count(s["reason"] for s in lat if not s["cleaned"]),
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


async def _cleanup_ttft(ctx: "Ctx", glossary) -> dict:
    """Transcript → first answer token with cleanup off, after the answer (confident transcript) and
    before the answer (unsure transcript): the same text and answer work each time; VoiceSession's
    own policy step decides."""
    from ..speech.transcriber import Transcript
    from ..speech.voice_turn import VoiceSession

    text = "what is 15 percent of 80"  # a quick answer: no tool step, so the cleanup's share shows
    modes = ("off", "after_answer", "before_answer")
    ttft: dict[str, list[float]] = {m: [] for m in modes}
    policy: dict[str, list] = {m: [] for m in modes}
    assistant = ctx.assistants["bestbox"]
    for r in range(_reps(ctx)):
        for m in _rot(modes, r):
            session = VoiceSession(ctx.cfg, transcriber=ctx.transcriber, glossary=glossary, endpoints=ctx.rec,
                                   assistant=assistant, cleanup=(m != "off"), use_silero=False, speculate=False)
            tr = Transcript(text, avg_logprob=-0.2 if m != "before_answer" else -1.0, no_speech_prob=0.01,
                            audio_s=3.0, confident=(m != "before_answer"))
            trace = TurnTrace()
            trace.mark("transcript")
            res = await session._clean_and_answer(tr, trace, {}, False)  # the policy step of a voice turn
            ctx.rec.reset()
            ft = trace.marks.get("first_token")
            if ft is not None:
                ttft[m].append(ft - trace.marks["transcript"])
            policy[m].append(res.get("cleanup_policy"))
    t_sum = {m: summary(v) for m, v in ttft.items()}
    base = t_sum["off"]["median"]
    adds = {m: (_r(t_sum[m]["median"] - base, 1) if base is not None and t_sum[m]["median"] is not None else None)
            for m in modes if m != "off"}
    return {"transcript_to_first_token_ms": t_sum, "adds_to_first_token_ms": adds,
            "policy_seen": {m: _count(v) for m, v in policy.items()},
            "policy_note": "after_answer: confident transcript, answered at once, cleanup once the answer is out; "
                           "before_answer: unsure transcript, cleanup (bounded at 2 s) runs first"}


def _analyse(trace: TurnTrace, calls: list[Call], events: list[tuple[float, str]], *, voice: dict | None = None) -> dict:
    """One turn's numbers and its critical-path segments, in ms from trace.t0."""
    t0 = trace.t0_ms
    rel = lambda x: x - t0  # noqa: E731
    total = trace.marks.get("done")
    seg: dict[str, float] = {}
    asr_iv: list[tuple[float, float]] = []
    if voice is not None:
        close = float(voice.get("vad_wait_ms") or 0.0)
        seg["silence window"] = close
        asr = next((s for s in trace.stages if s.name == "asr"), None)
        if asr is not None and asr.end_ms is not None:
            asr_iv.append((asr.start_ms, asr.end_ms))
            seg["ASR (after close)"] = max(0.0, asr.end_ms - close)
        cl = next((s for s in trace.stages if s.name == "cleanup"), None)
        if cl is not None and voice.get("cleanup_policy") == "before_answer" and cl.end_ms is not None:
            seg["cleanup (before answer)"] = max(0.0, cl.end_ms - max(cl.start_ms, close))
    route = trace.stage_ms("route") or 0.0
    seg["route"] = route
    route_st = next((s for s in trace.stages if s.name == "route"), None)
    streams = [c for c in calls if c.kind == "stream" and c.purpose == "answer"]
    answer = streams[-1] if streams else None
    in_route = lambda c: route_st is not None and route_st.end_ms is not None and \
        rel(c.start_ms) >= route_st.start_ms - 1 and rel(c.end_ms) <= route_st.end_ms + 1  # noqa: E731
    tool_llm = sum(c.wall_ms for c in calls if c is not answer and c.purpose != "cleanup" and not in_route(c))
    seg["tool choice (LLM)"] = tool_llm
    tool_run, pending = 0.0, None
    for t, kind in events:
        if kind == "tool_call":
            pending = t
        elif kind == "tool_result" and pending is not None:
            tool_run += t - pending
            pending = None
    seg["tool run"] = tool_run
    if answer is not None:
        ft = answer.first_token_ms or answer.end_ms
        seg["answer → first token"] = ft - answer.start_ms
        seg["answer → last token"] = answer.end_ms - ft
    if total is not None:
        seg["app & glue"] = max(0.0, total - sum(seg.values()))
    server_iv = [(rel(c.end_ms) - c.server_ms, rel(c.end_ms)) for c in calls if c.end_ms]
    lo = seg.get("silence window", 0.0)
    busy = union_ms(server_iv + asr_iv, lo, total) if total is not None else None
    out = {
        "first_token_ms": trace.marks.get("first_token"),
        "first_output_ms": trace.marks.get("first_output"),
        "last_token_ms": total,
        "route_ms": route,
        "segments": seg,
        "server_ms": union_ms(server_iv, lo, total) if total is not None else None,
        "request_wall_ms": sum(c.wall_ms for c in calls),
        "app_overhead_ms": (total - lo - busy) if total is not None else None,
        # the part of it outside any request: the app's own code (routing, tools, history, events)
        "outside_requests_ms": (total - lo - union_ms([(rel(c.start_ms), rel(c.end_ms)) for c in calls if c.end_ms]
                                                      + asr_iv, lo, total)) if total is not None else None,
        "answer_tokens": (answer.timings or {}).get("predicted_n") if answer else None,
        "answer_cache_n": (answer.timings or {}).get("cache_n") if answer else None,
        "answer_prompt_n": (answer.timings or {}).get("prompt_n") if answer else None,
        "route_tokens": sum(int((c.timings or {}).get("predicted_n") or 0) for c in calls if in_route(c)),
        "llm_calls": len(calls),
    }
    if voice is not None:
        close = lo
        out["close_to_first_token_ms"] = None if out["first_token_ms"] is None else out["first_token_ms"] - close
        out["close_to_first_output_ms"] = None if out["first_output_ms"] is None else out["first_output_ms"] - close
    return out


async def _typed_turn(ctx: "Ctx", config: str, u: U.Utterance) -> dict:
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
    s = _analyse(trace, calls, events)
    route = res.get("route") or {}
    s.update(text=u.text, agent=route.get("agent"), decided_by=route.get("decided_by"), model=res.get("model"),
             model_said=(route.get("detail") or {}).get("model_said"), error=res.get("error"),
             tool_calls=len(res.get("tool_calls") or []))
    return s


async def _voice_turn(ctx: "Ctx", config: str, u: U.Utterance) -> dict:
    from ..pipeline.assistant import run_text_turn
    from ..speech.voice_turn import VoiceSession

    ctx.rec.reset()
    events: list[tuple[float, str]] = []
    holder: dict = {}

    async def answer_fn(text, *, config, trace, source="voice", on_event=None, assistant=None, endpoints=None,
                        auto_confirm=None):
        holder["trace"] = trace
        return await run_text_turn(text, config=config, trace=trace, source=source, on_event=on_event,
                                   assistant=assistant, auto_confirm=False)

    def on_event(ev) -> None:
        if ev.kind == "answer":
            k = getattr(ev.data.get("event"), "kind", None)
            if k in ("tool_call", "tool_result") and "trace" in holder:
                events.append((now_ms() - holder["trace"].t0_ms, k))

    cleanup_client = ctx.rec.client("heavy") if config == "single" else None
    session = VoiceSession(ctx.cfg, transcriber=ctx.transcriber, glossary=ctx.glossary, on_event=on_event,
                           endpoints=ctx.rec, assistant=ctx.assistants[config], answer_fn=answer_fn,
                           cleanup_client=cleanup_client)
    res = await session.run_file(str(ctx.wavs[u.key]), realtime=True)
    calls = ctx.rec.reset()
    trace = holder.get("trace")
    if trace is None:
        return {"text": u.text, "error": res.get("error") or "no answer started"}
    t = res.get("timings") or {}
    s = _analyse(trace, calls, events, voice={"vad_wait_ms": t.get("vad_wait_ms"),
                                              "cleanup_policy": res.get("cleanup_policy")})
    route = res.get("route") or {}
    s.update(text=u.text, transcript=res.get("transcript_raw"), answered_text=res.get("answered_text"),
             cleanup_policy=res.get("cleanup_policy"), speculation_reused=t.get("speculation_reused"),
             asr_ms=t.get("asr_ms"), vad_wait_ms=t.get("vad_wait_ms"), agent=route.get("agent"),
             route_speculative="speculative" in (route.get("detail") or {}),
             model=res.get("model"), error=res.get("error"))
    return s


def _summarise_turns(samples: dict[str, list[dict]], voice: bool) -> dict:
    keys = ["first_token_ms", "first_output_ms", "last_token_ms", "route_ms", "app_overhead_ms",
            "outside_requests_ms", "server_ms",
            "answer_tokens", "answer_cache_n", "route_tokens"]
    if voice:
        keys += ["close_to_first_token_ms", "close_to_first_output_ms", "asr_ms", "vad_wait_ms"]
    out = {}
    for c, ss in samples.items():
        ok = [s for s in ss if not s.get("error") and s.get("last_token_ms") is not None]
        d = {k: summary([s.get(k) for s in ok]) for k in keys}
        names: list[str] = []
        for s in ok:
            for n in s["segments"]:
                if n not in names:
                    names.append(n)
        d["segments_median_ms"] = {n: summary([s["segments"].get(n, 0.0) for s in ok])["median"] for n in names}
        d["breakdown"] = _breakdown(ok, names)
        d["n"] = len(ok)
        d["errors"] = [s.get("error") for s in ss if s.get("error")]
        d["agents"] = _count(s.get("agent") for s in ok)
        if voice:
            d["cleanup_policy"] = _count(s.get("cleanup_policy") for s in ok)
            d["speculation_reused"] = _count(s.get("speculation_reused") for s in ok)
            d["route_speculative"] = _count(s.get("route_speculative") for s in ok)
        else:
            d["router_model_said"] = _count(s.get("model_said") for s in ok if s.get("model_said") is not None)
        out[c] = d
    return out


def _breakdown(ok: list[dict], names: list[str]) -> dict:
    """An additive picture of a typical turn: for each question, its median turn (by total time,
    over the repeats); then the mean over the questions of those turns' stages and marks. Unlike
    per-stage medians, the stages add up to the total shown."""
    by_q: dict[str, list[dict]] = {}
    for s in ok:
        by_q.setdefault(s.get("text", ""), []).append(s)
    picked = []
    for ss in by_q.values():
        ss = sorted(ss, key=lambda s: s["last_token_ms"])
        picked.append(ss[(len(ss) - 1) // 2])
    if not picked:
        return {}

    def mean(vals):
        v = [x for x in vals if x is not None]
        return round(sum(v) / len(v), 2) if v else None

    return {"segments_ms": {n: mean([s["segments"].get(n, 0.0) for s in picked]) for n in names},
            "first_token_ms": mean([s.get("first_token_ms") for s in picked]),
            "first_output_ms": mean([s.get("first_output_ms") for s in picked]),
            "last_token_ms": mean([s.get("last_token_ms") for s in picked]),
            "questions": len(picked),
            "method": "each question's median turn, averaged over the questions"}


async def bench_turns(ctx: "Ctx") -> dict:
    out: dict = {"configs": CONFIG_LABELS, "answer_tokens_cap": ctx.opt.answer_tokens}
    typed = {c: [] for c in CONFIGS}
    reps = max(1, ctx.opt.repeats)
    # Each question is asked by the three configurations back to back, in an order that rotates,
    # so a burst of load from elsewhere hits them alike.
    for r in range(reps):
        for i, u in enumerate(ctx.sel["typed"]):
            for c in _rot(CONFIGS, r + i):
                typed[c].append(await _typed_turn(ctx, c, u))
        ctx.opt.log(f"  typed turns: repeat {r + 1}/{reps}")
    out["typed"] = _summarise_turns(typed, voice=False)
    out["typed_samples"] = typed
    voice = {c: [] for c in CONFIGS}
    await ctx.transcriber_ready()
    vreps = max(1, reps - 1) if not ctx.opt.quick else 1
    for r in range(vreps):
        for i, u in enumerate(ctx.sel["voice"]):
            if u.key not in ctx.wavs:
                continue
            for c in _rot(CONFIGS, r + i):
                voice[c].append(await _voice_turn(ctx, c, u))
        ctx.opt.log(f"  voice turns: repeat {r + 1}/{vreps}")
    out["voice"] = _summarise_turns(voice, voice=True)
    out["voice_samples"] = voice
    try:
        out["overhead_parts_ms"] = await _overhead_parts(ctx)
    except Exception as e:  # informative only
        out["overhead_parts_ms"] = {"error": f"{type(e).__name__}: {e}"}
    return out


async def _overhead_parts(ctx: "Ctx") -> dict:
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


async def bench_ui(ctx: "Ctx") -> dict:
    """The window in a subprocess (offscreen Qt): stalls during a streamed answer and a voice turn,
    launch → window shown, resident memory."""
    out_json = ctx.opt.out_dir / "ui_probe.json"
    wav = ctx.wavs.get(ctx.sel["voice"][0].key) if ctx.sel["voice"] else None
    cmd = [sys.executable, "-m", "bestbox.bench.ui_probe", "--out", str(out_json),
           "--launches", "1" if ctx.opt.quick else "3", "--answer-tokens", str(ctx.opt.answer_tokens)]
    if wav:
        cmd += ["--wav", str(wav)]
    env = dict(os.environ)
    env.setdefault("QT_QPA_PLATFORM", "offscreen")
    env["BESTBOX_CONFIG"] = str(ctx.config_path) if ctx.config_path else env.get("BESTBOX_CONFIG", "")
    if not env["BESTBOX_CONFIG"]:
        env.pop("BESTBOX_CONFIG")
    loop = asyncio.get_running_loop()
    proc = await loop.run_in_executor(None, lambda: subprocess.run(cmd, env=env, capture_output=True, text=True,
                                                                    timeout=600))
    if not out_json.exists():
        raise RuntimeError(f"ui probe failed (exit {proc.returncode}): {(proc.stderr or proc.stdout)[-1500:]}")
    res = json.loads(out_json.read_text())
    if proc.returncode != 0:
        res.setdefault("errors", []).append(f"exit {proc.returncode}: {(proc.stderr or '')[-800:]}")
    return res


async def bench_supervision(ctx: "Ctx") -> dict:
    """A third, throw-away server (demo model, free port): start, SIGKILL, detection, restart."""
    from .supervision import measure_supervision

    return await measure_supervision(ctx.cfg, repeats=1 if ctx.opt.quick else 3, log=ctx.opt.log)


# --------------------------------------------------------------------------------------------------
# the run

@dataclass
class Ctx:
    cfg: Any
    mgr: Any
    opt: Options
    config_path: Path | None = None
    sel: dict = field(default_factory=dict)
    rec: Any = None
    wavs: dict = field(default_factory=dict)
    transcriber: Any = None
    glossary: Any = None
    assistants: dict = field(default_factory=dict)
    _closers: list = field(default_factory=list)

    async def transcriber_ready(self):
        await self.transcriber.load_async()
        return self.transcriber


def _machine() -> dict:
    cpu = platform.processor() or ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        import psutil

        mem_gb = round(psutil.virtual_memory().total / 2**30, 1)
    except Exception:
        mem_gb = None
    return {"cpu": cpu, "cores": os.cpu_count(), "memory_gb": mem_gb, "os": platform.platform(),
            "python": platform.python_version(), "gpu": None}


async def run_bench(cfg, mgr, opt: Options, *, config_path: Path | None = None) -> dict:
    from .. import __version__
    from ..pipeline.assistant import Assistant
    from ..pipeline.history import History
    from ..routing.corrections import CorrectionStore
    from ..routing.router import Router
    from ..speech.glossary import Glossary
    from ..speech.transcriber import Transcriber

    opt.out_dir.mkdir(parents=True, exist_ok=True)
    t_start = time.time()
    res: dict = {"meta": {"date": time.strftime("%Y-%m-%d %H:%M"), "bestbox": __version__, "machine": _machine(),
                          "load_avg_start": [round(x, 2) for x in os.getloadavg()], "quick": opt.quick,
                          "repeats": opt.repeats, "answer_tokens": opt.answer_tokens, "note": NOTE},
                 "errors": {}}
    ctx = Ctx(cfg, mgr, opt, config_path=config_path, sel=U.selection(opt.quick))
    ctx.rec = RecordingEndpoints(mgr, answer_cap=opt.answer_tokens)
    for name in ("light", "heavy"):
        if mgr.client(name) is None:
            raise RuntimeError(f"the {name} server is not running; `bestbox bench` needs both "
                               f"({mgr.snapshot(name).message})")
    ctx.transcriber = Transcriber(cfg)
    ctx.transcriber.load_async()
    # The glossary reads the company names from the demo database: make sure it exists first, as
    # the app's start-up does, or a fresh data dir benchmarks the built-in terms only.
    from ..agents.data import ensure_database

    try:
        await asyncio.get_running_loop().run_in_executor(None, ensure_database, cfg)
    except (OSError, FileNotFoundError) as e:
        res["errors"]["database"] = str(e)
    ctx.glossary = Glossary.from_config(cfg)
    wav_utts = list(ctx.sel["voice"]) + list(ctx.sel["asr"].values())
    try:
        ctx.wavs = U.make_wavs(opt.out_dir, wav_utts)
    except U.EspeakMissing as e:
        res["errors"]["wav"] = str(e)
    pin = {u.text: u.agent for u in list(U.TYPED) + list(U.VOICE) + [U.TYPED_WARMUP]}
    history = History(opt.out_dir / "bench-history.sqlite")
    store = CorrectionStore(opt.out_dir / "bench-routing.sqlite")
    ctx._closers += [history.close, store.close]
    ctx.assistants = {
        "single": Assistant(cfg, ctx.rec, history=history, router=StructuredRouter("heavy", pin)),
        "dual": Assistant(cfg, ctx.rec, history=history, router=StructuredRouter("light", pin)),
        "bestbox": Assistant(cfg, ctx.rec, history=history, router=Router(cfg, store)),
    }
    db = await ctx.assistants["bestbox"].database()  # generated once (seconds), shared
    for a in ctx.assistants.values():
        a._db_path = db

    sections = [
        ("servers", bench_servers), ("router", bench_router), ("asr", bench_asr), ("cleanup", bench_cleanup),
        ("turns", bench_turns), ("ui", bench_ui), ("supervision", bench_supervision),
    ]
    try:
        for name, fn in sections:
            if name not in opt.sections or (name == "ui" and not opt.ui):
                continue
            if name == "asr" and not ctx.wavs:
                res["errors"][name] = "no spoken clips (espeak-ng missing)"
                continue
            t = time.time()
            opt.log(f"{name} ...")
            try:
                res[name] = await fn(ctx)
            except Exception as e:  # one broken section must not lose the others
                res["errors"][name] = f"{type(e).__name__}: {e}"
                res.setdefault("tracebacks", {})[name] = traceback.format_exc()[-3000:]
                opt.log(f"  {name} failed: {type(e).__name__}: {e}")
            res.setdefault("section_s", {})[name] = round(time.time() - t, 1)
    finally:
        for f in ctx._closers:
            try:
                f()
            except Exception:
                pass
        ctx.transcriber.close()
    res["meta"]["duration_s"] = round(time.time() - t_start, 1)
    res["meta"]["load_avg_end"] = [round(x, 2) for x in os.getloadavg()]
    res["meta"]["models"] = {
        n: (res.get("servers", {}).get(n, {}).get("model_name") or mgr.snapshot(n).model_name) for n in ("light", "heavy")}
    wname = getattr(ctx.transcriber, "model_name", "")
    res["meta"]["models"]["whisper"] = "tiny.en (bundled)" if wname in ("", "model") else wname
    return res
