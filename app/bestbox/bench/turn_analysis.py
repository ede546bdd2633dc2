"""One whole turn's numbers from its trace and the recorded server calls, and their summary over
the repeats: where the time of a turn goes (critical-path segments), app overhead vs server time."""
from __future__ import annotations

from ..stats import summary
from ..trace import TurnTrace
from .context import count
from .recording import Call, union_ms


def analyse(trace: TurnTrace, calls: list[Call], events: list[tuple[float, str]], *, voice: dict | None = None) -> dict:
    """One turn's numbers and its critical-path segments, in ms from trace.t0."""
    t0 = trace.t0_ms
    rel = lambda x: x - t0  # noqa: E731
    total = trace.marks.get("done")
    seg: dict[str, float] = {}
    asr_iv = _voice_segments(trace, voice, seg) if voice is not None else []
    route = trace.stage_ms("route") or 0.0
    seg["route"] = route
    route_st = next((s for s in trace.stages if s.name == "route"), None)
    streams = [c for c in calls if c.kind == "stream" and c.purpose == "answer"]
    answer = streams[-1] if streams else None
    in_route = lambda c: route_st is not None and route_st.end_ms is not None and \
        rel(c.start_ms) >= route_st.start_ms - 1 and rel(c.end_ms) <= route_st.end_ms + 1  # noqa: E731
    # Only what ran after the close is on the turn's path: a tool choice started on the speculative
    # transcript (agents/ahead.py) spends the part before it inside the silence window.
    close = seg.get("silence window", 0.0)
    tool_llm = sum(max(0.0, rel(c.end_ms) - max(rel(c.start_ms), close)) for c in calls
                   if c is not answer and c.purpose not in ("cleanup", "prefill") and not in_route(c))
    seg["tool choice (LLM)"] = tool_llm
    seg["tool run"] = _tool_run_ms(events)
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
        "tool_choice_tokens": sum(int((c.timings or {}).get("predicted_n") or 0) for c in calls
                                  if c.purpose == "tool_choice"),
        "tool_choice_substituted": sum(bool(getattr(c, "substituted", False)) for c in calls),
    }
    out["tool_choice"] = tool_choice_timeline(trace, lo if voice is not None else None)
    pre = next((c for c in calls if c.purpose == "prefill"), None)
    out["answer_prefill"] = None if pre is None else {
        "start_ms": round(rel(pre.start_ms), 1), "end_ms": round(rel(pre.end_ms), 1),
        **{k: pre.timings[k] for k in ("prompt_n", "cache_n", "prompt_ms") if k in (pre.timings or {})}}
    if voice is not None:
        close = lo
        out["close_to_first_token_ms"] = None if out["first_token_ms"] is None else out["first_token_ms"] - close
        out["close_to_first_output_ms"] = None if out["first_output_ms"] is None else out["first_output_ms"] - close
    return out


def tool_choice_timeline(trace: TurnTrace, close: float | None) -> dict | None:
    """The turn's first tool choice from its trace: made ahead (in the silence window) or by the turn,
    its start and end from t0 (a voice turn's last voiced sample) and from the close of recording,
    and the server's timings (agents.ahead.server_detail)."""
    st = next((s for s in trace.stages if s.name in ("tool_choice_ahead", "tool_choice")), None)
    if st is None or st.end_ms is None:
        return None
    out = {"ahead": st.name == "tool_choice_ahead", "start_ms": round(st.start_ms, 1), "end_ms": round(st.end_ms, 1),
           "calls": sum(s.name in ("tool_choice_ahead", "tool_choice") for s in trace.stages), **st.detail}
    if close is not None:
        out.update(start_after_close_ms=round(st.start_ms - close, 1), end_after_close_ms=round(st.end_ms - close, 1))
    return out


def _voice_segments(trace: TurnTrace, voice: dict, seg: dict[str, float]) -> list[tuple[float, float]]:
    """The voice part of the critical path (silence window, Whisper after the close, a cleanup that
    ran before the answer) into seg; returns Whisper's interval, which counts as busy time."""
    close = float(voice.get("vad_wait_ms") or 0.0)
    seg["silence window"] = close
    asr_iv: list[tuple[float, float]] = []
    asr = next((s for s in trace.stages if s.name == "asr"), None)
    if asr is not None and asr.end_ms is not None:
        asr_iv.append((asr.start_ms, asr.end_ms))
        seg["ASR (after close)"] = max(0.0, asr.end_ms - close)
    cl = next((s for s in trace.stages if s.name == "cleanup"), None)
    if cl is not None and voice.get("cleanup_policy") == "before_answer" and cl.end_ms is not None:
        seg["cleanup (before answer)"] = max(0.0, cl.end_ms - max(cl.start_ms, close))
    return asr_iv


def _tool_run_ms(events: list[tuple[float, str]]) -> float:
    """Time between each tool_call event and its tool_result."""
    total, pending = 0.0, None
    for t, kind in events:
        if kind == "tool_call":
            pending = t
        elif kind == "tool_result" and pending is not None:
            total += t - pending
            pending = None
    return total


def summarise_turns(samples: dict[str, list[dict]], voice: bool) -> dict:
    keys = ["first_token_ms", "first_output_ms", "last_token_ms", "route_ms", "app_overhead_ms",
            "outside_requests_ms", "server_ms",
            "answer_tokens", "answer_cache_n", "answer_prompt_n", "route_tokens", "tool_choice_tokens"]
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
        d["breakdown"] = breakdown(ok, names)
        d["n"] = len(ok)
        # Questions that ran a tool against those that did not: the tool step is the big difference.
        d["first_token_ms_tool"] = summary([s.get("first_token_ms") for s in ok if s.get("tool_calls")])
        d["first_token_ms_no_tool"] = summary([s.get("first_token_ms") for s in ok if not s.get("tool_calls")])
        d["errors"] = [s.get("error") for s in ss if s.get("error")]
        d["agents"] = count(s.get("agent") for s in ok)
        if voice:
            d["cleanup_policy"] = count(s.get("cleanup_policy") for s in ok)
            d["speculation_reused"] = count(s.get("speculation_reused") for s in ok)
            d["route_speculative"] = count(s.get("route_speculative") for s in ok)
            d["tool_choice_ahead"] = count(s.get("tool_choice_ahead") for s in ok if s.get("tool_calls"))
            d["tool_choice"] = _tool_choice_summary([s.get("tool_choice") for s in ok])
        else:
            d["router_model_said"] = count(s.get("model_said") for s in ok if s.get("model_said") is not None)
        out[c] = d
    return out


def breakdown(ok: list[dict], names: list[str]) -> dict:
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


def _tool_choice_summary(timelines: list[dict | None]) -> dict:
    """Medians of the first tool choice's timeline over the turns that made one."""
    tl = [t for t in timelines if t]
    keys = ("start_after_close_ms", "end_after_close_ms", "start_ms", "end_ms", "after_asked_ms", "prompt_n",
            "cache_n", "prompt_ms", "predicted_n", "predicted_ms", "calls")
    return {"n": len(tl), "ahead": sum(bool(t.get("ahead")) for t in tl),
            **{k: summary([t.get(k) for t in tl if t.get(k) is not None])["median"] for k in keys}}
