"""One mapping, three kinds of source: a SQLite file, a folder of CSV exports (one table per file) and
an XLSX workbook (one table per sheet); plus the password's sources (env, keyring, none)."""
from __future__ import annotations

import csv
import sqlite3

import pytest

from bestbox.agents.tools import get_tool
from bestbox.config import Config
from bestbox.data.records.source import Source, SourceError, find_password
from bestbox.data.records.sync import check, snapshot_path, sync

SUPPLIERS = [("Supplier ID", "Supplier Name", "Country", "Lead Days"),
             ("S1", "Hartmann Metallbau", "Germany", "6"), ("S2", "Brightline Plastics", "Poland", "12")]
ORDERS = [("PO No", "Supplier ID", "Ordered", "State", "Total"),
          ("1001", "S1", "2026-11-20", "Open", "1,200.50"), ("1002", "S2", "2026-11-21", "Received", "300"),
          ("1003", "S1", "2026-11-22", "Cancelled", "9999"), ("1004", "S1", "2026-11-23", "Received", "800")]

MAPPING = '''
[vendors]
sql = """SELECT CAST(substr(supplier_id, 2) AS INTEGER) AS id, supplier_name AS name, 'General' AS category,
         country, 3.0 AS rating, 30 AS payment_terms_days, lead_days AS quoted_lead_time_days, '' AS contact_email
         FROM suppliers"""
[purchase_orders]
sql = """SELECT po_no AS id, 'PO-' || po_no AS po_number, CAST(substr(supplier_id, 2) AS INTEGER) AS vendor_id,
         1 AS warehouse_id, ordered AS order_date, ordered AS expected_date,
         CASE state WHEN 'Open' THEN 'open' WHEN 'Received' THEN 'received' ELSE 'cancelled' END AS status,
         total AS total_amount, 'purchasing' AS buyer
         FROM purchase_orders"""
'''


def _csv_folder(d):
    d.mkdir()
    for name, rows in (("suppliers", SUPPLIERS), ("purchase_orders", ORDERS)):
        with (d / f"{name}.csv").open("w", newline="", encoding="utf-8") as f:
            csv.writer(f).writerows(rows)
    return d


def _xlsx(path):
    import openpyxl

    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for name, rows in (("suppliers", SUPPLIERS), ("purchase_orders", ORDERS)):
        ws = wb.create_sheet(name)
        for r in rows:
            ws.append(list(r))
    wb.save(path)
    return path


def _sqlite(path):
    con = sqlite3.connect(path)
    for name, rows in (("suppliers", SUPPLIERS), ("purchase_orders", ORDERS)):
        cols = [c.lower().replace(" ", "_") for c in rows[0]]
        con.execute(f"CREATE TABLE {name} ({', '.join(cols)})")
        con.executemany(f"INSERT INTO {name} VALUES ({', '.join('?' * len(cols))})", rows[1:])
    con.commit()
    con.close()
    return path


@pytest.mark.parametrize("kind", ["sqlite", "csv", "xlsx"])
def test_same_mapping_for_sqlite_csv_and_xlsx(kind, tmp_path, monkeypatch):
    monkeypatch.setenv("BESTBOX_DATA_DIR", str(tmp_path / "data"))
    (tmp_path / "map.toml").write_text(MAPPING)
    if kind == "sqlite":
        src = _sqlite(tmp_path / "erp.db")
        before = src.read_bytes()
        url = f"sqlite:///{src}"
    elif kind == "csv":
        url = f"csv://{_csv_folder(tmp_path / 'export')}"
    else:
        url = f"xlsx://{_xlsx(tmp_path / 'export.xlsx')}"
    cfg = Config()
    cfg.data.source, cfg.data.mapping = url, str(tmp_path / "map.toml")
    res = check(cfg)
    assert res["ok"], res
    out = sync(cfg)
    assert out["ok"], out["error"]
    top = get_tool("top_vendors_by_spend").run(snapshot_path(), period="2026-11")
    assert [(r["vendor"], r["spend"]) for r in top["rows"]] == [("Hartmann Metallbau", 2000.5),
                                                                  ("Brightline Plastics", 300.0)]
    if kind == "sqlite":
        assert src.read_bytes() == before  # opened read-only


def test_sqlite_source_refuses_writes(tmp_path):
    src = Source.open(f"sqlite:///{_sqlite(tmp_path / 'erp.db')}")
    with pytest.raises(SourceError, match="only reads"):
        with src.connection() as conn:
            conn.exec_driver_sql("DELETE FROM suppliers")
    src.close()


def test_missing_files_and_bad_urls_are_named(tmp_path):
    with pytest.raises(SourceError, match="does not exist"):
        Source.open(f"csv://{tmp_path / 'nope'}")
    with pytest.raises(SourceError, match="unsupported database 'oracle'"):
        Source.open("oracle://u@h/db")
    with pytest.raises(SourceError, match="not a database URL"):
        Source.open("just some text")


def test_password_from_env_then_keyring_then_a_clear_message(monkeypatch):
    import keyring
    from keyring.backend import KeyringBackend
    from sqlalchemy.engine import make_url

    url = make_url("postgresql://reader@erp.example:5432/odoo")
    monkeypatch.setenv("MY_PW", "from-env")
    assert find_password(url, "MY_PW") == ("from-env", "$MY_PW")
    monkeypatch.delenv("MY_PW")
    # This machine has no OS keyring (no Secret Service): keyring's own fail backend says so.
    from keyring.backends import fail

    before = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    pw, why = find_password(url, "MY_PW")
    assert pw is None and "no OS keyring" in why and "set $MY_PW" in why

    class Memory(KeyringBackend):  # stands in for the desktop's keyring, which cannot run here
        priority = 1

        def get_password(self, service, username):
            return {("bestbox", "reader@erp.example/odoo"): "from-keyring"}.get((service, username))

        def set_password(self, *a):
            raise NotImplementedError

        def delete_password(self, *a):
            raise NotImplementedError

    keyring.set_keyring(Memory())
    try:
        assert find_password(url, "MY_PW") == ("from-keyring", "the OS keyring (bestbox / reader@erp.example/odoo)")
    finally:
        keyring.set_keyring(before)


def test_a_password_typed_into_the_url_is_used_but_never_shown(tmp_path, monkeypatch):
    from bestbox.data.records.source import safe_url
    from bestbox.data.records.status import summary

    assert safe_url("postgresql://bob:s3cr%40t@db:5432/erp") == "postgresql://bob@db:5432/erp"
    monkeypatch.setenv("BESTBOX_DATA_DIR", str(tmp_path / "data"))
    cfg = Config()
    cfg.data.source = f"postgresql://bob:hunter2-xyz@127.0.0.1:{_closed_port()}/erp"
    cfg.data.mapping = str(tmp_path / "missing.toml")
    res = check(cfg)
    assert res["error"]["kind"] == "mapping" and "hunter2-xyz" not in str(res)
    (tmp_path / "m.toml").write_text(MAPPING)
    cfg.data.mapping = str(tmp_path / "m.toml")
    out = sync(cfg)
    assert out["error"]["kind"] == "unreachable"
    assert "hunter2-xyz" not in str(out) + str(summary(cfg)) + str(check(cfg))


def _closed_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
