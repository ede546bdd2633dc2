"""`bestbox bench --only calibration` as a user runs it: no servers needed, the section's numbers,
the issue-13 target checks and a real reliability plot. No timing asserted."""
from __future__ import annotations

import json
import os
import subprocess
import sys

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def test_bench_calibration_runs_without_servers(tmp_path):
    env = {**os.environ, "BESTBOX_DATA_DIR": str(tmp_path / "data"), "BESTBOX_CONFIG": str(tmp_path / "c.toml")}
    out = tmp_path / "out"
    p = subprocess.run([sys.executable, "-m", "bestbox", "bench", "--only", "calibration", "--json", "--no-start",
                        "--out", str(out)], env=env, capture_output=True, text=True, timeout=600)
    assert p.returncode == 0, p.stderr[-2000:]
    res = json.loads(p.stdout)
    cal = res["calibration"]
    assert cal["calibration_matches_model"] is True
    for name in ("cv", "heldout"):
        s = cal["sets"][name]
        assert 0 <= s["ece"] <= 1 and s["reliability"] and s["curve"]
        assert s["at_threshold"]["threshold"] == cal["threshold"]
    r = cal["router"]
    assert r["n"] == cal["sets"]["heldout"]["n"] and "upper_bound_perfect_light" in r
    c = cal["corrections"]
    assert c["fixed_at_once"] == c["wrong"] == len(c["each"])
    names = {t["name"] for t in res["targets"]}
    assert {"fast path: accuracy on decided (held-out)", "fast path: confidently wrong (held-out)",
            "fast path: share decided (held-out)"} <= names
    png = out / "bench-calibration.png"
    assert str(png) in res["plots"] and png.read_bytes()[:8] == PNG_MAGIC
