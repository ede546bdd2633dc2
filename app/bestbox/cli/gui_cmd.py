"""`bestbox gui` (also what plain `bestbox` runs): the desktop window."""
from __future__ import annotations


def register(sub) -> None:
    p = sub.add_parser("gui", help="open the BestBox window (the default command)")
    p.add_argument("--no-start", action="store_true",
                   help="do not start the model servers now (overrides app.start_servers_on_launch)")
    p.set_defaults(func=run_gui)


def no_display_reason(env=None) -> str | None:
    """Why a window cannot open here (Linux without X11/Wayland), or None. Qt would otherwise abort
    with "could not load the Qt platform plugin", which tells a user nothing."""
    import os
    import sys

    env = os.environ if env is None else env
    if not sys.platform.startswith("linux") or env.get("QT_QPA_PLATFORM"):
        return None
    if env.get("DISPLAY") or env.get("WAYLAND_DISPLAY"):
        return None
    return ("No display: the BestBox window needs a desktop session ($DISPLAY or $WAYLAND_DISPLAY is not set). "
            "The command line works without one: `bestbox ask`, `bestbox voice`, `bestbox servers`, "
            "`bestbox doctor`.")


def run_gui(args) -> int:
    import sys

    reason = no_display_reason()
    if reason:
        print(reason, file=sys.stderr)
        return 2
    from ..ui.app import run_gui as _run

    return _run(args)
