"""The terminal table of `bestbox bench`: every section with median / p90 / max, the ratios
single/BestBox and dual/BestBox, and the target checks."""
from __future__ import annotations

from .retrieval import format_section as _format_retrieval
from .router import ROUTER_LABELS, ROUTER_METHODS
from .hearing import hearing_lines
from .turn_end import turn_end_lines
from .wake import wake_lines
from .turns import CONFIGS

TARGETS_NOTE = "GPU target; this machine runs small models on CPU: reported, not checked"


def _gpu_checked(res: dict) -> bool:
    """GPU targets are checked where they mean something: a GPU in the machine and models of the real
    sizes on both servers (random weights time like the real ones), not the CPU demo model."""
    meta = res.get("meta") or {}
    if not (meta.get("machine") or {}).get("gpu"):
        return False
    if "demo_model" in meta:
        return not meta["demo_model"]
    servers = [s for s in (res.get("servers") or {}).values() if isinstance(s, dict)]
    return bool(servers) and not any(s.get("demo_model", True) for s in servers)


def _gpu_check(res: dict, check, name: str, value, limit: float) -> None:
    if _gpu_checked(res):
        check(name, value, f"< {limit:g} ms on GPU", value < limit)
    else:
        check(name, value, f"< {limit:g} ms on GPU", None, TARGETS_NOTE)


def _med(s: dict | None):
    return None if not s else s.get("median")


def _f(v, nd: int = 0, unit: str = "") -> str:
    if v is None:
        return "-"
    if isinstance(v, (int, float)):
        return f"{v:,.{nd}f}{unit}"
    return str(v)


def _ms(v) -> str:
    """Milliseconds, readable at any size."""
    if v is None:
        return "-"
    if abs(v) < 10:
        return f"{v:.2f}"
    if abs(v) < 100:
        return f"{v:.1f}"
    return f"{v:,.0f}"


def _trip(s: dict | None) -> str:
    if not s or not s.get("n"):
        return "-"
    return f"{_ms(s['median'])} / {_ms(s['p90'])} / {_ms(s['max'])}"


def _ratio(a, b) -> str:
    return f"{a / b:.2f}x" if a is not None and b else "-"


def add_checks(res: dict) -> list[dict]:
    """Target checks and ratios, stored in res['targets'] / res['ratios']."""
    checks: list[dict] = []

    def check(name: str, value, target: str, ok: bool | None, note: str = "") -> None:
        checks.append({"name": name, "value": value, "target": target, "ok": ok, **({"note": note} if note else {})})

    _router_checks(res, check)
    _turn_checks(res, check)
    _ui_checks(res, check)
    _calibration_checks(res, check)
    res["targets"] = checks
    res["ratios"] = _ratios(res)
    return checks


def _calibration_checks(res: dict, check) -> None:
    if res.get("calibration"):
        from .calibration import checks as calibration_checks

        for name, value, target, ok in calibration_checks(res["calibration"]):
            check(name, value, target, ok)


def _router_checks(res: dict, check) -> None:
    r = (res.get("router") or {}).get("methods") or {}
    lg = r.get("light_grammar", {}).get("generated_tokens") or {}
    if lg.get("n"):
        check("light-LLM router: generated tokens per decision (max)", lg["max"], "<= 4", lg["max"] <= 4)
    fp = r.get("fast_path", {}).get("ms") or {}
    if fp.get("n"):
        check("fast path p50", round(fp["median"], 3), "< 5 ms", fp["median"] < 5)
    lm = r.get("light_grammar", {}).get("ms") or {}
    if lm.get("n"):
        _gpu_check(res, check, "light-LLM router median", round(lm["median"], 1), 50)


def _turn_checks(res: dict, check) -> None:
    turns = res.get("turns") or {}
    for kind in ("typed", "voice"):
        bb = (turns.get(kind) or {}).get("bestbox") or {}
        ov = bb.get("app_overhead_ms") or {}
        if ov.get("n"):
            out_req = (bb.get("outside_requests_ms") or {}).get("median")
            check(f"app overhead per {kind} turn (BestBox, median)", round(ov["median"], 1), "< 20 ms",
                  ov["median"] < 20, "" if out_req is None else
                  f"{out_req:.1f} ms of it outside any request (app code); the rest is HTTP, chat template and "
                  "tokenizing around the server's timed prompt/generation")
    vb = (turns.get("voice") or {}).get("bestbox") or {}
    # Issue 9's targets: the close of recording -> first visible output, and the last voiced sample ->
    # first answer token with the default silence window.
    c2o = vb.get("close_to_first_output_ms") or {}
    if c2o.get("n"):
        _gpu_check(res, check, "voice: close of recording -> first output (median)", round(c2o["median"]), 300)
    for key, label in (("first_token_ms", "all"), ("first_token_ms_tool", "tool questions"),
                       ("first_token_ms_no_tool", "no-tool questions")):
        s2t = vb.get(key) or {}
        if s2t.get("n"):
            _gpu_check(res, check, f"voice: last voiced sample -> first token, {label} (median)",
                       round(s2t["median"]), 800)


def _ui_checks(res: dict, check) -> None:
    ui = (res.get("ui") or {}).get("stalls") or {}
    for k in ("answer", "voice"):
        st = ui.get(k) or {}
        if "max_stall_ms" in st:
            check(f"UI stall during a {'streamed answer' if k == 'answer' else 'voice turn'} (max)",
                  st["max_stall_ms"], "< 50 ms", st["max_stall_ms"] < 50)
    la = (res.get("ui") or {}).get("launch") or {}
    if la.get("launch_to_shown_ms"):
        worst = max(la["launch_to_shown_ms"])
        check("launch -> window shown (worst)", round(worst), "< 1500 ms", worst < 1500)
    sv = res.get("supervision") or {}
    if sv.get("kill_to_crashed_ms"):
        worst = max(sv["kill_to_crashed_ms"])
        check("server killed -> crash detected (worst)", round(worst), "< 2000 ms", worst < 2000)


def _ratios(res: dict) -> dict:
    """single/BestBox and dual/BestBox for whole turns; each design router / BestBox's router."""
    turns = res.get("turns") or {}
    ratios: dict = {}
    for kind, keys in (("typed", ("first_token_ms", "last_token_ms")),
                       ("voice", ("first_token_ms", "close_to_first_token_ms", "last_token_ms"))):
        t = turns.get(kind) or {}
        b = t.get("bestbox") or {}
        for key in keys:
            bv = _med(b.get(key))
            for c in ("single", "dual"):
                v = _med((t.get(c) or {}).get(key))
                if bv and v is not None:
                    ratios[f"{kind}.{key}.{c}/bestbox"] = round(v / bv, 2)
    rm = (res.get("router") or {}).get("methods") or {}
    bh = _med((rm.get("bestbox_hybrid") or {}).get("ms"))
    for m in ("heavy_json", "light_json", "heavy_grammar", "light_grammar"):
        v = _med((rm.get(m) or {}).get("ms"))
        if bh and v is not None:
            ratios[f"router.{m}/bestbox_hybrid"] = round(v / bh, 1)
    return ratios


# One formatter per section, in the order the report shows them: a new section adds one here.
def _servers_lines(res: dict, add) -> None:
    """Decode and prompt speed per server."""
    sv = res.get("servers") or {}
    if sv:
        add("")
        add("Servers                 decode tok/s        prompt tok/s (uncached)   build")
        for n in ("light", "heavy"):
            s = sv.get(n) or {}
            d = (s.get("decode") or {}).get("predicted_per_second")
            p = (s.get("prompt_speed") or {}).get("prompt_per_second")
            b = s.get("build_info") or "-"
            add(f"  {n:<21} {_f(_med(d), 1):<19} {_f(_med(p), 0):<25} {b}")


def _router_lines(res: dict, add) -> None:
    """One row per routing method."""
    r = res.get("router") or {}
    if r.get("methods"):
        add("")
        add(f"Router decision ({len(r.get('utterances', []))} requests x {r.get('repeats')} repeats)"
            f"{'':<8}{'ms':<24}{'gen tokens':>11}{'cache_n/prompt_n':>18}{'right':>7}")
        for k in ROUTER_METHODS:
            d = r["methods"].get(k)
            if not d:
                continue
            gen = d.get("generated_tokens") or {}
            cache = f"{_f(_med(d.get('cache_n')))}/{_f(_med(d.get('prompt_n')))}" if (d.get("prompt_n") or {}).get("n") else "-"
            gen_s = f"{_f(gen.get('median'))} (max {_f(gen.get('max'))})" if gen.get("n") else "-"
            extra = ""
            if d.get("decided_by"):
                extra = "  decided by " + ", ".join(f"{a} {b}" for a, b in d["decided_by"].items())
            acc = d.get("accuracy")
            add(f"  {ROUTER_LABELS[k]:<48} {_trip(d.get('ms')):<24}{gen_s:>11}{cache:>18}"
                f"{'-' if acc is None else f'{acc * 100:.0f}%':>7}{extra}")
        rat = res.get("ratios", {})
        if rat.get("router.heavy_json/bestbox_hybrid"):
            add(f"  design before (JSON on heavy) / BestBox router: {rat['router.heavy_json/bestbox_hybrid']}x; "
                f"design after (JSON on light) / BestBox router: {rat.get('router.light_json/bestbox_hybrid')}x")


def _asr_lines(res: dict, add) -> None:
    """Whisper per utterance length."""
    a = res.get("asr") or {}
    if a.get("lengths"):
        add("")
        add(f"ASR (Whisper {a.get('model')}, {a.get('compute_type')}, {a.get('cpu_threads')} threads)"
            f"   audio s   ms{'':<22}RTF (median)   transcript")
        for x in a["lengths"]:
            add(f"  ~{x['target_s']:>2} s utterance{'':<30} {x['audio_s']:>5.1f}   {_trip(x['ms']):<24}"
                f"{_f(_med(x['rtf']), 3):<15}{x.get('transcript', '')[:60]}")


def _cleanup_lines(res: dict, add) -> None:
    """Cleanup latency and what it adds to the first token."""
    c = res.get("cleanup") or {}
    if c.get("latency_ms"):
        add("")
        add(f"ASR cleanup on light: {_trip(c['latency_ms'])} ms, {_f(_med(c.get('generated_tokens')))} tokens, "
            f"{_f((c.get('accepted_share') or 0) * 100)}% accepted, {c.get('over_2s_bound')} over the 2 s bound")
        add(f"  glossary: {c.get('glossary')} ({c.get('glossary_terms')} terms); kept raw because: "
            f"{c.get('kept_raw_because') or {}}")
        if c.get("shipped_glossary_error"):
            add(f"  WARNING: with the shipped glossary every cleanup request fails: {c['shipped_glossary_error'][:160]}")
        t = c.get("transcript_to_first_token_ms") or {}
        adds = c.get("adds_to_first_token_ms") or {}
        add("  transcript → first answer token:  cleanup off " + _trip(t.get("off"))
            + f"  | confident (after answer) {_trip(t.get('after_answer'))} (adds {_f(adds.get('after_answer'))})"
            + f"  | unsure (before answer) {_trip(t.get('before_answer'))} (adds {_f(adds.get('before_answer'))})")


def _turns_lines(res: dict, add) -> None:
    """Whole typed and voice turns, single / dual / BestBox side by side."""
    turns = res.get("turns") or {}
    for kind, rows in (("typed", [("input → first token", "first_token_ms"),
                                  ("input → last token", "last_token_ms"),
                                  ("  route", "route_ms"),
                                  ("  app overhead (not server)", "app_overhead_ms"),
                                  ("    of it outside requests", "outside_requests_ms"),
                                  ("  server busy", "server_ms")]),
                       ("voice", [("last voiced sample → first token", "first_token_ms"),
                                  ("  tool questions", "first_token_ms_tool"),
                                  ("  questions without a tool", "first_token_ms_no_tool"),
                                  ("close of recording → first token", "close_to_first_token_ms"),
                                  ("close of recording → first output", "close_to_first_output_ms"),
                                  ("last voiced sample → last token", "last_token_ms"),
                                  ("  silence window (VAD)", "vad_wait_ms"),
                                  ("  Whisper", "asr_ms"),
                                  ("  route", "route_ms"),
                                  ("  app overhead (not server/Whisper)", "app_overhead_ms"),
                                  ("    of it outside requests", "outside_requests_ms")])):
        t = turns.get(kind) or {}
        if not t:
            continue
        add("")
        n = (t.get("bestbox") or {}).get("n")
        add(f"Whole {kind} turn ({n} turns per config, answer ≤ {turns.get('answer_tokens_cap')} tokens)"
            + "".join(f"{c:>26}" for c in ("single", "dual", "BestBox")) + f"{'single/BB':>11}{'dual/BB':>9}")
        for label, key in rows:
            cells = [_trip((t.get(c) or {}).get(key)) for c in CONFIGS]
            b = _med((t.get("bestbox") or {}).get(key))
            ra = [_ratio(_med((t.get(c) or {}).get(key)), b) if not label.startswith("  ") else "" for c in ("single", "dual")]
            add(f"  {label:<42}" + "".join(f"{x:>26}" for x in cells) + f"{ra[0]:>11}{ra[1]:>9}")
        if kind == "voice":
            pol = (t.get("bestbox") or {}).get("cleanup_policy")
            spec = (t.get("bestbox") or {}).get("speculation_reused")
            rspec = (t.get("bestbox") or {}).get("route_speculative")
            ahead = (t.get("bestbox") or {}).get("tool_choice_ahead")
            add(f"  BestBox cleanup policy: {pol}; speculative transcript reused: {spec}; "
                f"route decided in the silence window: {rspec}; tool choice made in the window: {ahead}")
        parts = turns.get("overhead_parts_ms") or {}
        if kind == "typed" and parts and "error" not in parts:
            add("  app time per turn, timed alone: " + ", ".join(f"{k} {_ms(v)} ms" for k, v in parts.items()))
        errs = {c: (t.get(c) or {}).get("errors") for c in CONFIGS if (t.get(c) or {}).get("errors")}
        if errs:
            add(f"  errors: {errs}")


def _ui_lines(res: dict, add) -> None:
    """Event-loop stalls, launch time, memory."""
    ui = res.get("ui") or {}
    if ui:
        add("")
        st = ui.get("stalls") or {}
        la = ui.get("launch") or {}
        add(f"UI ({ui.get('platform')} Qt)")
        for k, label in (("idle", "event-loop stall, idle (meter resolution)"),
                         ("answer", "event-loop stall during a streamed answer"),
                         ("voice", "event-loop stall during a voice turn")):
            if k in st:
                add(f"  {label:<48} max {_ms(st[k].get('max_stall_ms'))} ms"
                    f" ({st[k].get('stalls_over_50ms')} over 50 ms, {st[k].get('ticks')} ticks)")
        if la.get("launch_to_shown_ms"):
            v = sorted(la["launch_to_shown_ms"])
            add(f"  {'launch → window shown':<48} {' / '.join(_ms(x) for x in v)} ms"
                f" (CPU at shown {la.get('cpu_s_at_shown')} s)")
        if la.get("rss_at_shown_mb") is not None:
            add(f"  {'resident memory, no servers':<48} {la.get('rss_at_shown_mb')} MiB at shown, "
                f"{la.get('rss_settled_mb')} MiB settled (Whisper loaded), "
                f"{st.get('rss_after_turns_mb')} MiB after a typed and a voice turn")  # *_mb: 2**20 bytes
        for e in (st.get("errors") or []) + (la.get("errors") or []):
            add(f"  error: {e}")


def _supervision_lines(res: dict, add) -> None:
    """Start, crash detection and restart of a throw-away server."""
    sv = res.get("supervision") or {}
    if sv:
        add("")
        add(f"Supervision (a throw-away server with {sv.get('model')})")
        for key, label in (("start_to_ready_ms", "start → ready (health + one token)"),
                           ("kill_to_crashed_ms", "SIGKILL → crash detected"),
                           ("crashed_to_ready_ms", f"crash → ready again (backoff from {sv.get('restart_backoff_s')} s)")):
            if sv.get(key):
                add(f"  {label:<48} {' / '.join(_ms(x) for x in sv[key])} ms")


def _load_lines(res: dict, add) -> None:
    """Concurrent turns, and Whisper beside a streamed answer, each against itself alone."""
    ld = res.get("load") or {}
    ta, wb = ld.get("turns_at_once") or {}, ld.get("whisper_beside_answer") or {}
    if not (ta or wb):
        return
    add("")
    add("Load (each against itself alone, same run)")
    if ta:
        add(f"  {ta.get('concurrent')} at once, first token (voice: from the last voiced sample):")
        for k in ("voice", "typed"):
            r = ta.get(k) or {}
            add(f"    {k:<6} alone {_ms(r.get('alone_first_token_ms'))} ms → together "
                f"{_ms(r.get('together_first_token_ms'))} ms ({r.get('slowdown')}×)")
    if wb:
        add(f"  Whisper ({wb.get('clip')}) alone {_ms(wb.get('asr_alone_ms'))} ms → beside a streamed answer "
            f"{_ms(wb.get('asr_during_answer_ms'))} ms ({wb.get('asr_slowdown')}×)")
        add(f"  answer decode alone {wb.get('answer_tokens_per_s_alone')} tok/s → while Whisper runs "
            f"{wb.get('answer_tokens_per_s_during_asr')} tok/s ({wb.get('answer_slowdown')}× slower)")


def _team_lines(res: dict, add) -> None:
    """N clients against one shared heavy server."""
    tm = res.get("team") or {}
    if not tm.get("rows"):
        return
    add("")
    add(f"Team: N clients, back to back, against one heavy server with --parallel {tm.get('parallel')} "
        f"({tm.get('turns_per_client')} answers each, {tm.get('answer_tokens')} tokens)")
    add(f"  {'clients':>7}  {'first token p50 / p95':>22}  {'answer p50 / p95':>20}  errors  deferred"
        "  panel (remote checks)")
    for r in tm["rows"]:
        seen = ", ".join(f"{k} {v}" for k, v in (r.get("remote_states_seen") or {}).items())
        add(f"  {r['clients']:>7}  {_ms(r.get('first_token_p50_ms')):>10} / {_ms(r.get('first_token_p95_ms')):<9}"
            f"  {_ms(r.get('answer_p50_ms')):>9} / {_ms(r.get('answer_p95_ms')):<8}  {r.get('errors'):>6}"
            f"  {str(r.get('server_deferred')):>8}  {seen}")
    add(f"  most clients with first token p95 < 1 s: {tm.get('max_clients_within_1s_first_token_p95')}")


def _retrieval_lines(res: dict, add) -> None:
    for line in _format_retrieval(res.get("retrieval")):
        add(line)


def _records_lines(res: dict, add) -> None:
    from .records import format_section

    for line in format_section(res.get("records")):
        add(line)


def _calibration_lines(res: dict, add) -> None:
    """The fast path's calibration, the whole router and corrections on the spoken held-out set."""
    if res.get("calibration"):
        from .calibration import format_section

        for line in format_section(res["calibration"]):
            add(line)


def _families_lines(res: dict, add) -> None:
    from .families import format_families

    for line in format_families(res.get("families")):
        add(line)


def _speak_lines(res: dict, add) -> None:
    from .speak import speak_lines

    speak_lines(res, add)


SECTION_LINES = (_servers_lines, _router_lines, _calibration_lines, _asr_lines, _cleanup_lines, _turns_lines,
                 _ui_lines, _speak_lines, _supervision_lines, _load_lines, _team_lines, _retrieval_lines,
                 _records_lines, _families_lines, turn_end_lines, hearing_lines, wake_lines)


def format_report(res: dict) -> str:
    """The terminal report: a header, one block per section that ran, the target checks, errors."""
    if "targets" not in res:
        add_checks(res)
    L: list[str] = []
    add = L.append
    m = res.get("meta", {})
    mach = m.get("machine", {})
    models = m.get("models", {})
    add(f"BestBox bench — {m.get('date')} — {mach.get('cores')} CPU cores ({mach.get('cpu')}), "
        f"{mach.get('memory_gb')} GiB, {mach.get('gpu') or 'no GPU'}")  # memory_gb holds GiB (runner._machine: / 2**30)
    add(f"models: light {models.get('light')}, heavy {models.get('heavy')}, Whisper {models.get('whisper')}; "
        f"answers capped at {m.get('answer_tokens')} tokens; {m.get('repeats')} repeats"
        f"{' (quick)' if m.get('quick') else ''}; load avg {m.get('load_avg_start')} → {m.get('load_avg_end')}")
    add("NOTE: " + str(m.get("note", "")))
    add("Times in ms as median / p90 / max.")

    for section in SECTION_LINES:
        section(res, add)
    if res.get("targets"):
        add("")
        add("Targets")
        for c in res["targets"]:
            mark = "ok  " if c["ok"] else ("FAIL" if c["ok"] is False else "info")
            add(f"  [{mark}] {c['name']}: {c['value']} (target {c['target']})"
                + (f" — {c['note']}" if c.get("note") else ""))
    if res.get("errors"):
        add("")
        for k, v in res["errors"].items():
            add(f"error in {k}: {v}")
    if res.get("meta", {}).get("duration_s"):
        add("")
        add(f"run took {res['meta']['duration_s']:.0f} s; sections: {res.get('section_s')}")
    return "\n".join(L)
