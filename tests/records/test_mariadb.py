"""The user's records from a real MariaDB (Debian's mariadb-server, started in a temp dir on a
loopback port) with an ERPNext-shaped schema, through the shipped ERPNext mapping and a
`mysql+pymysql://` URL whose password comes from an environment variable: check, sync, the ERP
tools on the snapshot, a wrong password named, and nothing written to the source."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bestbox.agents.tools import get_tool
from bestbox.bench import db_servers
from bestbox.data.records.source import Source, SourceError
from bestbox.data.records.sync import check, snapshot_path, sync

HERE = Path(__file__).parent
MAPPING = HERE.parents[1] / "docs" / "data-mappings" / "erpnext.toml"


@pytest.fixture(scope="module")
def mariadb():
    try:
        with db_servers.running_mariadb(HERE / "erpnext_shaped.sql", start_timeout_s=20) as db:
            yield db
    except db_servers.DatabaseUnavailable as e:
        pytest.skip(f"no MariaDB server here: {e}")


@pytest.fixture
def maria_config(mariadb, tmp_path, monkeypatch):
    from bestbox.config import Config

    monkeypatch.setenv("BESTBOX_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("BESTBOX_DB_PASSWORD", db_servers.READER_PW)
    cfg = Config()
    cfg.data.source, cfg.data.mapping, cfg.data.statement_timeout_s = mariadb.url(), str(MAPPING), 10
    return cfg


def _source_rows(mariadb, table: str) -> int:
    with mariadb.admin() as a, a.cursor() as c:
        c.execute(f"SELECT COUNT(*) FROM `{table}`")
        return c.fetchone()[0]


def test_check_sync_and_the_erp_tools_answer(maria_config, mariadb):
    res = check(maria_config)
    assert res["ok"], res["error"] or {n: e["problems"] for n, e in res["entities"].items() if not e["ok"]}
    assert res["password_from"] == "$BESTBOX_DB_PASSWORD"
    assert set(res["entities"]) >= {"vendors", "purchase_orders", "invoices", "customers", "tickets", "employees"}
    done = sync(maria_config)
    assert done["ok"], done["error"]
    assert done["counts"]["vendors"] == 3 and done["counts"]["purchase_orders"] == 4
    assert done["counts"]["employees"] == 2            # the one who left is not active
    top = get_tool("top_vendors_by_spend").run(snapshot_path(), period="last_90_days")
    assert "error" not in top, top
    # A draft PO (docstatus 0) maps to 'open' and counts; the cancelled one (docstatus 2) does not.
    assert [(r["vendor"], r["spend"]) for r in top["rows"]] == [
        ("Alpenkraft Hydraulik AG", 9100.0), ("Nordwind Armaturen GmbH", 4250.0),
        ("Vistula Packaging Sp. z o.o.", 1600.0)], top
    assert top["total_spend"] == 14950.0
    assert _source_rows(mariadb, "tabPurchase Order") == 4


def test_the_source_is_only_read(maria_config, mariadb):
    src = Source.open(mariadb.url())
    try:
        with pytest.raises(SourceError) as e, src.connection() as conn:
            conn.exec_driver_sql("DELETE FROM `tabSupplier`")
        assert e.value.kind == "mapping" and "only reads" in e.value.message
    finally:
        src.close()
    assert _source_rows(mariadb, "tabSupplier") == 3


def test_wrong_password_is_named_and_never_shown(maria_config, monkeypatch):
    wrong = "Wr0ng-maria-pw-4242"
    monkeypatch.setenv("BESTBOX_DB_PASSWORD", wrong)
    res = sync(maria_config)
    assert not res["ok"] and res["error"]["kind"] == "auth", res
    assert wrong not in json.dumps(res) and db_servers.READER_PW not in json.dumps(res)


def test_cli_data_check_and_sync_with_a_mysql_url(maria_config, tmp_path):
    import tomlkit

    cfg_path = tmp_path / "config.toml"
    cfg_path.write_text(tomlkit.dumps({"data": maria_config.data.model_dump()}), encoding="utf-8")
    env = {**os.environ, "BESTBOX_CONFIG": str(cfg_path)}
    for action in ("check", "sync"):
        r = subprocess.run([sys.executable, "-m", "bestbox", "data", action, "--json"], capture_output=True,
                           text=True, env=env, timeout=120)
        assert r.returncode == 0, (action, r.stdout[-2000:], r.stderr[-2000:])
        assert json.loads(r.stdout)["ok"] and db_servers.READER_PW not in r.stdout + r.stderr


def test_a_slow_query_is_stopped_by_the_statement_timeout(maria_config, mariadb):
    src = Source.open(mariadb.url(), timeout_s=1)
    try:
        with pytest.raises(SourceError) as e, src.connection() as conn:
            cols, batches = src.rows(conn, "SELECT SLEEP(5) AS s, name FROM `tabSupplier`", "vendors", limit=10)
            list(batches)
        assert e.value.kind == "timeout", e.value.as_dict()
    finally:
        src.close()
