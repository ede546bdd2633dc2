"""Supervision of the two llama-server processes (heavy, light). Pure asyncio, no Qt.

    manager = ServerManager(config)
    await manager.start("all")          # waits until ready (or a readable failure)
    manager.snapshot("light").state     # ServerState.READY
    manager.client("light")             # LLMClient, or None unless ready/external
    await manager.shutdown()            # stops what this process started
"""
from __future__ import annotations

from .command import ServerCommand, build_command
from .manager import ServerManager
from .state import ServerSnapshot, ServerState
from .supervisor import Supervisor

__all__ = ["ServerCommand", "build_command", "ServerManager", "ServerSnapshot", "ServerState", "Supervisor"]
