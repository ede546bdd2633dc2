"""Supervision of the two llama-server processes (heavy, light). Pure asyncio, no Qt.

    manager = ServerManager(config)
    await manager.start("all")          # waits until ready (or a readable failure)
    manager.snapshot("light").state     # ServerState.READY
    manager.client("light")             # LLMClient, or None unless ready/external
    await manager.shutdown()            # stops what this process started

Names are imported on first use, so `bestbox.servers.state` (the state table the window reads
first) loads without httpx, psutil or the config schema.
"""
from __future__ import annotations

from importlib import import_module

_WHERE = {"ServerCommand": "command", "build_command": "command", "ServerManager": "manager",
          "ServerSnapshot": "state", "ServerState": "state", "Supervisor": "supervisor"}
__all__ = list(_WHERE)


def __getattr__(name: str):
    if name not in _WHERE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(f".{_WHERE[name]}", __name__), name)
    globals()[name] = value
    return value
