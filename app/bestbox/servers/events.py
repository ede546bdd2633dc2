"""The latest snapshot of one server and who hears about changes: subscribers (callbacks on the
event loop) and waiters (futures resolved when a predicate holds).

Only the supervisor's owner task publishes; anyone reads `current`, subscribes or waits.
"""
from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from typing import Any, Callable

from .state import ServerSnapshot

log = logging.getLogger(__name__)

NOTIFY_EVERY_S = 1.0  # changes of live numbers only (uptime, CPU, RSS) notify at most this often


async def end_task(task: asyncio.Task | None) -> None:
    """Cancel a supervisor's owner task and wait until it has ended (its own errors are not ours)."""
    if task is not None and not task.done():
        task.cancel()
        try:
            await task
        except (asyncio.CancelledError, Exception):
            pass


class SnapshotFeed:
    def __init__(self, name: str, first: ServerSnapshot) -> None:
        self.name = name
        self.current = first
        self._subs: list[Callable[[ServerSnapshot], Any]] = []
        self._waiters: list[tuple[Callable[[ServerSnapshot], bool], asyncio.Future]] = []
        self._last_notify = 0.0

    def subscribe(self, cb: Callable[[ServerSnapshot], Any]) -> Callable[[], None]:
        """cb(snapshot) on the event loop after every change. Exceptions are logged, never raised."""
        self._subs.append(cb)

        def unsubscribe() -> None:
            if cb in self._subs:
                self._subs.remove(cb)
        return unsubscribe

    async def wait_for(self, pred: Callable[[ServerSnapshot], bool], timeout: float | None = None) -> ServerSnapshot:
        if pred(self.current):
            return self.current
        fut = asyncio.get_running_loop().create_future()
        self._waiters.append((pred, fut))
        try:
            return await asyncio.wait_for(fut, timeout)
        finally:
            self._waiters = [w for w in self._waiters if w[1] is not fut]

    def release_waiters(self) -> None:
        """Nobody waits forever on a closed supervisor: every waiter gets the current snapshot."""
        for _, fut in self._waiters:
            if not fut.done():
                fut.set_result(self.current)

    def publish(self, new: ServerSnapshot) -> None:
        old, self.current = self.current, new
        now = time.monotonic()
        same = dataclasses.replace(new, uptime_s=None, cpu_percent=None, rss_bytes=None) == \
            dataclasses.replace(old, uptime_s=None, cpu_percent=None, rss_bytes=None)
        if same and now - self._last_notify < NOTIFY_EVERY_S:
            return  # live numbers only: at most one notification a second
        self._last_notify = now
        for cb in list(self._subs):
            try:
                r = cb(new)
                if asyncio.iscoroutine(r):
                    asyncio.ensure_future(r)
            except Exception:
                log.exception("subscriber of %s failed", self.name)
        for pred, fut in list(self._waiters):
            if not fut.done() and pred(new):
                fut.set_result(new)
