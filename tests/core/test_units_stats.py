"""The one byte/duration formatter and the one percentile/summary of the app."""
import statistics

import pytest

from bestbox.stats import latency_summary, percentile, summary
from bestbox.units import fmt_bytes, fmt_duration


def test_bytes_labels_say_which_scale():
    # Files and transfers: SI (what Hugging Face lists); memory: IEC (what the OS reports).
    assert fmt_bytes(1_400_000_000) == "1.4 GB"
    assert fmt_bytes(1_400_000_000, binary=True) == "1.3 GiB"
    assert fmt_bytes(6 * 1024 * 1024) == "6.3 MB"
    assert fmt_bytes(6 * 1024 * 1024, binary=True) == "6.0 MiB"
    assert fmt_bytes(999) == "999 B" and fmt_bytes(1500) == "2 KB"
    assert fmt_bytes(None) is None and fmt_bytes(None, none="?") == "?"
    assert fmt_bytes(5 * 1000 ** 4) == "5.0 TB" and fmt_bytes(5 * 1000 ** 5) == "5000.0 TB"


def test_durations():
    assert [fmt_duration(s) for s in (42, 125, 3720, 90000)] == ["42 s", "2 min 05 s", "1 h 02 min", "1 d 1 h"]
    assert fmt_duration(None, none="?") == "?"


@pytest.mark.parametrize("values", [[5.0, 1.0], [3.0, 1.0, 2.0, 10.0], list(map(float, range(1, 21)))])
def test_percentile_interpolates_like_statistics_inclusive(values):
    deciles = statistics.quantiles(values, n=10, method="inclusive")
    assert percentile(values, 90) == pytest.approx(deciles[8])
    assert percentile(values, 50) == pytest.approx(statistics.median(values))


def test_summary_shapes_and_empty_input():
    s = summary([120.0, None, 130.0])
    assert s == {"n": 2, "median": 125.0, "p90": 129.0, "max": 130.0, "min": 120.0}
    assert latency_summary([120.0, 130.0]) == {"n": 2, "p50_ms": 125.0, "p90_ms": 129.0, "max_ms": 130.0}
    assert summary([]) == {"n": 0, "median": None, "p90": None, "max": None}
    assert latency_summary([])["p50_ms"] is None and percentile([], 50) is None
