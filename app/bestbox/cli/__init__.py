"""`bestbox` command line. Each subcommand lives in its own module and registers itself here;
heavy imports happen inside the command functions so `bestbox --version` stays instant."""
from __future__ import annotations

import argparse
import sys

from .. import __version__

# Modules that provide `register(subparsers)`; each sets `func` on its parser.
_COMMANDS = ["gui_cmd", "doctor_cmd", "servers_cmd", "route_cmd", "ask_cmd", "voice_cmd", "say_cmd", "bench_cmd", "models_cmd",
             "data_cmd", "docs_cmd"]


def build_parser() -> argparse.ArgumentParser:
    import importlib

    parser = argparse.ArgumentParser(prog="bestbox", description="Local-first desktop voice assistant")
    parser.add_argument("--version", action="version", version=f"bestbox {__version__}")
    parser.add_argument("--config", help="config file (default: user config dir, or $BESTBOX_CONFIG)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in _COMMANDS:
        try:
            mod = importlib.import_module(f"{__name__}.{name}")
        except ModuleNotFoundError as e:
            if e.name == f"{__name__}.{name}":
                continue  # command not built yet
            raise
        mod.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.config:
        import os

        os.environ["BESTBOX_CONFIG"] = args.config
    if not getattr(args, "func", None):
        # No subcommand: open the window.
        from .gui_cmd import run_gui

        return run_gui(args)
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
