"""The user's records from a real PostgreSQL with an Odoo-shaped schema, through the shipped Odoo
mapping: check, sync, the same ERP/CRM tools as on the demo, and every failure named while the last
good snapshot keeps answering. Nothing is ever written to the source."""
from __future__ import annotations

import json
import logging
import subprocess
import sys

import pytest

from bestbox.agents.data import database_path, ensure_database
from bestbox.agents.tools import get_tool
from bestbox.data.records.sync import check, read_status, snapshot_path, sync

from .conftest import READER_PW, free_port


def tool(tool_name, db, /, **args):
    out = get_tool(tool_name).run(db, **args)
    assert "error" not in out, out
    json.dumps(out)
    return out


def test_check_passes_for_every_entity(records_config):
    res = check(records_config)
    assert res["error"] is None, res["error"]
    assert res["ok"], {n: e["problems"] for n, e in res["entities"].items() if not e["ok"]}
    assert set(res["entities"]) >= {"vendors", "purchase_orders", "invoices", "stock", "customers",
                                    "opportunities", "tickets", "employees"}
    assert res["password_from"] == "$BESTBOX_DB_PASSWORD"
    v = res["entities"]["vendors"]["sample"][0]
    assert isinstance(v["rating"], float) and isinstance(v["quoted_lead_time_days"], int)
    assert "hosts" in res["unmapped"]


def test_sync_then_erp_and_crm_tools_answer_from_postgres(records_config, postgres):
    res = sync(records_config)
    assert res["ok"], res["error"]
    assert res["counts"]["vendors"] == 4 and res["counts"]["purchase_orders"] == 6
    db = ensure_database(records_config)
    assert db == snapshot_path() and database_path(records_config) == (db, True)

    top = tool("top_vendors_by_spend", db, period="last_90_days")
    assert top["rows"][0]["vendor"] == "Azure Interior" and top["rows"][0]["spend"] == 11850.0
    assert top["total_spend"] == 7900 + 3950 + 2600 + 1080 + 400  # the cancelled P00006 is not spend
    overdue = tool("overdue_invoices", db)
    assert {r["invoice_number"]: r["amount_due"] for r in overdue["rows"]} == {
        "BILL/2026/0001": 7900.0, "BILL/2026/0003": 150.0}
    stock = tool("stock_levels", db, below_reorder=True)
    assert [r["product"] for r in stock["rows"]] == ["Large Cabinet"]
    leads = tool("vendor_lead_times", db, vendor="Wood")
    assert leads["rows"][0]["vendor"] == "Wood Corner" and leads["rows"][0]["quoted_days"] == 8

    cust = tool("top_customers", db, period="last_90_days")
    assert [r["customer"] for r in cust["rows"]] == ["Deco Addict", "Ready Mat"]
    pipe = tool("pipeline_summary", db)
    assert {r["stage"] for r in pipe["rows"]} >= {"proposal", "qualification"}
    look = tool("customer_lookup", db, name="Deco")
    assert look["rows"][0]["contacts"][0]["name"] == "Douglas Fletcher"
    inc = tool("open_incidents", db)
    assert inc  # tickets by priority come from helpdesk_ticket
    # The source is untouched: BestBox only read it.
    with postgres.admin() as a:
        assert a.execute("SELECT count(*) FROM purchase_order").fetchone()[0] == 6


def test_cli_data_check_and_sync_json(records_config, tmp_path, monkeypatch):
    import tomlkit

    cfg_path = tmp_path / "config.toml"
    cfg_path.write_text(tomlkit.dumps({"data": records_config.data.model_dump()}), encoding="utf-8")
    env = {**__import__("os").environ, "BESTBOX_CONFIG": str(cfg_path)}
    for action in ("check", "sync", "status"):
        r = subprocess.run([sys.executable, "-m", "bestbox", "data", action, "--json"], capture_output=True,
                           text=True, env=env, timeout=120)
        assert r.returncode == 0, (action, r.stdout[-2000:], r.stderr[-2000:])
        out = json.loads(r.stdout)
        assert out["ok"], out
        assert READER_PW not in r.stdout + r.stderr


def test_wrong_password_is_named_and_never_shown(records_config, caplog, monkeypatch):
    assert sync(records_config)["ok"]
    good = snapshot_path()
    wrong = "Wr0ng-pa55word-xyzzy"
    monkeypatch.setenv("BESTBOX_DB_PASSWORD", wrong)
    caplog.set_level(logging.DEBUG)
    res = sync(records_config)
    assert not res["ok"] and res["error"]["kind"] == "auth"
    assert "refused the login" in res["error"]["message"] and "$BESTBOX_DB_PASSWORD" in res["error"]["message"]
    everything = json.dumps(res) + caplog.text + json.dumps(read_status()) + json.dumps(check(records_config))
    assert wrong not in everything and READER_PW not in everything
    # The last good snapshot keeps answering.
    assert snapshot_path() == good and ensure_database(records_config) == good
    assert tool("top_vendors_by_spend", good, period="last_90_days")["rows"]


def test_unreachable_server(records_config, postgres):
    assert sync(records_config)["ok"]
    records_config.data.source = postgres.url(port=free_port())
    res = sync(records_config)
    assert res["error"]["kind"] == "unreachable" and "cannot reach" in res["error"]["message"]
    assert res["snapshot"] and "keeps answering" in res["note"]


def test_slow_query_is_stopped(records_config, tmp_path):
    slow = tmp_path / "slow.toml"
    slow.write_text('[vendors]\nsql = "SELECT p.*, pg_sleep(3) FROM (SELECT 1 AS id) p"\n')
    records_config.data.mapping = str(slow)
    records_config.data.statement_timeout_s = 0.5
    res = sync(records_config)
    assert res["error"]["kind"] == "timeout" and "0.5 s" in res["error"]["message"]


def test_source_is_read_only_even_with_write_grants(records_config, postgres, tmp_path):
    evil = tmp_path / "evil.toml"
    evil.write_text('[vendors]\nsql = """WITH gone AS (DELETE FROM res_partner WHERE id = 4 RETURNING id) '
                    'SELECT id FROM gone"""\n')
    records_config.data.mapping = str(evil)
    res = sync(records_config)
    assert not res["ok"] and res["error"]["kind"] == "mapping"
    assert "only reads" in res["error"]["message"]
    # A SELECT with a side effect (nextval writes a sequence) is stopped by the read-only transaction.
    evil.write_text("[vendors]\nsql = \"SELECT nextval('res_partner_id_seq') AS id\"\n")
    res = sync(records_config)
    assert res["error"]["kind"] == "mapping" and "read-only transaction" in res["error"]["message"]
    # And so is a plain DELETE on the connection BestBox reads with.
    from bestbox.data.records.source import Source, SourceError

    src = Source.open(records_config.data.source)
    with pytest.raises(SourceError, match="only reads"):
        with src.connection() as conn:
            conn.exec_driver_sql("DELETE FROM res_partner WHERE id = 4")
    src.close()
    with postgres.admin() as a:
        assert a.execute("SELECT count(*) FROM res_partner WHERE id = 4").fetchone()[0] == 1
        assert a.execute("SELECT last_value FROM res_partner_id_seq").fetchone()[0] == 12


def test_changed_schema_is_named_and_last_snapshot_answers(records_config, postgres):
    assert sync(records_config)["ok"]
    good = snapshot_path()
    with postgres.admin() as a:
        a.execute("ALTER TABLE purchase_order RENAME COLUMN amount_total TO amount_total_eur")
    try:
        res = sync(records_config)
        assert res["error"]["kind"] == "schema" and "purchase_orders" in res["error"]["message"]
        assert "amount_total" in res["error"]["message"]
        chk = check(records_config)
        assert not chk["entities"]["purchase_orders"]["ok"] and chk["entities"]["vendors"]["ok"]
        assert snapshot_path() == good
        assert tool("top_vendors_by_spend", good, period="last_90_days")["rows"][0]["vendor"] == "Azure Interior"
    finally:
        with postgres.admin() as a:
            a.execute("ALTER TABLE purchase_order RENAME COLUMN amount_total_eur TO amount_total")


def test_check_names_bad_values(records_config, tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('[purchase_orders]\nsql = """SELECT id, name AS po_number, partner_id AS vendor_id, 1 AS warehouse_id,'
                   ' date_order AS order_date, date_order AS expected_date, state AS status, amount_total AS total_amount,'
                   " 'x' AS buyer FROM purchase_order\"\"\"\n"
                   '[vendors]\nsql = "SELECT id, name FROM res_partner"\n')
    records_config.data.mapping = str(bad)
    res = check(records_config)
    po = res["entities"]["purchase_orders"]
    assert not po["ok"] and any("allowed set" in p and "CASE" in p for p in po["problems"])
    v = res["entities"]["vendors"]
    assert not v["ok"] and "missing columns: category, country" in v["problems"][0]


def test_doctor_names_each_failure_and_the_snapshot_that_still_answers(records_config, postgres, monkeypatch, tmp_path):
    from bestbox.cli.doctor_cmd import check_records

    assert sync(records_config)["ok"]
    c = check_records(records_config)
    assert c.ok and "source reachable, mapping ok" in c.detail and "rows, synced just now" in c.detail
    monkeypatch.setenv("BESTBOX_DB_PASSWORD", "not-the-password-42")
    c = check_records(records_config)
    assert not c.ok and "refused the login" in c.detail and "keeps answering" in c.detail
    assert "not-the-password-42" not in json.dumps(c.__dict__) and "password" in c.fix
    monkeypatch.setenv("BESTBOX_DB_PASSWORD", READER_PW)
    records_config.data.source = postgres.url(port=free_port())
    c = check_records(records_config)
    assert not c.ok and "cannot reach" in c.detail and "running" in c.fix
    records_config.data.source = postgres.url()
    slow = tmp_path / "slow.toml"
    slow.write_text('[vendors]\nsql = "SELECT p.*, pg_sleep(3) FROM (SELECT 1 AS id) p"\n')
    records_config.data.mapping = str(slow)
    records_config.data.statement_timeout_s = 0.5
    c = check_records(records_config)
    assert not c.ok and "longer than 0.5 s" in c.detail and "statement_timeout_s" in c.fix


def test_each_sync_is_a_new_file_and_the_previous_one_is_kept_one_round(records_config):
    from bestbox.data.records.sync import records_dir

    seen = []
    for _ in range(3):
        assert sync(records_config)["ok"]
        seen.append(ensure_database(records_config))
    assert len(set(seen)) == 3
    assert sorted(records_dir().glob("snapshot-*.sqlite")) == seen[1:]
    assert not list(records_dir().glob("*.part"))
