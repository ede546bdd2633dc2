"""The one percentile and summary of the app: the routing report, `bestbox route --eval` and
`bestbox bench` all use it.

Percentiles interpolate linearly between the two nearest ranks (numpy's default, the same as
`statistics.quantiles(..., method="inclusive")`), so the median of an even count is the mean of the
middle two and p90 of a few repeats moves smoothly instead of jumping to the maximum, as the
nearest-rank rule did with the bench's small samples.
"""
from __future__ import annotations

import math
from typing import Iterable


def _clean(values: Iterable[float | None]) -> list[float]:
    return sorted(x for x in values if x is not None)


def percentile(values: Iterable[float | None], q: float) -> float | None:
    """Linear-interpolated percentile (q in 0..100) of the non-None values; None when there are none."""
    v = _clean(values)
    if not v:
        return None
    pos = (len(v) - 1) * q / 100.0
    lo, hi = math.floor(pos), math.ceil(pos)
    return v[lo] + (v[hi] - v[lo]) * (pos - lo)


def summary(values: Iterable[float | None], nd: int = 3) -> dict:
    """{"n", "median", "p90", "max", "min"} of the non-None values (rounded to `nd` places); the
    shape of every number in `bestbox bench`'s JSON."""
    v = _clean(values)
    if not v:
        return {"n": 0, "median": None, "p90": None, "max": None}
    return {"n": len(v), "median": round(percentile(v, 50), nd), "p90": round(percentile(v, 90), nd),
            "max": round(v[-1], nd), "min": round(v[0], nd)}


def latency_summary(values: Iterable[float | None]) -> dict:
    """The same numbers under the routing report's keys: {"n", "p50_ms", "p90_ms", "max_ms"}."""
    s = summary(values)
    return {"n": s["n"], "p50_ms": s["median"], "p90_ms": s["p90"], "max_ms": s["max"]}
