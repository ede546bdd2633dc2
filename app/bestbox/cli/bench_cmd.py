"""`bestbox bench [--json] [--out DIR] [--repeats N] [--quick]`: measure the tiered design against
the single-model baseline, stage by stage, on the configured servers (running ones are adopted,
missing ones started and stopped again afterwards).

Writes DIR/bench.json and DIR/*.png; prints a table (or, with --json, the JSON document)."""
from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path


def register(sub) -> None:
    p = sub.add_parser("bench", help="benchmark routing, speech and whole turns (single vs dual vs BestBox)")
    p.add_argument("--json", action="store_true", help="print the JSON document instead of the table")
    p.add_argument("--out", default="bench-out", help="folder for bench.json, the plots and the WAVs (default: %(default)s)")
    p.add_argument("--repeats", type=int, default=None, help="repeats per measurement (default 3, --quick 1)")
    p.add_argument("--quick", action="store_true", help="few repeats and short utterances (about two minutes)")
    p.add_argument("--answer-tokens", type=int, default=None,
                   help="answer length cap, the same for every configuration (default 32, --quick 16)")
    p.add_argument("--tool-call-tokens", type=_call_tokens, default=None, metavar="N|auto",
                   help="cap each schema-forced tool call at N tokens and, where the capped text is no valid "
                        "call, call the first offered tool: random-weight models only (docs/benchmarks.md); "
                        "auto: the median length of the app's example calls by the heavy server's tokenizer")
    p.add_argument("--no-ui", action="store_true", help="skip the window measurements (stalls, launch, memory)")
    p.add_argument("--only", help="comma-separated sections: servers,router,calibration,asr,cleanup,turns,ui,"
                                  "supervision (and load, team, retrieval, records, families, turn_end, hearing, speak, "
                                  "wake: run only when named; calibration, records and retrieval alone need no servers)")
    p.add_argument("--no-start", action="store_true", help="do not start servers that are not running")
    p.set_defaults(func=run)


SERVERLESS = {"records", "retrieval"}


def _call_tokens(value: str):
    if value == "auto":
        return value
    try:
        n = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of tokens or 'auto', got {value!r}") from None
    if n < 1:
        raise argparse.ArgumentTypeError("the number of tokens must be at least 1")
    return n


def run(args) -> int:
    return asyncio.run(_run(args))


async def _run(args) -> int:
    import os

    from .. import config as config_mod
    from ..bench.runner import Options, run_bench
    from ._runtime import load_config_or_warn, servers_for_cli

    cfg = load_config_or_warn()
    out = Path(args.out).expanduser().resolve()
    quick = bool(args.quick)
    opt = Options(out_dir=out, quick=quick, repeats=args.repeats or (1 if quick else 3),
                  answer_tokens=args.answer_tokens or (16 if quick else 32), ui=not args.no_ui,
                  tool_call_tokens=args.tool_call_tokens,
                  log=lambda m: print(m, file=sys.stderr, flush=True))
    if args.only:
        from ..bench.runner import SECTION_FUNCS

        opt.sections = tuple(s.strip() for s in args.only.split(",") if s.strip())
        unknown = [s for s in opt.sections if s not in SECTION_FUNCS]
        if unknown:
            print(f"bestbox bench: unknown section {', '.join(unknown)}; known: {', '.join(SECTION_FUNCS)}",
                  file=sys.stderr)
            return 2
    if opt.sections is not None and set(opt.sections) == {"calibration"}:   # the fast path's part needs no server
        from ..bench.calibration import run_offline

        return _finish(args, await run_offline(opt), out)
    if opt.sections is not None and set(opt.sections) <= SERVERLESS:    # no model server needed
        from ..bench.serverless import run_serverless

        return _finish(args, await run_serverless(cfg, opt), out)
    cfg_path = Path(os.environ["BESTBOX_CONFIG"]) if os.environ.get("BESTBOX_CONFIG") else config_mod.load().path
    async with servers_for_cli(cfg, start=not args.no_start, quiet=args.json) as mgr:
        missing = [n for n in ("light", "heavy") if mgr.client(n) is None]
        if missing:
            print(f"bestbox bench: needs both servers; not running: {', '.join(missing)}", file=sys.stderr)
            return 2
        res = await run_bench(cfg, mgr, opt, config_path=cfg_path)
    return _finish(args, res, out)


def _finish(args, res: dict, out: Path) -> int:
    from ..bench.plots import make_plots
    from ..bench.report import format_report

    try:
        res["plots"] = [str(p) for p in make_plots(res, out)]
    except Exception as e:  # the numbers matter more than the pictures
        res.setdefault("errors", {})["plots"] = f"{type(e).__name__}: {e}"
    from ..bench.report import add_checks

    add_checks(res)
    path = out / "bench.json"
    path.write_text(json.dumps(res, indent=1, default=str))
    if args.json:
        print(json.dumps(res, indent=1, default=str))
    else:
        print(format_report(res))
        print(f"\nJSON: {path}")
        for p in res.get("plots", []):
            print(f"plot: {p}")
    return 1 if res.get("errors") else 0
