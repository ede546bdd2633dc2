"""How late the event loop runs while a turn is in flight: a task that asks to wake every `tick_ms`
and records each wake that came `min_ms` or more late. The turn's HTTP replies are read on the same
loop, so a late wake is time a finished server call waited to be noticed (a voice turn's tool choice
took 100-150 ms longer than the server's own time on the H200, typed turns ~15 ms)."""
from __future__ import annotations

import asyncio

from ..trace import now_ms


class LoopLag:
    def __init__(self, tick_ms: float = 2.0, min_ms: float = 10.0) -> None:
        self.tick_ms, self.min_ms = tick_ms, min_ms
        self.late: list[tuple[float, float]] = []    # (when, now_ms clock; how late, ms)
        self._task: asyncio.Task | None = None

    def start(self) -> "LoopLag":
        self._task = asyncio.get_running_loop().create_task(self._run())
        return self

    async def _run(self) -> None:
        while True:
            t = now_ms()
            await asyncio.sleep(self.tick_ms / 1000)
            late = now_ms() - t - self.tick_ms
            if late >= self.min_ms:
                self.late.append((t, late))

    def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()

    def summary(self, t0_ms: float) -> dict:
        """The late wakes, in ms from `t0_ms` (the turn trace's origin), the longest first."""
        worst = sorted(self.late, key=lambda x: -x[1])[:8]
        return {"max_ms": round(max((x[1] for x in self.late), default=0.0), 1),
                "total_ms": round(sum(x[1] for x in self.late), 1),
                "worst": [[round(t - t0_ms, 1), round(lag, 1)] for t, lag in worst]}
