"""`bestbox gui` (also what plain `bestbox` runs): the desktop window."""
from __future__ import annotations


def register(sub) -> None:
    p = sub.add_parser("gui", help="open the BestBox window (the default command)")
    p.add_argument("--no-start", action="store_true",
                   help="do not start the model servers now (overrides app.start_servers_on_launch)")
    p.set_defaults(func=run_gui)


def run_gui(args) -> int:
    from ..ui.app import run_gui as _run

    return _run(args)
