"""Every tool against a generated database; numbers checked with independent SQL."""
from __future__ import annotations

import json
import sqlite3
from datetime import date, timedelta

import pytest

from bestbox.agents.tools import TOOLS_BY_AGENT, all_tools, get_tool, parse_period
from bestbox.agents.tools.base import MAX_ROWS


def q(db, sql, params=()):
    con = sqlite3.connect(db)
    try:
        return con.execute(sql, params).fetchall()
    finally:
        con.close()


def run(tool_name, db, /, **args):
    out = get_tool(tool_name).run(db, **args)
    json.dumps(out)  # results must be JSON-serialisable for the model and the trace
    return out


# registry ---------------------------------------------------------------------------------------------

def test_registry_and_schemas():
    assert set(TOOLS_BY_AGENT) == {"erp", "crm", "it_ops", "oa"}
    names = [t.name for t in all_tools()]
    assert len(names) == len(set(names))
    for required in ("top_vendors_by_spend", "procurement_trends", "overdue_invoices", "stock_levels",
                     "vendor_lead_times", "create_requisition", "pipeline_summary", "top_customers",
                     "customer_lookup", "open_complaints", "log_call", "host_status", "open_incidents",
                     "failed_backups", "search_logs", "open_ticket", "search_documents", "leave_balance",
                     "room_availability", "book_room"):
        assert get_tool(required) is not None, required
    assert get_tool("nope") is None
    for t in all_tools():
        s = t.schema
        assert s["type"] == "function" and s["function"]["name"] == t.name and s["function"]["description"]
        params = s["function"]["parameters"]
        assert params["type"] == "object" and params["additionalProperties"] is False
        assert "$defs" not in json.dumps(params) and '"title": "' not in json.dumps(params)
        limit = params["properties"].get("limit")
        if limit:
            assert limit["maximum"] <= MAX_ROWS
        assert t.mutating == (t.name in ("create_requisition", "log_call", "open_ticket", "book_room"))
        assert (t.preview_fn is not None) == t.mutating


@pytest.mark.parametrize("bad", [{"limit": "many"}, {"limit": 10_000}, {"period": "yesterday-ish"},
                                 {"unknown": 1}, {"limit": [1, 2]}])
def test_bad_arguments_give_error_dicts(shared_db, bad):
    out = run("top_vendors_by_spend", shared_db, **bad)
    assert set(out) >= {"error", "tool"} and out["tool"] == "top_vendors_by_spend"
    assert "invalid arguments" in out["error"]


def test_every_tool_survives_garbage(shared_db):
    junk = [{}, {"x": 1}, {"limit": -1}, {"query": "x" * 5000}, {"employee": None}, {"date": "31/31/31"}]
    for t in all_tools():
        for args in junk:
            out = t.run(shared_db, **args)
            assert isinstance(out, dict)
        assert t.validate("not a dict")["error"].startswith("arguments must be")


def test_database_errors_are_results(tmp_path):
    empty = tmp_path / "empty.sqlite"
    sqlite3.connect(empty).close()
    out = run("overdue_invoices", empty)
    assert out["error"].startswith("database error")


# periods ----------------------------------------------------------------------------------------------

def test_periods():
    ref = date(2026, 11, 26)
    p = parse_period("this_quarter", ref)
    assert (p.start, p.end, p.prev_start, p.in_progress) == (date(2026, 10, 1), date(2027, 1, 1), date(2026, 7, 1), True)
    assert parse_period("2026-Q1", ref).start == date(2026, 1, 1) and parse_period("q1 2026", ref).end == date(2026, 4, 1)
    assert parse_period("Q1", ref).start == date(2026, 1, 1)
    assert parse_period("Q4", date(2026, 3, 1)).start == date(2025, 10, 1)
    assert parse_period("last_quarter", date(2026, 2, 1)).start == date(2025, 10, 1)
    assert parse_period("last_90_days", ref).end == ref + timedelta(days=1)
    assert parse_period("2025", ref).prev_start == date(2024, 1, 1)
    assert parse_period("2026-03", ref).end == date(2026, 4, 1)
    with pytest.raises(ValueError):
        parse_period("someday", ref)


# ERP --------------------------------------------------------------------------------------------------

def test_top_vendors_by_spend(shared_db, today):
    out = run("top_vendors_by_spend", shared_db, period="this_quarter", limit=5)
    p = parse_period("this_quarter", today)
    expect = q(shared_db, """SELECT v.name, ROUND(SUM(po.total_amount), 2) s FROM purchase_orders po
        JOIN vendors v ON v.id = po.vendor_id WHERE po.status != 'cancelled' AND po.order_date BETWEEN ? AND ?
        GROUP BY v.id ORDER BY s DESC, v.name LIMIT 5""", (p.start.isoformat(), today.isoformat()))
    assert [(r["vendor"], r["spend"]) for r in out["rows"]] == expect
    assert out["row_count"] == 5 and out["truncated"] is True and out["period"]["to_date"] is True
    total = q(shared_db, "SELECT ROUND(SUM(total_amount),2) FROM purchase_orders WHERE status != 'cancelled' "
                         "AND order_date >= ?", (p.start.isoformat(),))[0][0]
    assert out["total_spend"] == pytest.approx(total)
    assert out["rows"][0]["share_pct"] == pytest.approx(100 * expect[0][1] / total, abs=0.1)
    big = run("top_vendors_by_spend", shared_db, period="last_12_months", limit=50)
    assert big["row_count"] == 50 and big["truncated"] is True
    cat = run("top_vendors_by_spend", shared_db, period="this_year", category="Packaging", limit=3)
    assert all(r["category"] == "Packaging" for r in cat["rows"])


def test_procurement_trends_q1(shared_db, today):
    year = today.year if today.month > 3 else today.year - 1
    out = run("procurement_trends", shared_db, period=f"{year}-Q1")
    months = q(shared_db, """SELECT substr(order_date,1,7), ROUND(SUM(total_amount),2), COUNT(*) FROM purchase_orders
        WHERE status != 'cancelled' AND order_date >= ? AND order_date < ? GROUP BY 1 ORDER BY 1""",
               (f"{year}-01-01", f"{year}-04-01"))
    assert [(r["month"], r["spend"], r["po_count"]) for r in out["rows"]] == months
    assert out["po_count"] == sum(m[2] for m in months)
    prev = q(shared_db, "SELECT SUM(total_amount) FROM purchase_orders WHERE status != 'cancelled' "
                        "AND order_date >= ? AND order_date < ?", (f"{year - 1}-10-01", f"{year}-01-01"))[0][0]
    assert out["previous_period"]["total_spend"] == pytest.approx(prev, abs=0.01)
    assert out["change_vs_previous_pct"] == pytest.approx(100 * (out["total_spend"] - prev) / prev, abs=0.05)
    cats = q(shared_db, """SELECT pr.category, ROUND(SUM(l.amount),2) FROM po_lines l JOIN purchase_orders po
        ON po.id = l.po_id JOIN products pr ON pr.id = l.product_id WHERE po.status != 'cancelled'
        AND po.order_date >= ? AND po.order_date < ? GROUP BY 1 ORDER BY 2 DESC LIMIT 5""",
             (f"{year}-01-01", f"{year}-04-01"))
    assert [(c["category"], c["spend"]) for c in out["top_categories"]] == cats
    assert len(out["top_vendors"]) == 3
    assert run("procurement_trends", shared_db, period="Q1")["period"]["label"] == f"{year}-Q1"


def test_overdue_invoices(shared_db, today, monkeypatch):
    from bestbox.agents.tools import erp

    monkeypatch.setattr(erp, "today", lambda: today)  # a run that crosses midnight asks about the same day
    out = run("overdue_invoices", shared_db, limit=10)
    cnt, amt = q(shared_db, "SELECT COUNT(*), SUM(amount - paid_amount) FROM invoices WHERE status != 'paid' "
                            "AND due_date < ?", (today.isoformat(),))[0]
    assert cnt > 0 and out["total_overdue_count"] == cnt
    assert out["total_overdue_amount"] == pytest.approx(amt, abs=0.01)
    days = [r["days_overdue"] for r in out["rows"]]
    assert days == sorted(days, reverse=True) and all(d > 0 for d in days)
    assert out["row_count"] == min(10, cnt)
    old = run("overdue_invoices", shared_db, min_days_overdue=60, limit=50)
    assert all(r["days_overdue"] >= 60 for r in old["rows"])


def test_stock_levels(shared_db):
    out = run("stock_levels", shared_db, below_reorder=True, limit=50)
    n = q(shared_db, "SELECT COUNT(*) FROM stock WHERE on_hand < reorder_point")[0][0]
    assert out["total_matching"] == n and out["below_reorder_count"] == n and n > 0
    assert all(r["on_hand"] < r["reorder_point"] and r["shortfall"] == r["reorder_point"] - r["on_hand"]
               for r in out["rows"])
    sku = q(shared_db, "SELECT sku FROM products LIMIT 1")[0][0]
    one = run("stock_levels", shared_db, product=sku)
    assert one["rows"] and all(r["sku"] == sku for r in one["rows"])
    wh = run("stock_levels", shared_db, warehouse="berlin", limit=5)
    assert {r["warehouse"] for r in wh["rows"]} == {"WH-BER"}


def test_vendor_lead_times(shared_db, today):
    out = run("vendor_lead_times", shared_db, limit=5)
    r0 = out["rows"][0]
    avg = q(shared_db, """SELECT ROUND(AVG(julianday(received_date) - julianday(order_date)), 1) FROM purchase_orders po
        JOIN vendors v ON v.id = po.vendor_id WHERE v.name = ? AND status = 'received' AND order_date >= ?""",
            (r0["vendor"], (today - timedelta(days=365)).isoformat()))[0][0]
    assert r0["actual_avg_days"] == avg
    avgs = [r["actual_avg_days"] for r in out["rows"]]
    assert avgs == sorted(avgs, reverse=True)
    fast = run("vendor_lead_times", shared_db, sort="fastest", limit=5)["rows"]
    assert fast[0]["actual_avg_days"] <= avgs[-1]
    assert "error" in run("vendor_lead_times", shared_db, sort="random")


def test_create_requisition_changes_data_only_on_run(fresh_db):
    sku = q(fresh_db, "SELECT sku FROM products ORDER BY id LIMIT 1")[0][0]
    tool = get_tool("create_requisition")
    before = q(fresh_db, "SELECT COUNT(*) FROM requisitions")[0][0]
    text = tool.preview(fresh_db, product=sku, quantity=40, warehouse="WH-RTM")
    assert text.startswith("Create a purchase requisition for 40") and sku in text and "WH-RTM" in text
    assert q(fresh_db, "SELECT COUNT(*) FROM requisitions")[0][0] == before
    out = tool.run(fresh_db, product=sku, quantity=40, warehouse="WH-RTM")
    assert out["created"] and out["req_number"].startswith("REQ-")
    row = q(fresh_db, "SELECT r.quantity, w.code FROM requisitions r JOIN warehouses w ON w.id = r.warehouse_id "
                      "WHERE req_number = ?", (out["req_number"],))
    assert row == [(40, "WH-RTM")]
    assert tool.preview(fresh_db, product="Laptop", quantity=1).startswith("Cannot run")  # ambiguous
    assert "error" in tool.run(fresh_db, product="no such thing", quantity=1)
    assert "error" in tool.run(fresh_db, product=sku, quantity=0)
    assert "error" in tool.run(fresh_db, product=sku, quantity=1, needed_by="2001-01-01")
    assert q(fresh_db, "SELECT COUNT(*) FROM requisitions")[0][0] == before + 1


# CRM --------------------------------------------------------------------------------------------------

def test_pipeline_summary(shared_db):
    out = run("pipeline_summary", shared_db)
    expect = dict(q(shared_db, "SELECT stage, COUNT(*) FROM opportunities GROUP BY stage"))
    assert {r["stage"]: r["count"] for r in out["rows"]} == expect
    open_amt = q(shared_db, "SELECT SUM(amount) FROM opportunities WHERE stage NOT LIKE 'closed%'")[0][0]
    assert out["open_amount"] == pytest.approx(open_amt)
    assert 0 < out["weighted_open_amount"] < out["open_amount"]
    owner = q(shared_db, "SELECT owner FROM opportunities LIMIT 1")[0][0]
    mine = run("pipeline_summary", shared_db, owner=owner)
    assert sum(r["count"] for r in mine["rows"]) == q(shared_db, "SELECT COUNT(*) FROM opportunities WHERE owner=?",
                                                      (owner,))[0][0]


def test_top_customers(shared_db, today):
    out = run("top_customers", shared_db, period="last_12_months", limit=3)
    expect = q(shared_db, """SELECT c.name, ROUND(SUM(o.amount),2) s FROM opportunities o JOIN customers c
        ON c.id = o.customer_id WHERE stage = 'closed_won' AND close_date > ? AND close_date <= ?
        GROUP BY c.id ORDER BY s DESC, c.name LIMIT 3""", ((today - timedelta(days=365)).isoformat(), today.isoformat()))
    assert [(r["customer"], r["won_amount"]) for r in out["rows"]] == expect


def test_customer_lookup(shared_db):
    name = q(shared_db, "SELECT name FROM customers ORDER BY id LIMIT 1")[0][0]
    out = run("customer_lookup", shared_db, name=name)
    assert out["rows"][0]["name"] == name and out["rows"][0]["contacts"]
    assert "error" in run("customer_lookup", shared_db, name="zzzz-none")


def test_open_complaints(shared_db):
    out = run("open_complaints", shared_db, limit=50)
    n = q(shared_db, "SELECT COUNT(*) FROM complaints WHERE status IN ('open','in_progress')")[0][0]
    assert out["total_open"] == n and out["row_count"] == min(50, n)
    crit = run("open_complaints", shared_db, severity="critical")
    assert all(r["severity"] == "critical" for r in crit["rows"])


def test_log_call(fresh_db):
    name = q(fresh_db, "SELECT name FROM customers ORDER BY id LIMIT 1")[0][0]
    tool = get_tool("log_call")
    before = q(fresh_db, "SELECT COUNT(*) FROM activities")[0][0]
    assert name in tool.preview(fresh_db, customer=name, subject="Renewal")
    assert q(fresh_db, "SELECT COUNT(*) FROM activities")[0][0] == before
    out = tool.run(fresh_db, customer=name, subject="Renewal", notes="Wants 3-year term")
    assert out["logged"]
    assert q(fresh_db, "SELECT kind, subject FROM activities WHERE id = ?", (out["activity_id"],)) == [("call", "Renewal")]


# IT Ops -----------------------------------------------------------------------------------------------

def test_host_status(shared_db):
    out = run("host_status", shared_db, limit=50)
    assert out["total_hosts"] == q(shared_db, "SELECT COUNT(*) FROM hosts")[0][0]
    probs = run("host_status", shared_db, only_problems=True, limit=50)
    assert probs["rows"] and all(r["has_problem"] for r in probs["rows"])
    assert probs["total_hosts"] == out["hosts_with_problems"]
    prod = run("host_status", shared_db, environment="prod", limit=50)
    assert all(r["environment"] == "prod" for r in prod["rows"])


def test_open_incidents(shared_db):
    out = run("open_incidents", shared_db, limit=50)
    n = q(shared_db, "SELECT COUNT(*) FROM incidents WHERE status != 'resolved'")[0][0]
    assert out["total_open"] == n and n > 0
    sevs = [r["severity"] for r in out["rows"]]
    assert sevs == sorted(sevs)


def test_failed_backups(shared_db):
    out = run("failed_backups", shared_db, days=30, limit=50)
    n = q(shared_db, "SELECT COUNT(*) FROM backup_jobs WHERE status = 'failed' AND started_at >= ?",
          (out["since"],))[0][0]
    assert out["total_failed"] == n > 0 and all(r["status"] == "failed" for r in out["rows"])
    assert out["truncated"] == (n > 50)


def test_search_logs(shared_db):
    out = run("search_logs", shared_db, query="timeout", hours=168, limit=5)
    n = q(shared_db, "SELECT COUNT(*) FROM logs WHERE message LIKE '%timeout%' AND ts >= ?", (out["since"],))[0][0]
    assert out["total_matches"] == n > 0 and all("timeout" in r["message"] for r in out["rows"])
    assert run("search_logs", shared_db, query="%_%")["total_matches"] == 0  # wildcards are literal


def test_open_ticket(fresh_db):
    tool = get_tool("open_ticket")
    before = q(fresh_db, "SELECT COUNT(*) FROM tickets")[0][0]
    text = tool.preview(fresh_db, title="Disk full", priority="P2", team="database")
    assert "P2" in text and "Database" in text
    assert q(fresh_db, "SELECT COUNT(*) FROM tickets")[0][0] == before
    assert "error" in tool.run(fresh_db, title="Disk full", team="Catering")
    out = tool.run(fresh_db, title="Disk full", priority="P2", team="Database")
    assert q(fresh_db, "SELECT priority, team, status FROM tickets WHERE ref = ?", (out["ref"],)) == [("P2", "Database", "new")]


# OA ---------------------------------------------------------------------------------------------------

def test_search_documents(shared_db):
    out = run("search_documents", shared_db, query="hotel per night travel")
    assert out["rows"][0]["title"] == "Travel and Expense Policy" and "150 EUR" in out["rows"][0]["body"]
    # FTS5 syntax in user text is harmless.
    assert "error" not in run("search_documents", shared_db, query='NEAR("x" title:) AND OR *')
    assert run("search_documents", shared_db, query="template", kind="template")["rows"]


def test_leave_balance(shared_db, today):
    emp_id, name = q(shared_db, "SELECT id, name FROM employees ORDER BY id LIMIT 1")[0]
    out = run("leave_balance", shared_db, employee=name)
    if "error" in out:  # a duplicate name: then the email is unique
        email = q(shared_db, "SELECT email FROM employees WHERE id = ?", (emp_id,))[0][0]
        out = run("leave_balance", shared_db, employee=email)
    expect = q(shared_db, "SELECT leave_type, entitled_days - taken_days FROM leave_balances WHERE employee_id = ? "
                          "AND year = ? ORDER BY leave_type", (emp_id, today.year))
    assert [(r["leave_type"], r["remaining_days"]) for r in out["rows"]] == expect
    assert "error" in run("leave_balance", shared_db, employee="Nobody Atall")


def test_room_availability_and_booking(fresh_db, today):
    day = today + timedelta(days=1)
    avail = run("room_availability", fresh_db, date=day.isoformat(), start="07:00", duration_minutes=60)
    assert avail["row_count"] == 12  # nothing is booked before 08:00
    room = avail["rows"][0]["room"]
    tool = get_tool("book_room")
    before = q(fresh_db, "SELECT COUNT(*) FROM room_bookings")[0][0]
    text = tool.preview(fresh_db, room=room, date=day.isoformat(), start="07:00", title="Early sync")
    assert text.startswith(f"Book {room}")
    assert q(fresh_db, "SELECT COUNT(*) FROM room_bookings")[0][0] == before
    out = tool.run(fresh_db, room=room, date=day.isoformat(), start="7am", title="Early sync")
    assert out["booked"] and out["from"].endswith("07:00")
    again = run("room_availability", fresh_db, date=day.isoformat(), start="07:30", duration_minutes=30)
    assert room not in [r["room"] for r in again["rows"]] and again["rooms_busy"] == 1
    clash = tool.run(fresh_db, room=room, date=day.isoformat(), start="07:30")
    assert "taken" in clash["error"]
    assert "error" in tool.run(fresh_db, room=room, date="2000-01-01", start="09:00")
    assert "error" in run("room_availability", fresh_db, date="someday", start="09:00")
    assert q(fresh_db, "SELECT COUNT(*) FROM room_bookings")[0][0] == before + 1
