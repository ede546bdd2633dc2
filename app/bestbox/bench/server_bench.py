"""Latency of the two llama-servers, stage by stage, as the tiered design uses them.

Pure asyncio + httpx (no Qt, no Whisper, no numpy), so `bestbox bench` can call the measurement
functions (server_measures.py, server_turns.py, over llama_http.py) and a GPU box with only Python
and httpx can run this CLI, which runs them all and prints the table:

    python -m bestbox.bench.server_bench --light http://127.0.0.1:8081 --heavy http://127.0.0.1:8080 \
        [--api-key KEY] [--repeats 20] [--json out.json]

What it measures, each as median / p90 / max over `repeats` runs after `warmup` runs:
(a) router decision, GBNF label grammar, static system prompt served from the prompt cache, on
    light and on heavy (heavy = the design's "before": routing on the single 14B model);
(b) the design's structured route (JSON schema, three fields) on both; plus the same JSON with
    fixed whitespace (a GBNF grammar) = the token count a real Qwen writes for it;
(c) time to first answer token, streaming, cached agent system prompt, on both;
(d) decode speed (tg128 with ignore_eos) and prompt speed (an uncached ~500-token prompt);
(e) a whole typed turn in configurations: single (JSON route on heavy + answer on heavy), dual
    (JSON route on light + answer on heavy), bestbox (grammar route on light + answer on heavy)
    and bestbox_fast (fast path in-process + answer on heavy): input → route, → first answer
    token, → last token of a fixed-length answer.

Random-weight models emit bytes that are not valid UTF-8 and never stop on their own, so every
length is fixed with max_tokens / ignore_eos / grammars and counted from the server's `timings`
(predicted_n, prompt_n, cache_n), never from the text.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import platform
import sys
import time
from typing import Any, Callable

from .llama_http import Endpoint, make_client
from .server_measures import (measure_decode, measure_prompt_speed, measure_route, measure_ttft, real_length,
                              server_info)
from .server_turns import measure_fast_path, measure_turns


async def run_all(light_url: str, heavy_url: str, *, api_key: str = "", repeats: int = 20, warmup: int = 2,
                  turn_repeats: int = 10, answer_tokens: int = 64, decode_repeats: int = 5,
                  fast_route: Callable[[str], Any] | None = None, fast_route_name: str = "keyword stand-in",
                  canonical: bool = False, bare_turns: bool = True, json_repeats: int | None = None,
                  log: Callable[[str], None] = lambda m: None,
                  on_progress: Callable[[dict], None] | None = None) -> dict:
    """Everything above against two servers, in one run so that ratios are fair. Turns run twice
    when bare_turns: as constrained ("turns") and with routes at a real model's length
    ("turns_real_length"); see route_once. json_repeats: repeats of the (slow on random weights)
    JSON-schema route, default min(repeats, 10). on_progress(res) is called after every step."""
    json_repeats = json_repeats or min(repeats, 10)
    light = Endpoint("light", light_url, api_key)
    heavy = Endpoint("heavy", heavy_url, api_key)
    res: dict = {"started": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "host": platform.node(),
                 "params": {"repeats": repeats, "warmup": warmup, "turn_repeats": turn_repeats,
                            "answer_tokens": answer_tokens, "decode_repeats": decode_repeats,
                            "json_repeats": json_repeats or min(repeats, 10),
                            "fast_route": fast_route_name},
                 "servers": {}, "route_grammar": {}, "route_grammar_bare": {}, "route_json": {},
                 "route_json_bare": {}, "route_json_canonical": {},
                 "ttft": {}, "decode": {}, "prompt_speed": {}, "errors": []}
    async with make_client() as client:
        for ep in (light, heavy):
            res["servers"][ep.name] = await server_info(client, ep)
        res["real_route_tokens"] = real = {k: await real_length(client, heavy, k) for k in ("grammar", "json")}
        await _per_server_steps(client, (light, heavy), res, real, repeats=repeats, warmup=warmup,
                                decode_repeats=decode_repeats, json_repeats=json_repeats, canonical=canonical,
                                log=log, on_progress=on_progress)
        log("fast path ...")
        res["fast_path"] = await measure_fast_path(fast_route)
        for key, bare in (("turns_real_length", real if bare_turns else None), ("turns", None)):
            if key == "turns_real_length" and not bare_turns:
                continue
            log(f"whole turns ({key}) ...")
            try:
                res[key] = await measure_turns(client, light, heavy, repeats=turn_repeats, warmup=1,
                                               answer_tokens=answer_tokens, fast_route=fast_route, bare=bare)
            except Exception as e:
                res["errors"].append(f"{key}: {type(e).__name__}: {e}")
            if on_progress:
                on_progress(res)
    res["finished"] = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    return res


async def _per_server_steps(client, eps, res: dict, real: dict, *, repeats: int, warmup: int,
                            decode_repeats: int, json_repeats: int, canonical: bool, log, on_progress) -> None:
    """(a)-(d) on each server; a step that fails records its error and the others still run."""
    async def step(key: str, ep_name: str, coro) -> None:
        log(f"{key} on {ep_name} ...")
        try:
            res[key][ep_name] = await coro
        except Exception as e:
            res["errors"].append(f"{key}/{ep_name}: {type(e).__name__}: {e}")
            log(f"  failed: {e}")
        if on_progress:
            on_progress(res)

    # the quick, most telling steps first; the JSON-schema route (slow on random weights) last
    for ep in eps:
        await step("route_grammar", ep.name, measure_route(client, ep, "grammar", repeats=repeats, warmup=warmup))
        await step("route_grammar_bare", ep.name, measure_route(client, ep, "grammar", repeats=repeats,
                                                                warmup=warmup, bare_tokens=real["grammar"]))
        await step("route_json_bare", ep.name, measure_route(client, ep, "json", repeats=repeats,
                                                             warmup=warmup, bare_tokens=real["json"]))
        await step("ttft", ep.name, measure_ttft(client, ep, repeats=repeats, warmup=warmup))
        await step("decode", ep.name, measure_decode(client, ep, repeats=decode_repeats))
        await step("prompt_speed", ep.name, measure_prompt_speed(client, ep, repeats=decode_repeats))
    for ep in eps:
        await step("route_json", ep.name, measure_route(client, ep, "json", repeats=json_repeats, warmup=warmup))
        if canonical:
            await step("route_json_canonical", ep.name,
                       measure_route(client, ep, "json_canonical", repeats=json_repeats, warmup=warmup))


# --- output -------------------------------------------------------------------------------------

def _fmt(v: Any, nd: int = 1) -> str:
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:.{nd}f}"
    return str(v)


def _cell(d: dict | None, key: str = "ms", nd: int = 1) -> str:
    if not d or key not in d or not d[key].get("n"):
        return "-"
    s = d[key]
    return f"{_fmt(s['median'], nd)} / {_fmt(s['p90'], nd)} / {_fmt(s['max'], nd)}"


def _med(d: dict | None, key: str) -> str:
    if not d or key not in d:
        return "-"
    return _fmt(d[key].get("median"), 0)


def format_table(res: dict) -> str:
    """The readable table: ms as median / p90 / max; tokens as medians."""
    lines = []
    add = lines.append
    real = res.get("real_route_tokens") or {}
    add(f"{'Stage (ms: median / p90 / max)':<44} {'light':<25} {'heavy':<25} tokens (light | heavy)")
    rows = [
        ("router, GBNF label", "route_grammar", "predicted_n"),
        (f"  same prompt, {real.get('grammar', '?')} tokens, no grammar", "route_grammar_bare", "predicted_n"),
        ("router, JSON schema (design)", "route_json", "predicted_n"),
        (f"  same prompt, {real.get('json', '?')} tokens, no schema", "route_json_bare", "predicted_n"),
        ("router, JSON fixed whitespace", "route_json_canonical", "predicted_n"),
        ("first answer token (cached sys)", "ttft", "prompt_n"),
    ]
    for label, key, tok in rows:
        l, h = res.get(key, {}).get("light"), res.get(key, {}).get("heavy")
        if not l and not h:
            continue
        if tok == "predicted_n":
            extra = f"gen {_med(l, tok)} | {_med(h, tok)}"
        else:
            extra = f"prompt {_med(l, 'prompt_n')} | {_med(h, 'prompt_n')}"
        extra += f", cache {_med(l, 'cache_n')} | {_med(h, 'cache_n')}"
        add(f"{label:<44} {_cell(l):<25} {_cell(h):<25} {extra}")
    d = res.get("decode", {})
    add(f"{'decode tg128 (tokens/s)':<44} {_cell(d.get('light'), 'predicted_per_second'):<25} "
        f"{_cell(d.get('heavy'), 'predicted_per_second'):<25}")
    p = res.get("prompt_speed", {})
    add(f"{'prompt eval, uncached (tokens/s)':<44} {_cell(p.get('light'), 'prompt_per_second', 0):<25} "
        f"{_cell(p.get('heavy'), 'prompt_per_second', 0):<25} prompt {_med(p.get('light'), 'prompt_n')} | "
        f"{_med(p.get('heavy'), 'prompt_n')}")
    fp = res.get("fast_path", {})
    add(f"{'fast path (in-process)':<44} {_cell(fp, 'ms', 3):<25} {res.get('params', {}).get('fast_route')}")
    n_ans = res.get("params", {}).get("answer_tokens")
    for key, title in (("turns", "routes constrained (random weights: upper bound)"),
                       ("turns_real_length", "routes at a real model's length, unconstrained (lower bound)")):
        turns = res.get(key) or {}
        if not turns:
            continue
        add("")
        add(f"Whole typed turn, answer = {n_ans} tokens on heavy; {title}")
        add(f"{'config':<14} {'route':<25} {'input → first token':<25} {'input → last token':<25} "
            f"route tokens, answer cache_n")
        for c, dd in turns.items():
            add(f"{c:<14} {_cell(dd, 'route_ms'):<25} {_cell(dd, 'first_ms'):<25} {_cell(dd, 'last_ms'):<25} "
                f"{_med(dd, 'route_predicted_n')}, {_med(dd, 'answer_cache_n')}")
        b = turns.get("bestbox", {}).get("first_ms", {}).get("median")
        ratios = []
        for c in ("single", "dual"):
            x = turns.get(c, {}).get("first_ms", {}).get("median")
            if b and x:
                ratios.append(f"{c}/bestbox {x / b:.1f}x")
        if ratios:
            add("first token: " + ", ".join(ratios))
    for e in res.get("errors", []):
        add("error: " + e)
    return "\n".join(lines)


def _real_fast_path() -> tuple[Callable[[str], Any] | None, str]:
    try:
        from bestbox.routing.fast_path import FastPath

        fp = FastPath.from_shipped()
        fp.classify("warm up")
        return fp.classify, "bestbox.routing.fast_path.FastPath"
    except Exception as e:  # not importable here (missing package, no data dir)
        return None, f"keyword stand-in (FastPath unavailable: {type(e).__name__})"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bestbox.bench.server_bench",
                                 description="Stage-by-stage latency of the light and heavy llama-servers.")
    ap.add_argument("--light", required=True, help="light server base URL, e.g. http://127.0.0.1:8081")
    ap.add_argument("--heavy", required=True, help="heavy server base URL, e.g. http://127.0.0.1:8080")
    ap.add_argument("--api-key", default="")
    ap.add_argument("--repeats", type=int, default=20)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--turn-repeats", type=int, default=10)
    ap.add_argument("--answer-tokens", type=int, default=64)
    ap.add_argument("--decode-repeats", type=int, default=5)
    ap.add_argument("--fast-path", choices=["auto", "keyword"], default="auto",
                    help="auto: the app's FastPath when importable, else a keyword stand-in")
    ap.add_argument("--json-repeats", type=int, default=None, help="repeats of the JSON-schema route (default min(repeats, 10))")
    ap.add_argument("--canonical", action="store_true", help="also time the JSON route with fixed whitespace")
    ap.add_argument("--no-bare-turns", action="store_true", help="skip the turns with real-length routes")
    ap.add_argument("--json", metavar="PATH", help="write the full results here")
    a = ap.parse_args(argv)

    fast, fast_name = (None, "keyword stand-in") if a.fast_path == "keyword" else _real_fast_path()

    def save(res: dict) -> None:   # after every step, so a run cut short still leaves its numbers
        if a.json:
            with open(a.json, "w") as f:
                json.dump(res, f, indent=1)

    res = asyncio.run(run_all(a.light, a.heavy, api_key=a.api_key, repeats=a.repeats, warmup=a.warmup,
                              turn_repeats=a.turn_repeats, answer_tokens=a.answer_tokens,
                              decode_repeats=a.decode_repeats, fast_route=fast, fast_route_name=fast_name,
                              canonical=a.canonical, bare_turns=not a.no_bare_turns,
                              json_repeats=a.json_repeats, on_progress=save,
                              log=lambda m: print(m, file=sys.stderr, flush=True)))
    save(res)
    print(format_table(res))
    return 1 if res["errors"] else 0


if __name__ == "__main__":
    sys.exit(main())
