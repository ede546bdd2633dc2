"""bench/loop_lag.py: a blocked event loop shows as a late wake at the time it was blocked."""
from __future__ import annotations

import asyncio
import time

from bestbox.bench.loop_lag import LoopLag
from bestbox.trace import now_ms


def test_a_blocking_call_shows_as_a_late_wake():
    async def main():
        t0 = now_ms()
        lag = LoopLag().start()
        await asyncio.sleep(0.02)
        time.sleep(0.06)          # the loop is blocked here, as by synchronous work in a callback
        await asyncio.sleep(0.02)
        lag.stop()
        return lag.summary(t0)

    s = asyncio.run(main())
    assert s["max_ms"] >= 40 and s["worst"][0][1] == s["max_ms"]
    assert 0 <= s["worst"][0][0] < 200       # in ms from t0, where the block began


def test_an_idle_loop_has_no_late_wakes_to_speak_of():
    async def main():
        lag = LoopLag(min_ms=1000).start()
        await asyncio.sleep(0.05)
        lag.stop()
        return lag.summary(now_ms())

    assert asyncio.run(main()) == {"max_ms": 0.0, "total_ms": 0.0, "worst": []}
