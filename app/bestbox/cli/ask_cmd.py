"""`bestbox ask "text" [--json]`: one whole turn without a window."""
from __future__ import annotations

import asyncio
import json
import sys


def register(sub) -> None:
    p = sub.add_parser("ask", help="ask one question (route, answer with tools, stream) without a window")
    p.add_argument("text", help="the question")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of streaming text")
    p.add_argument("--yes", action="store_true", help="confirm data-changing actions without asking")
    p.add_argument("--no-start", action="store_true", help="do not start servers that are not running")
    p.set_defaults(func=run)


def run(args) -> int:
    return asyncio.run(_run(args))


async def _run(args) -> int:
    from ..pipeline.assistant import Assistant, run_text_turn
    from ._runtime import load_config_or_warn, servers_for_cli

    cfg = load_config_or_warn()
    streaming = not args.json

    def on_event(ev):
        if not streaming:
            return
        if ev.kind == "route":
            d = ev.data["decision"]
            print(f"[{d['agent']} · {d['tier']} · {d['decided_by']} · {d['ms']:.0f} ms]", file=sys.stderr)
        elif ev.kind == "tool_call":
            print(f"[tool] {ev.data['name']}({json.dumps(ev.data['arguments'])})", file=sys.stderr)
        elif ev.kind == "tool_result":
            err = ev.data.get("error")
            print(f"[tool] {ev.data['name']}: {err or ev.data.get('summary') or ''}", file=sys.stderr)
        elif ev.kind == "note":
            print(f"[note] {ev.data['text']}", file=sys.stderr)
        elif ev.kind == "token":
            sys.stdout.write(ev.data["text"])
            sys.stdout.flush()

    async with servers_for_cli(cfg, start=not args.no_start, quiet=args.json) as mgr:
        assistant = Assistant(cfg, mgr)
        try:
            result = await run_text_turn(args.text, config=cfg, assistant=assistant, on_event=on_event,
                                         auto_confirm=bool(args.yes))
        finally:
            assistant.history.close()
    if args.json:
        print(json.dumps(result, indent=2, default=str))
    else:
        print()
        t = result.get("timings") or {}
        if result.get("error"):
            print(f"error: {result['error']}", file=sys.stderr)
        print(f"[route {t.get('route_ms')} ms · first token {t.get('ttft_ms')} ms · total {t.get('total_ms')} ms"
              f" · {t.get('tokens_per_s')} tok/s · {result.get('model')}]", file=sys.stderr)
    return 1 if result.get("error") else 0
