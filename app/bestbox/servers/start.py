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
from .logs import LoadProgress
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
    """One start on its way to ready: load progress from the log, the moving deadline, and the
    readiness probe, whose result `post(ok, detail, timings)` hands back to the owner task."""

    def __init__(self, proc: ServerProcess, log_path: Path, timeout_s: float, *, mon: Monitor, base_url: str,
                 headers: dict, post: Callable[[bool, str, dict], Awaitable[None]],
                 prev_load_s: float | None = None) -> None:
        self.proc, self.log_path, self.timeout_s = proc, log_path, timeout_s
        self.mon, self.base_url, self.headers, self._post = mon, base_url, headers, post
        self.prev_load_s = prev_load_s
        self.progress = LoadProgress()
        self.returncode: int | None = None
        self.deadline = time.monotonic() + timeout_s
        self._log_size = 0 if proc.owned else logs.file_size(log_path)
        self.probe: asyncio.Task | None = None
        self.probe_failures = 0

    async def step(self, new_lines: list[str], partial: str) -> str:
        """What this tick saw: 'exited' (see returncode), 'timeout', 'wait', 'loading' (/health 503)
        or 'probing' (/health 200: the one-token completion has started)."""
        for ln in new_lines + [partial]:
            self.progress.feed(ln)
        if self.proc.owned and self.proc.spawned_mono:
            self.progress.estimate_from_time(time.monotonic() - self.proc.spawned_mono, self.prev_load_s)
        exited, self.returncode = self.proc.exit_status()
        if exited:
            return "exited"
        now = time.monotonic()
        size = logs.file_size(self.log_path)
        if size != self._log_size:  # the log moves: loading progresses, give it more time
            self._log_size = size
            self.deadline = max(self.deadline, now + self.timeout_s)
        if now > self.deadline:
            return "timeout"
        if self.probe is not None:
            return "wait"
        code = await self.mon.health_code(self.base_url)
        if code == 200:
            self.probe = asyncio.ensure_future(self._probe())
            return "probing"
        return "loading" if code == 503 else "wait"

    async def _probe(self) -> None:
        try:
            ok, detail, timings = await self.mon.readiness(self.base_url, self.headers)
        except asyncio.CancelledError:
            return
        await self._post(ok, detail, timings)

    def timeout_message(self, last_lines: list[str]) -> str:
        last = next(iter(reversed(last_lines)), "(none)")
        return f"not ready after {self.timeout_s:.0f} s without progress in its log; last log line: {last}"

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
