"""`bestbox route`: route text without answering it; evaluate and correct the router.

  bestbox route "show me the top vendors" [--mode hybrid|llm|fast] [--json]
  bestbox route --file utterances.txt --json          one JSON object per line
  bestbox route --eval [labelled.jsonl] [--mode …]    accuracy, confusion matrix, latency per mode
                                                      (no file: the shipped set's held-out part;
                                                      "spoken": the spoken held-out set), plus the
                                                      fast path's share decided, its accuracy on
                                                      those, confidently wrong, and calibration (ECE)
  bestbox route --correct "text or turn id" --agent erp
  bestbox route --report | --export corrections.jsonl | --reset

The llm and hybrid modes need the light server from the config; when it does not answer /health,
the command says so and the fast path decides (decided_by=fallback).
"""
from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path


def register(sub) -> None:
    p = sub.add_parser("route", help="route text to an agent and tier (no answer); evaluate and correct routing")
    p.add_argument("text", nargs="?", help="the request to route")
    p.add_argument("--mode", choices=["hybrid", "llm", "fast", "all"],
                   help="routing mode (default: config; --eval default: all three)")
    p.add_argument("--json", action="store_true", help="JSON output (one object per line for --file)")
    p.add_argument("--file", help="route every non-empty line of this file")
    p.add_argument("--eval", nargs="?", const="", metavar="JSONL",
                   help="evaluate on lines of {\"text\", \"agent\"} (default: the shipped held-out split; "
                        "'spoken': the spoken held-out set, never trained on)")
    p.add_argument("--split", choices=["test", "train", "all"],
                   help="which part of the eval file to use (default: test for the shipped set, else all)")
    p.add_argument("--with-corrections", action="store_true", help="--eval: include your corrections")
    p.add_argument("--correct", metavar="TEXT_OR_TURN", help="correct the route of a text or a recorded turn")
    p.add_argument("--agent", choices=["erp", "crm", "it_ops", "oa", "general"], help="the right agent (--correct)")
    p.add_argument("--record", action="store_true", help="store these decisions in the routing history")
    p.add_argument("--report", action="store_true", help="routing report: accuracy from corrections, agreement, times")
    p.add_argument("--export", metavar="PATH", help="write your corrections as JSONL")
    p.add_argument("--reset", action="store_true", help="forget your corrections")
    p.set_defaults(func=run)


def run(args) -> int:
    from ..routing.corrections import CorrectionStore

    if args.correct is not None or args.report or args.export or args.reset:
        store = CorrectionStore()
        try:
            return _manage(args, store)
        finally:
            store.close()
    if args.eval is not None:
        return asyncio.run(_eval(args))
    if args.text is None and not args.file:
        print("bestbox route: give a text, --file, --eval, --correct, --report, --export or --reset", file=sys.stderr)
        return 2
    return asyncio.run(_route(args))


def _manage(args, store) -> int:
    out: dict = {}
    if args.correct is not None:
        if not args.agent:
            print("bestbox route --correct needs --agent", file=sys.stderr)
            return 2
        out["corrected"] = store.correct(args.correct, args.agent)
    if args.export:
        out["exported"] = {"path": args.export, "corrections": store.export(args.export)}
    if args.reset:
        store.reset()
        out["reset"] = True
    if args.report:
        out["report"] = store.report()
    if args.json:
        print(json.dumps(out, indent=2))
    else:
        if "corrected" in out:
            c = out["corrected"]
            prev = f" (was {c['previous_agent']})" if c["previous_agent"] else ""
            print(f"corrected: {c['text']!r} → {c['agent']}{prev}")
        if "exported" in out:
            print(f"exported {out['exported']['corrections']} corrections to {args.export}")
        if out.get("reset"):
            print("corrections forgotten")
        if "report" in out:
            _print_report(out["report"])
    return 0


def _print_report(r: dict) -> None:
    acc = r["accuracy"]
    print(f"decisions {r['decisions']}, corrections {r['corrections']}, corrected decisions "
          f"{r['corrected_decisions']}, accuracy {'-' if acc is None else f'{acc:.1%}'}")
    sh = r["shadow"]
    agr = sh["agreement"]
    print(f"shadow checks {sh['checks']} (answered {sh['answered']}), agreement "
          f"{'-' if agr is None else f'{agr:.1%}'}")
    for title, key in (("mode", "route_ms_by_mode"), ("decided by", "route_ms_by_decided_by")):
        for k, s in r[key].items():
            print(f"  {title} {k:10s} n={s['n']:<5d} p50 {s['p50_ms']} ms  p90 {s['p90_ms']} ms")


# -- servers ------------------------------------------------------------------------------------

async def _light_client(cfg, modes: set[str], quiet: bool):
    """An LLMClient for the light server when a mode needs it and /health says 200; else None."""
    if not modes & {"llm", "hybrid"}:
        return None, "not needed"
    return await _client_for(cfg, "light", quiet)


async def _client_for(cfg, name: str, quiet: bool):
    import httpx

    from ..llm.client import LLMClient

    srv = cfg.server(name)
    url = f"http://{srv.host}:{srv.port}"
    why = None
    if not srv.enabled:
        why = f"{name} server disabled in config"
    else:
        try:
            async with httpx.AsyncClient(timeout=1.5) as c:
                r = await c.get(url + "/health", headers={"Authorization": f"Bearer {cfg.llama.api_key}"})
            if r.status_code != 200:
                why = f"{name} server at {url} is not ready (/health {r.status_code})"
        except httpx.HTTPError as e:
            why = f"{name} server at {url} is down ({type(e).__name__})"
    if why:
        if not quiet or name == "light":
            print(f"{why}; the fast path decides", file=sys.stderr)
        return None, why
    return LLMClient(url, cfg.llama.api_key, name=name), f"{url} ready"


# -- route text ---------------------------------------------------------------------------------

async def _route(args) -> int:
    import uuid

    from ..routing.corrections import CorrectionStore
    from ..routing.router import Router
    from ._runtime import load_config_or_warn

    cfg = load_config_or_warn()
    mode = cfg.routing.mode if args.mode in (None, "all") else args.mode
    if args.file:
        texts = [ln.strip() for ln in Path(args.file).read_text(encoding="utf-8").splitlines() if ln.strip()]
    else:
        texts = [args.text]
    store = CorrectionStore()
    router = Router(cfg, store)
    light, _ = await _light_client(cfg, {mode}, quiet=False)
    heavy = None
    if cfg.routing.shadow_sample_rate > 0:
        heavy, _ = await _client_for(cfg, "heavy", quiet=True)
    try:
        for text in texts:
            turn_id = f"cli-{uuid.uuid4().hex[:12]}" if args.record else None
            d = await router.route(text, light, heavy, mode=mode, turn_id=turn_id)
            if args.json:
                print(json.dumps({"text": text, **({"turn_id": turn_id} if turn_id else {}), **d.to_dict()}),
                      flush=True)
            else:
                conf = "" if d.confidence is None else f" conf {d.confidence:.2f}"
                extra = ""
                if d.decided_by == "llm":
                    extra = f" tokens {d.detail.get('predicted_n')} cache_n {d.detail.get('cache_n')}"
                elif d.decided_by == "fallback":
                    extra = f" ({d.detail.get('fallback')})"
                print(f"{d.agent:8s} {d.tier:5s} by {d.decided_by}{conf} {d.ms:.1f} ms"
                      f" [{d.tier_reason}]{extra}  {text}")
        await router.drain()
    finally:
        for c in (light, heavy):
            if c is not None:
                await c.close()
        store.close()
    return 0


# -- evaluate -----------------------------------------------------------------------------------

async def _eval(args) -> int:
    from ..routing.corrections import CorrectionStore
    from ..routing.decision import AGENTS, MODES
    from ..routing.fast_path import FastPath, load_examples, norm_key
    from ..routing.router import Router
    from ..stats import latency_summary, percentile
    from ._runtime import load_config_or_warn

    cfg = load_config_or_warn()
    shipped = not args.eval
    if args.eval == "spoken":
        from ..routing.calibrate import HELDOUT_FILE

        args.eval = str(Path(__file__).parents[1] / "routing" / "data" / HELDOUT_FILE)
    split = args.split or ("test" if shipped else "all")
    rows = load_examples(None if shipped else Path(args.eval), split=split)
    # Evaluating the shipped set: the fast path learns only from the part it is not tested on.
    train_split = "train" if (shipped and split == "test") else "all"
    fast = FastPath.from_shipped(split=train_split)
    store = None
    if args.with_corrections:
        store = CorrectionStore()
    seen = {norm_key(e["text"]) for e in load_examples(split=train_split)}
    overlap = sum(norm_key(r["text"]) in seen for r in rows)
    modes = list(MODES) if args.mode in (None, "all") else [args.mode]
    light, light_status = await _light_client(cfg, set(modes), quiet=args.json)
    router = Router(cfg, store, fast)
    out: dict = {"file": "shipped labelled set" if shipped else args.eval, "split": split,
                 "examples": len(rows), "fast_path_trained_on": f"shipped {train_split} split",
                 "overlap_with_training": overlap, "light_server": light_status, "modes": {}}
    try:
        for mode in modes:
            confusion = {a: {b: 0 for b in AGENTS} for a in AGENTS}
            ms, by, ok, tokens, cache = [], {}, 0, [], []
            errors, decisions = [], []
            for r in rows:
                d = await router.route(r["text"], light, mode=mode)
                decisions.append(d)
                confusion[r["agent"]][d.agent] += 1
                ok += d.agent == r["agent"]
                if d.agent != r["agent"]:
                    errors.append({"text": r["text"], "expected": r["agent"], "got": d.agent,
                                   "decided_by": d.decided_by})
                ms.append(d.ms)
                by[d.decided_by] = by.get(d.decided_by, 0) + 1
                if d.decided_by == "llm":
                    tokens.append(d.detail.get("predicted_n") or 0)
                    cache.append(d.detail.get("cache_n") or 0)
            res = {"accuracy": round(ok / len(rows), 4) if rows else None, "latency": latency_summary(ms),
                   "decided_by": by, "confusion": confusion, "errors": errors,
                   "router": _router_numbers(rows, decisions, router, mode)}
            if tokens:
                res["llm"] = {"decisions": len(tokens), "predicted_n_p50": percentile(tokens, 50),
                              "predicted_n_max": max(tokens), "cache_n_p50": percentile(cache, 50)}
            out["modes"][mode] = res
    finally:
        if light is not None:
            await light.close()
        if store is not None:
            store.close()
    if args.json:
        print(json.dumps(out, indent=2))
    else:
        _print_eval(out)
    return 0


def _router_numbers(rows: list[dict], decisions: list, router, mode: str) -> dict:
    """Share decided by the fast path, its accuracy on those, confidently wrong, the light model's
    part, and (fast mode, where every request has a fast-path confidence) the calibration error."""
    from ..routing import calibration as C

    out = C.route_summary([r["agent"] for r in rows], decisions)
    out["threshold"] = round(router.threshold, 4)
    if mode == "fast" and rows:
        conf = [d.confidence for d in decisions]
        right = [d.agent == r["agent"] for d, r in zip(decisions, rows)]
        out["ece"] = round(C.ece(conf, right), 4)
        out["at_threshold"] = C.decided_stats(conf, right, router.threshold)
    return out


def _print_router(r: dict) -> None:
    if "at_threshold" in r:
        t = r["at_threshold"]
        print(f"  fast path alone: ECE {r['ece']:.3f}; at threshold {r['threshold']}: decided {t['share_decided']:.2f}, "
              f"accuracy on decided {t['accuracy_on_decided']}, confidently wrong {t['confidently_wrong']}")
    elif r.get("share_decided_fast") is not None:
        parts = ", ".join(f"{k} {v['n']} right {v['accuracy']:.2f}" for k, v in sorted(r["by_decided_by"].items()))
        print(f"  fast path decided {r['share_decided_fast']:.2f} (threshold {r['threshold']}), accuracy on those "
              f"{r['fast_accuracy_on_decided']}, confidently wrong {r['confidently_wrong']}; {parts}; "
              f"with a perfect light model {r['upper_bound_perfect_light']:.3f}")


def _print_eval(out: dict) -> None:
    from ..routing.decision import AGENTS

    print(f"{out['file']} ({out['split']}): {out['examples']} examples; fast path trained on "
          f"{out['fast_path_trained_on']}; {out['overlap_with_training']} seen in training; "
          f"light server: {out['light_server']}")
    for mode, r in out["modes"].items():
        lat = r["latency"]
        by = ", ".join(f"{k} {v}" for k, v in sorted(r["decided_by"].items()))
        print(f"\n[{mode}] accuracy {r['accuracy']:.1%}   p50 {lat['p50_ms']} ms  p90 {lat['p90_ms']} ms"
              f"  max {lat['max_ms']} ms   decided by: {by}")
        _print_router(r["router"])
        if "llm" in r:
            l = r["llm"]
            print(f"  llm: generated tokens p50 {l['predicted_n_p50']} max {l['predicted_n_max']}, "
                  f"cache_n p50 {l['cache_n_p50']}")
        print("  confusion (rows: expected, columns: routed)")
        print("  " + " " * 9 + "".join(f"{a:>8s}" for a in AGENTS))
        for a in AGENTS:
            print("  " + f"{a:9s}" + "".join(f"{r['confusion'][a][b]:8d}" for b in AGENTS))
