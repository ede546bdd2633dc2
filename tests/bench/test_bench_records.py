"""`bestbox bench --only records` on a small SQLite export: the numbers it reports are there and
the report prints them (no timing is asserted)."""
from __future__ import annotations

from bestbox.bench import records


def test_measure_source_on_a_sqlite_export(tmp_path):
    src = records.write_sqlite_export(tmp_path / "erp.db", vendors=20, orders=300)
    (tmp_path / "map.toml").write_text(records.SQLITE_MAPPING)
    r = records.measure_source(f"sqlite:///{src}", tmp_path / "map.toml", repeats=2)
    assert r["ok"], r
    assert r["rows"] == 320 and r["entities"] == 2 and r["rows_per_s"] > 0
    for key in ("check_s", "sync_s", "snapshot_query_ms", "live_query_ms", "live_connect_query_ms"):
        assert r[key] >= 0, key
    lines = records.format_section({"sqlite": r, "postgresql": {"skipped": "why"}, "mariadb": {"ok": False, "error": "x"}})
    assert any("sqlite" in ln and "320 rows" in ln for ln in lines)
    assert any("skipped: why" in ln for ln in lines) and any("FAILED" in ln for ln in lines)
