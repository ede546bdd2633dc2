"""Watching a server that serves: its health and its numbers, one tick at a time.

Returns what it saw; the supervisor's owner task decides on state changes. A fresh ServingWatch
per process, so numbers never carry over from a stopped server to the next one.
"""
from __future__ import annotations

from .metrics import apply_sample
from .monitor import Monitor
from .state import ServerStats

DEGRADED_AFTER = 2     # failed or slow health checks in a row before a ready server is degraded
EXTERNAL_GONE_AFTER = 3  # unanswered health checks before an external server counts as gone


class ServingWatch:
    def __init__(self, mon: Monitor, base_url: str, headers: dict, pid: int | None) -> None:
        self.mon, self.base_url, self.headers, self.pid = mon, base_url, headers, pid
        self.stats = ServerStats()
        self._bad = 0
        self._n = 0
        self._need_props = True

    def restart_count(self) -> None:
        """A new state: count ticks from there (health every second tick)."""
        self._n = 0

    async def tick_ours(self) -> tuple[bool, str] | None:
        """Every second tick: /health, then the numbers. Returns None when nothing was checked, else
        (healthy, problem): healthy until DEGRADED_AFTER checks in a row went wrong."""
        self._n += 1
        if self._n % 2:
            return None
        health = await self.mon.health(self.base_url)
        self._bad = 0 if health.ok else self._bad + 1
        await self.collect()
        return self._bad < DEGRADED_AFTER, "" if health.ok else health.problem

    async def tick_external(self) -> bool:
        """Returns False once the server stopped answering EXTERNAL_GONE_AFTER times in a row."""
        self._n += 1
        if await self.mon.health_code(self.base_url) is None:
            self._bad += 1
            return self._bad < EXTERNAL_GONE_AFTER
        self._bad = 0
        if self._n % 2 == 0:
            await self.collect()
        return True

    async def baseline(self) -> None:
        """/metrics and /slots (no /props, no VRAM query) the moment the server turns ready: the first
        answer then counts as a request and gives a speed."""
        apply_sample(self.stats, await self.mon.collect(self.base_url, self.headers, pid=self.pid, props=False,
                                                        vram=False))

    async def collect(self) -> None:
        sample = await self.mon.collect(self.base_url, self.headers, pid=self.pid, props=self._need_props,
                                        vram=self._n % 10 == 0)
        if sample.props_read:
            self._need_props = False
        apply_sample(self.stats, sample)
