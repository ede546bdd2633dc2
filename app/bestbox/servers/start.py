"""Starting one llama-server: spawn it (log rotated, PID record written) and wait until it is ready.

Ready means /health 200 *and* one one-token completion (llama-swap's lesson: /health alone does not
prove the server can generate). The wait has a deadline that moves on while the log grows (a big
model loading is progress, not a hang). The completion runs in a helper task so that a Stop during
a start is never delayed by it; its result goes back on the owner task's queue.
"""
from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path
from typing import Awaitable, Callable

from . import launch, logs, procs
from .command import ServerCommand
from .launch import ServerProcess
from .monitor import Monitor

PROBE_ATTEMPTS = 3  # failed one-token completions (after /health 200) before a start fails


def spawn_server(name: str, cmd: ServerCommand, *, log_path: Path, api_key: str, detached: bool,
                 state_dir: Path) -> ServerProcess:
    """Spawn `cmd` writing into a fresh `log_path` and record it in its PID file. Raises OSError
    (see launch.spawn_error) when it cannot start."""
    masked = [("***" if api_key and a == api_key else a) for a in cmd.argv]
    logs.rotate(log_path)
    popen = launch.spawn(cmd.argv, log_path, f"[bestbox] starting {name}: {' '.join(masked)}\n", detached=detached)
    proc = ServerProcess("spawned", popen.pid, pgid=popen.pid, popen=popen, started_wall=time.time(),
                         spawned_mono=time.monotonic())
    procs.write_pid(state_dir, procs.PidRecord(
        name=name, pid=popen.pid, port=cmd.port, host=cmd.host, model=str(cmd.model_path or ""),
        started_at=proc.started_wall, app_pid=os.getpid(), detached=detached,
        create_time=launch.create_time(popen.pid), log=str(log_path), argv=masked))
    return proc


class StartWatch:
    """One start on its way to ready: the moving deadline and the readiness probe."""

    def __init__(self, log_path: Path, timeout_s: float, *, log_size: int = 0) -> None:
        self.log_path = log_path
        self.timeout_s = timeout_s
        self.deadline = time.monotonic() + timeout_s
        self._log_size = log_size
        self.probe: asyncio.Task | None = None
        self.probe_failures = 0

    async def step(self, mon: Monitor, base_url: str) -> str:
        """What the next tick should do: 'timeout', 'wait', 'loading' (/health 503) or 'generate'
        (/health 200: start the probe)."""
        now = time.monotonic()
        size = logs.file_size(self.log_path)
        if size != self._log_size:  # the log moves: loading progresses, give it more time
            self._log_size = size
            self.deadline = max(self.deadline, now + self.timeout_s)
        if now > self.deadline:
            return "timeout"
        if self.probe is not None:
            return "wait"
        code = await mon.health_code(base_url)
        return {503: "loading", 200: "generate"}.get(code, "wait")

    def timeout_message(self, last_lines: list[str]) -> str:
        last = next(iter(reversed(last_lines)), "(none)")
        return f"not ready after {self.timeout_s:.0f} s without progress in its log; last log line: {last}"

    def start_probe(self, mon: Monitor, base_url: str, headers: dict,
                    post: Callable[[bool, str, dict], Awaitable[None]]) -> None:
        """The one-token completion in a helper task; `post(ok, detail, timings)` hands the result
        back to the owner task."""
        async def probe() -> None:
            try:
                ok, detail, timings = await mon.readiness(base_url, headers)
            except asyncio.CancelledError:
                return
            await post(ok, detail, timings)
        self.probe = asyncio.ensure_future(probe())

    def probe_done(self, ok: bool) -> str:
        """'ready', 'retry' (health will be asked again) or 'fail' after PROBE_ATTEMPTS failures."""
        self.probe = None
        if ok:
            self.probe_failures = 0
            return "ready"
        self.probe_failures += 1
        return "fail" if self.probe_failures >= PROBE_ATTEMPTS else "retry"

    def cancel(self) -> None:
        if self.probe is not None:
            self.probe.cancel()
            self.probe = None
