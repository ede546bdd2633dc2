"""The session-wide `running_servers` fixture other test modules use."""
from __future__ import annotations

import asyncio

from bestbox.servers import ServerState


def test_running_servers_fixture_serves_both(running_servers):
    for name in ("heavy", "light"):
        assert running_servers.snapshot(name).state is ServerState.READY

    async def ask():
        c = running_servers.client("light")
        try:
            return await c.complete([{"role": "user", "content": "hi"}], max_tokens=4)
        finally:
            await c.close()
    out = asyncio.run(ask())
    assert out.timings.get("predicted_n", 0) >= 1
    assert running_servers.manager.client("heavy") is not None
