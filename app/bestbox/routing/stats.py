"""Small latency summaries shared by the routing report and `bestbox route --eval`."""
from __future__ import annotations

import math


def percentile(values: list[float], q: float) -> float | None:
    """Linear-interpolated percentile (q in 0..100); None for no values."""
    if not values:
        return None
    v = sorted(values)
    pos = (len(v) - 1) * q / 100.0
    lo, hi = math.floor(pos), math.ceil(pos)
    return v[lo] + (v[hi] - v[lo]) * (pos - lo)


def summary(values: list[float]) -> dict:
    r = lambda x: None if x is None else round(x, 3)  # noqa: E731
    return {"n": len(values), "p50_ms": r(percentile(values, 50)), "p90_ms": r(percentile(values, 90)),
            "max_ms": r(max(values) if values else None)}
