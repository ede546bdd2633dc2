"""Snapshot or live queries? Measure both on the configured source (`bestbox data measure`).

The same question ("top vendors by spend, last 90 days") three ways:
- snapshot: the tool itself on the synced SQLite file (open, query, close: what the agents do);
- live, pooled: one SELECT on the source with the mapping's SELECTs inlined as CTEs, on an open
  connection (the best a live mode could do);
- live, connect: the same with a new connection each time (TLS/auth included, as after idle).
Plus the sync itself. Median of `repeats` runs, in milliseconds.
"""
from __future__ import annotations

import statistics
import time
from datetime import timedelta

from .sync import open_source, snapshot_path, sync

# The CTEs have names of their own: a source whose tables are called vendors or purchase_orders
# would otherwise make `WITH purchase_orders AS (... FROM purchase_orders)` refer to itself.
LIVE_SQL = """WITH bb_vendors AS ({vendors}), bb_purchase_orders AS ({purchase_orders})
SELECT v.name AS vendor, SUM(po.total_amount) AS spend, COUNT(*) AS po_count
FROM bb_purchase_orders po JOIN bb_vendors v ON v.id = po.vendor_id
WHERE po.status IN ('open', 'sent', 'received') AND po.order_date >= '{start}'
GROUP BY v.id, v.name ORDER BY spend DESC LIMIT 11"""


def _median_ms(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000)
    return round(statistics.median(times), 2)


def measure(cfg, repeats: int = 20) -> dict:
    from ...agents.tools import get_tool
    from ...agents.tools.base import today

    s = sync(cfg)
    if not s["ok"]:
        return {"ok": False, "error": s["error"]}
    snap = snapshot_path()
    top = get_tool("top_vendors_by_spend")
    snapshot_ms = _median_ms(lambda: top.run(snap, period="last_90_days"), repeats)
    src, mapping = open_source(cfg)
    if not {"vendors", "purchase_orders"} <= set(mapping.queries):
        return {"ok": False, "error": {"kind": "mapping", "message": "measuring needs vendors and purchase_orders"}}
    sql = LIVE_SQL.format(vendors=mapping.queries["vendors"], purchase_orders=mapping.queries["purchase_orders"],
                          start=(today() - timedelta(days=89)).isoformat())

    def live_once():
        with src.connection() as conn:
            conn.exec_driver_sql(sql).fetchall()

    try:
        with src.connection() as conn:
            pooled_ms = _median_ms(lambda: conn.exec_driver_sql(sql).fetchall(), repeats)
        connect_ms = _median_ms(live_once, max(3, repeats // 4))
    finally:
        src.close()
    return {"ok": True, "source": s["source"], "rows": sum(s["counts"].values()), "counts": s["counts"],
            "sync_s": s["seconds"], "snapshot_bytes": snap.stat().st_size,
            "question": "top_vendors_by_spend(last_90_days)", "repeats": repeats,
            "snapshot_query_ms": snapshot_ms, "live_query_ms": pooled_ms, "live_connect_query_ms": connect_ms}
