"""Shared by the CLI commands that run turns: load the config, bring the servers up (adopting
running ones), and always tidy up what this process started."""
from __future__ import annotations

import sys
from contextlib import asynccontextmanager

from .. import config as config_mod


def load_config_or_warn():
    loaded = config_mod.load()
    for issue in loaded.issues:
        print(f"config {loaded.path}: {issue} (using the default)", file=sys.stderr)
    return loaded.config


@asynccontextmanager
async def servers_for_cli(cfg, *, start: bool = True, quiet: bool = False):
    """Yield a ServerManager with both servers ready or adopted. Servers this process had to start
    are stopped on exit; servers that were already running (e.g. `bestbox servers start`) stay."""
    from ..servers.manager import ServerManager

    mgr = ServerManager(cfg)
    try:
        if start:
            await mgr.start("all")
            for name in ("heavy", "light"):
                snap = mgr.snapshot(name)
                if not mgr.is_ready(name) and not quiet:
                    print(f"{name} server: {snap.state.value}: {snap.message}", file=sys.stderr)
        yield mgr
    finally:
        await mgr.shutdown()
