"""The demo company generator: required sizes, determinism, FTS5, WAL, and the user-file rules."""
from __future__ import annotations

import hashlib
import sqlite3
from datetime import date, timedelta

import pytest

from bestbox.agents import data
from bestbox.agents.data import connect, ensure_database, generate


def checksums(path) -> dict[str, str]:
    con = sqlite3.connect(path)
    out = {}
    for table in data.table_counts(con):
        if table == "meta":
            continue
        h = hashlib.sha256()
        for row in con.execute(f'SELECT * FROM "{table}" ORDER BY rowid'):
            h.update(repr(row).encode())
        out[table] = h.hexdigest()
    con.close()
    return out


def test_required_sizes(shared_db):
    con = connect(shared_db)
    c = data.table_counts(con)
    assert c["vendors"] >= 200 and c["purchase_orders"] >= 5000 and c["po_lines"] > c["purchase_orders"]
    assert c["customers"] >= 300 and c["opportunities"] >= 800 and c["contacts"] > 300
    for t in ("products", "warehouses", "stock", "invoices", "activities", "complaints", "hosts", "services",
              "host_metrics", "incidents", "tickets", "backup_jobs", "logs", "employees", "leave_balances",
              "documents", "rooms", "room_bookings", "meetings"):
        assert c[t] > 0, t
    assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_orders_span_two_years_up_to_today(shared_db, today):
    con = connect(shared_db)
    lo, hi = con.execute("SELECT MIN(order_date), MAX(order_date) FROM purchase_orders").fetchone()
    assert date.fromisoformat(lo) <= today - timedelta(days=700)
    assert today - timedelta(days=3) <= date.fromisoformat(hi) <= today
    # Every PO's total is the sum of its lines.
    bad = con.execute("""SELECT COUNT(*) FROM purchase_orders po JOIN (SELECT po_id, SUM(amount) s FROM po_lines
                         GROUP BY po_id) l ON l.po_id = po.id WHERE ABS(po.total_amount - l.s) > 0.011""").fetchone()[0]
    assert bad == 0
    q_start = date(today.year, 3 * ((today.month - 1) // 3) + 1, 1)
    n = con.execute("SELECT COUNT(*) FROM purchase_orders WHERE order_date >= ?", (q_start.isoformat(),)).fetchone()[0]
    assert n > 0, "this quarter must have orders"


def test_same_seed_same_data(tmp_path, today):
    a, b, c = tmp_path / "a.sqlite", tmp_path / "b.sqlite", tmp_path / "c.sqlite"
    ra = generate(a, seed=11, today=today)
    rb = generate(b, seed=11, today=today)
    generate(c, seed=12, today=today)
    assert ra["counts"] == rb["counts"]
    assert checksums(a) == checksums(b)
    assert checksums(a)["purchase_orders"] != checksums(c)["purchase_orders"]


def test_fts5_finds_policy(shared_db):
    con = connect(shared_db)
    rows = con.execute("SELECT d.title FROM documents_fts JOIN documents d ON d.id = documents_fts.rowid "
                       "WHERE documents_fts MATCH ? ORDER BY bm25(documents_fts)", ('"hotel" "night"',)).fetchall()
    assert rows and rows[0][0] == "Travel and Expense Policy"


def test_ensure_database_creates_demo_once(tmp_path, monkeypatch, today):
    monkeypatch.setenv("BESTBOX_DATA_DIR", str(tmp_path))
    p = ensure_database(None, today=today)
    assert p == tmp_path / data.DEMO_FILENAME and p.exists()
    con = connect(p)
    con.execute("INSERT INTO requisitions (req_number, product_id, warehouse_id, quantity, estimated_amount, "
                "requested_by, created_at) VALUES ('REQ-X', 1, 1, 1, 1.0, 't', 'now')")
    con.commit()
    con.close()
    assert ensure_database(None, today=today) == p
    con = connect(p)
    assert con.execute("SELECT COUNT(*) FROM requisitions").fetchone()[0] == 1, "a fresh demo file is kept"


def test_stale_demo_is_regenerated(tmp_path, monkeypatch, today):
    monkeypatch.setenv("BESTBOX_DATA_DIR", str(tmp_path))
    old = today - timedelta(days=120)
    generate(tmp_path / data.DEMO_FILENAME, today=old)
    ensure_database(None, today=today)
    assert data.anchor_date(tmp_path / data.DEMO_FILENAME) == today


def test_user_file_is_never_touched(tmp_path):
    class Cfg:
        class data:
            database = str(tmp_path / "mine.sqlite")

    with pytest.raises(FileNotFoundError):
        ensure_database(Cfg)
    assert not (tmp_path / "mine.sqlite").exists()
    mine = tmp_path / "mine.sqlite"
    generate(mine, today=date(2020, 1, 1))  # even an old demo-looking user file stays as it is
    before = mine.read_bytes()
    assert ensure_database(Cfg) == mine
    assert mine.read_bytes() == before


def test_foreign_file_at_demo_path_is_kept(tmp_path, monkeypatch):
    monkeypatch.setenv("BESTBOX_DATA_DIR", str(tmp_path))
    p = tmp_path / data.DEMO_FILENAME
    con = sqlite3.connect(p)
    con.execute("CREATE TABLE mine (x)")
    con.commit()
    con.close()
    assert ensure_database(None) == p
    assert sqlite3.connect(p).execute("SELECT name FROM sqlite_master").fetchall() == [("mine",)]
