"""`bestbox bench --only records`: the user's records read through a mapping (issue 8).

For each source: `data check` time, `data sync` time, rows and rows/s, then the snapshot-vs-live
question of `data measure` (the tool on the snapshot vs one live read-only SELECT on the source,
on an open connection and on a new one). Sources, all real servers started in temp dirs:
- sqlite: a generated ERP export (2,000 suppliers, 50,000 purchase orders) through a small mapping;
- postgresql: the Odoo-shaped test database (tests/records/odoo_shaped.sql), then grown to a
  mid-sized company (+ odoo_scale.sql: 2,000 vendors, 50,000 POs, 200,000 lines, 40,000 bills),
  through docs/data-mappings/odoo.toml;
- mariadb: the ERPNext-shaped test database (tests/records/erpnext_shaped.sql) through
  docs/data-mappings/erpnext.toml.
The schemas and mappings live in the source checkout (tests/, docs/); without them those sources
are skipped with the reason. Standalone: `python -m bestbox.bench.records [--repeats N]`.
"""
from __future__ import annotations

import asyncio
import os
import random
import sqlite3
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
TESTS = ROOT / "tests" / "records"
MAPPINGS = ROOT / "docs" / "data-mappings"

SQLITE_MAPPING = '''
[vendors]
sql = """SELECT supplier_id AS id, supplier_name AS name, 'General' AS category, country, 3.0 AS rating,
         30 AS payment_terms_days, lead_days AS quoted_lead_time_days, '' AS contact_email FROM suppliers"""
[purchase_orders]
sql = """SELECT po_no AS id, 'PO-' || po_no AS po_number, supplier_id AS vendor_id, 1 AS warehouse_id,
         ordered AS order_date, ordered AS expected_date,
         CASE state WHEN 'Open' THEN 'open' WHEN 'Received' THEN 'received' ELSE 'cancelled' END AS status,
         total AS total_amount, 'purchasing' AS buyer FROM purchase_orders"""
'''


@contextmanager
def _env(**values: str):
    old = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def measure_source(url: str, mapping: Path, password: str = "", repeats: int = 10) -> dict:
    """check, sync and snapshot-vs-live for one source, in a throw-away data dir."""
    from ..config import Config
    from ..data.records.measure import measure
    from ..data.records.sync import check

    with tempfile.TemporaryDirectory(prefix="bestbox-records-") as d, \
            _env(BESTBOX_DATA_DIR=d, BESTBOX_DB_PASSWORD=password):
        cfg = Config()
        cfg.data.source, cfg.data.mapping = url, str(mapping)
        t = time.perf_counter()
        chk = check(cfg)
        check_s = time.perf_counter() - t
        if not chk["ok"]:
            return {"ok": False, "check_s": round(check_s, 3), "error": chk.get("error") or {
                k: v["problems"] for k, v in chk["entities"].items() if not v["ok"]}}
        m = measure(cfg, repeats)
        if not m.get("ok"):
            return {"ok": False, "check_s": round(check_s, 3), "error": m.get("error")}
        m.update(check_s=round(check_s, 3), entities=len(chk["entities"]),
                 rows_per_s=round(m["rows"] / m["sync_s"]) if m["sync_s"] else None)
        return m


def write_sqlite_export(path: Path, vendors: int = 2000, orders: int = 50_000, seed: int = 5) -> Path:
    rng = random.Random(seed)
    con = sqlite3.connect(path)
    con.execute("CREATE TABLE suppliers (supplier_id INTEGER, supplier_name TEXT, country TEXT, lead_days INTEGER)")
    con.execute("CREATE TABLE purchase_orders (po_no INTEGER, supplier_id INTEGER, ordered TEXT, state TEXT, total REAL)")
    con.executemany("INSERT INTO suppliers VALUES (?, ?, ?, ?)",
                    [(i, f"Supplier {i}", rng.choice(("Germany", "Poland", "Austria")), rng.randint(3, 30))
                     for i in range(1, vendors + 1)])
    today = time.time()
    con.executemany("INSERT INTO purchase_orders VALUES (?, ?, ?, ?, ?)", [
        (i, rng.randint(1, vendors), time.strftime("%Y-%m-%d", time.gmtime(today - rng.randint(0, 400) * 86400)),
         rng.choice(("Open", "Received", "Cancelled")), round(rng.uniform(100, 9000), 2)) for i in range(1, orders + 1)])
    con.commit()
    con.close()
    return path


def _sqlite(repeats: int) -> dict:
    with tempfile.TemporaryDirectory(prefix="bestbox-records-src-") as d:
        src = write_sqlite_export(Path(d) / "erp.db")
        (Path(d) / "map.toml").write_text(SQLITE_MAPPING)
        return {"schema": "ERP export (suppliers, purchase_orders): 2,000 + 50,000 rows",
                **measure_source(f"sqlite:///{src}", Path(d) / "map.toml", repeats=repeats)}


def _postgres(repeats: int) -> dict:
    from .db_servers import READER_PW, DatabaseUnavailable, running_postgres

    if not (TESTS / "odoo_shaped.sql").exists():
        return {"skipped": "needs the source checkout (tests/records/odoo_shaped.sql)"}
    out = {}
    try:
        for name, extra in (("small", []), ("mid", [TESTS / "odoo_scale.sql"])):
            t = time.perf_counter()
            with running_postgres(TESTS / "odoo_shaped.sql", *extra) as pg:
                start_s = time.perf_counter() - t
                out[name] = {"server_start_and_load_s": round(start_s, 1),
                             **measure_source(pg.url(), MAPPINGS / "odoo.toml", READER_PW, repeats)}
    except DatabaseUnavailable as e:
        out["skipped"] = str(e)
    return out


def _mariadb(repeats: int) -> dict:
    from .db_servers import READER_PW, DatabaseUnavailable, running_mariadb

    if not (TESTS / "erpnext_shaped.sql").exists():
        return {"skipped": "needs the source checkout (tests/records/erpnext_shaped.sql)"}
    t = time.perf_counter()
    try:
        with running_mariadb(TESTS / "erpnext_shaped.sql") as db:
            start_s = time.perf_counter() - t
            return {"server_start_and_load_s": round(start_s, 1),
                    **measure_source(db.url(), MAPPINGS / "erpnext.toml", READER_PW, repeats)}
    except DatabaseUnavailable as e:
        return {"skipped": str(e)}


def run(repeats: int = 10, log=print) -> dict:
    out = {"load_avg_start": round(os.getloadavg()[0], 1)}
    for name, fn in (("sqlite", _sqlite), ("postgresql", _postgres), ("mariadb", _mariadb)):
        log(f"  records: {name}")
        try:
            out[name] = fn(repeats)
        except Exception as e:      # one source failing must not hide the others' numbers
            out[name] = {"ok": False, "error": f"{type(e).__name__}: {e}"}
    out["load_avg_end"] = round(os.getloadavg()[0], 1)
    return out


def _line(name: str, r: dict) -> str:
    if not r or "skipped" in r:
        return f"  {name:<16} skipped: {(r or {}).get('skipped')}"
    if not r.get("ok"):
        return f"  {name:<16} FAILED: {r.get('error')}"
    return (f"  {name:<16} {r['rows']:>7} rows  check {r['check_s']:.2f} s  sync {r['sync_s']:.2f} s "
            f"({r['rows_per_s']} rows/s)  query: snapshot {r['snapshot_query_ms']} ms, live "
            f"{r['live_query_ms']} ms (new connection {r['live_connect_query_ms']} ms)")


def format_section(r: dict | None) -> list[str]:
    if not r:
        return []
    out = ["", "Records through a mapping (check, sync, snapshot vs live; medians)"]
    out.append(_line("sqlite", r.get("sqlite") or {}))
    pg = r.get("postgresql") or {}
    if "skipped" in pg:
        out.append(_line("postgresql", pg))
    for size in ("small", "mid"):
        if size in pg:
            out.append(_line(f"postgresql {size}", pg[size]))
    out.append(_line("mariadb", r.get("mariadb") or {}))
    return out


async def bench_records(ctx) -> dict:
    reps = 5 if getattr(ctx.opt, "quick", False) else 20
    log = getattr(ctx.opt, "log", print)
    return await asyncio.get_running_loop().run_in_executor(None, lambda: run(reps, log))


def main(argv=None) -> int:
    import argparse
    import json

    p = argparse.ArgumentParser(prog="python -m bestbox.bench.records")
    p.add_argument("--repeats", type=int, default=20)
    p.add_argument("--json", action="store_true")
    a = p.parse_args(argv)
    res = run(a.repeats, log=lambda m: None)
    print(json.dumps(res, indent=1) if a.json else "\n".join(format_section(res)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
