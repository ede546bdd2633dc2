"""`bestbox ask "text" [--json]`: one whole turn without a window."""
from __future__ import annotations

import asyncio
import json
import sys


NEEDS_INPUT_EXIT = 3
EPILOG = f"""exit codes: 0 answered; 1 error; {NEEDS_INPUT_EXIT} a tool call needs values the model could not give
(--json then holds "needs_input": {{"tool", "missing", "prefilled", ...}} and no answer; send them with
--tool NAME --arg FIELD=VALUE ..., e.g. --tool open_ticket --arg "title=VPN down" --yes)"""


def register(sub) -> None:
    import argparse

    p = sub.add_parser("ask", help="ask one question (route, answer with tools, stream) without a window",
                       epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("text", nargs="?", default="", help="the question (not needed with --tool)")
    p.add_argument("--tool", help="run this tool with the --arg values (what a form in the window sends)")
    p.add_argument("--arg", action="append", default=[], metavar="FIELD=VALUE",
                   help="a value for --tool; repeat for more fields")
    p.add_argument("--conversation", help="continue this conversation (its id, as --json prints it)")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of streaming text")
    p.add_argument("--yes", action="store_true", help="confirm data-changing actions without asking")
    p.add_argument("--no-start", action="store_true", help="do not start servers that are not running")
    p.set_defaults(func=run)


def run(args) -> int:
    return asyncio.run(_run(args))


async def _run(args) -> int:
    from ..pipeline.assistant import Assistant, run_text_turn
    from ._runtime import load_config_or_warn, servers_for_cli
    from .turn_printer import TurnPrinter

    cfg = load_config_or_warn()
    printer = TurnPrinter(streaming=not args.json)
    call = _tool_call(args)
    if isinstance(call, str):
        print(f"error: {call}", file=sys.stderr)
        return 2
    async with servers_for_cli(cfg, start=not args.no_start, quiet=args.json) as mgr:
        assistant = Assistant(cfg, mgr)
        try:
            result = await run_text_turn(args.text, config=cfg, assistant=assistant, on_event=printer.turn_event,
                                         auto_confirm=bool(args.yes), call=call,
                                         conversation_id=args.conversation)
        finally:
            assistant.history.close()
    if result.get("needs_input"):
        if args.json:
            print(json.dumps(result, indent=2, default=str))
        else:
            print(needs_input_words(result["needs_input"], result.get("conversation_id")), file=sys.stderr)
        return NEEDS_INPUT_EXIT
    if args.json:
        print(json.dumps(result, indent=2, default=str))
    else:
        printer.finish(result)
    return 1 if result.get("error") else 0


def _tool_call(args) -> tuple[str, dict] | None | str:
    """(tool, arguments) from --tool/--arg, None without --tool, or the problem as a sentence."""
    if not args.tool:
        if args.arg:
            return "--arg needs --tool"
        if not args.text.strip():
            return "ask what? give the question, or --tool NAME --arg FIELD=VALUE"
        return None
    values = {}
    for a in args.arg:
        field, sep, value = a.partition("=")
        if not sep or not field.strip():
            return f"--arg {a!r}: write it as FIELD=VALUE"
        values[field.strip()] = value.strip()
    return args.tool, values


def needs_input_words(need: dict, conversation_id: str | None) -> str:
    """What `bestbox ask` prints when a tool call needs values: what is missing and how to send it."""
    lines = [need.get("message") or f"{need.get('title')} needs more values."]
    for field in need.get("missing", []):
        why = (need.get("invalid") or {}).get(field)
        lines.append(f"  {field}: {why or 'missing'}")
    pre = " ".join(f'--arg "{k}={v}"' for k, v in (need.get("prefilled") or {}).items())
    fill = " ".join(f'--arg "{k}=..."' for k in need.get("missing", []))
    conv = f" --conversation {conversation_id}" if conversation_id else ""
    lines.append(f"Send them with: bestbox ask --tool {need.get('tool')} {fill} {pre}{conv}".rstrip()
                 + (" (add --yes to confirm the change)" if need.get("write") else ""))
    return "\n".join(lines)