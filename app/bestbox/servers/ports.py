"""Who holds a server's port before we start one: nobody, our own server from an earlier run (a
PID record), a llama-server somebody else started, or another program.

Returns a verdict and changes nothing: the supervisor's owner task decides what to do with it.
"""
from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path

from . import procs
from .monitor import Monitor


@dataclass(frozen=True)
class PortVerdict:
    kind: str                              # free | ours | external | conflict
    record: procs.PidRecord | None = None  # ours: the PID record of our live server
    pid: int | None = None                 # external: the holder's PID when the OS shows it
    message: str = ""                      # external / conflict: what the user is told


async def check_port(name: str, host: str, port: int, *, state_dir: Path, mon: Monitor, base_url: str,
                     headers: dict) -> PortVerdict:
    loop = asyncio.get_running_loop()
    if await loop.run_in_executor(None, procs.port_is_free, host, port):
        return PortVerdict("free")
    rec = procs.read_pid(state_dir, name)
    if rec and rec.port == port and procs.record_alive(rec) is not None:
        return PortVerdict("ours", record=rec)
    holder = await loop.run_in_executor(None, procs.port_holder, port)
    if holder.is_llama_server or await mon.looks_like_llama(base_url):
        who = f" (PID {holder.pid})" if holder.pid else ""
        if not await mon.accepts_key(base_url, headers):
            # Watching it would show "external" while every request fails with 401.
            return PortVerdict("conflict", message=(
                f"a llama-server we did not start{who} holds port {port} and rejects our API key. Stop it, "
                f"set [llama] api_key to its key, or give [servers.{name}] another port."))
        return PortVerdict("external", pid=holder.pid, message=(
            f"a llama-server we did not start{who} already listens on port {port}: monitoring it, never stopping it"))
    return PortVerdict("conflict", message=f"{holder.describe()}. Stop that process or give [servers.{name}] another port.")
