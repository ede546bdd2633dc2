"""Helpers for the server tests: run a coroutine with a fresh loop, wait for conditions, and a
safety net that kills any llama-server a failing test left behind."""
from __future__ import annotations

import asyncio
import os
import signal
import time

import psutil
import pytest


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def write_config(cfg, path):
    """The same TOML the `tmp_config` fixture writes (to $BESTBOX_CONFIG)."""
    import tomlkit

    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(tomlkit.dumps(cfg.model_dump(mode="json")), encoding="utf-8")
    return path


def run(coro, timeout: float = 90):
    """asyncio.run with a hard timeout (pytest-asyncio is not used here)."""
    async def guarded():
        return await asyncio.wait_for(coro, timeout)
    return asyncio.run(guarded())


def wait_until(pred, timeout: float = 10.0, interval: float = 0.05) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return True
        time.sleep(interval)
    return bool(pred())


def llama_servers_on(ports) -> list[psutil.Process]:
    """llama-server processes whose command line names one of `ports`."""
    ports = {str(p) for p in ports}
    out = []
    for p in psutil.process_iter(["name", "cmdline"]):
        cmd = p.info.get("cmdline") or []
        if cmd and "llama-server" in os.path.basename(cmd[0]) and ports & set(cmd):
            out.append(p)
    return out


@pytest.fixture(autouse=True)
def reaper(request):
    """After each test: no llama-server may remain on this test's ports. Kill and fail if one does."""
    yield
    cfg = request.node.funcargs.get("tmp_config")
    if cfg is None:
        return
    ports = [cfg.servers.heavy.port, cfg.servers.light.port]
    left = [p for p in llama_servers_on(ports) if p.status() != psutil.STATUS_ZOMBIE]
    for p in left:
        try:
            os.kill(p.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    # Tests that leave a server on purpose kill it themselves; anything here is a leak.
    assert not left, f"llama-server left running: {[p.pid for p in left]}"
