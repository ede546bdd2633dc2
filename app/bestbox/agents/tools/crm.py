"""CRM tools: pipeline, top customers, customer lookup, complaints, logging a call."""
from __future__ import annotations

from datetime import datetime

from pydantic import Field, field_validator

from .base import (MAX_ROWS, PERIOD_HELP, Args, Tool, error, fetch, like, money, normalize_period, parse_period,
                   period_field_schema, resolve_one, rows_result, today)

OPEN_STAGES = ("prospecting", "qualification", "proposal", "negotiation")
STAGE_ORDER = "CASE stage WHEN 'prospecting' THEN 1 WHEN 'qualification' THEN 2 WHEN 'proposal' THEN 3 " \
              "WHEN 'negotiation' THEN 4 WHEN 'closed_won' THEN 5 ELSE 6 END"


class PipelineArgs(Args):
    owner: str | None = Field(None, max_length=80, description="Only this account owner (sales rep)")
    closing: str | None = Field(None, json_schema_extra=period_field_schema(
        f"Only opportunities closing in this period: {PERIOD_HELP}"))

    @field_validator("closing")
    @classmethod
    def _p(cls, v):
        return normalize_period(v) if v else None


def pipeline_summary(con, a: PipelineArgs) -> dict:
    where, params = ["1=1"], []
    if a.owner:
        where.append("owner LIKE ? ESCAPE '\\'")
        params.append(like(a.owner))
    per = None
    if a.closing:
        per = parse_period(a.closing)
        where.append("close_date >= ? AND close_date < ?")
        params += [per.start.isoformat(), per.end.isoformat()]
    rows = fetch(con, f"""
        SELECT stage, COUNT(*) AS count, ROUND(SUM(amount), 2) AS amount,
               ROUND(SUM(amount * probability / 100.0), 2) AS weighted_amount
        FROM opportunities WHERE {' AND '.join(where)} GROUP BY stage ORDER BY {STAGE_ORDER}""", params)
    open_rows = [r for r in rows if r["stage"] in OPEN_STAGES]
    return rows_result(rows, MAX_ROWS, currency="EUR", period=per.as_dict() if per else None,
                       open_count=sum(r["count"] for r in open_rows),
                       open_amount=money(sum(r["amount"] for r in open_rows)),
                       weighted_open_amount=money(sum(r["weighted_amount"] for r in open_rows)))


class TopCustomersArgs(Args):
    period: str = Field("this_year", json_schema_extra=period_field_schema(f"Won deals closed in: {PERIOD_HELP}"))
    limit: int = Field(10, ge=1, le=MAX_ROWS)

    @field_validator("period")
    @classmethod
    def _p(cls, v):
        return normalize_period(v)


def top_customers(con, a: TopCustomersArgs) -> dict:
    p = parse_period(a.period)
    rows = fetch(con, """
        SELECT c.name AS customer, c.industry, c.country, c.segment, c.account_manager,
               ROUND(SUM(o.amount), 2) AS won_amount, COUNT(*) AS won_deals
        FROM opportunities o JOIN customers c ON c.id = o.customer_id
        WHERE o.stage = 'closed_won' AND o.close_date >= ? AND o.close_date < ?
        GROUP BY c.id ORDER BY won_amount DESC, c.name LIMIT ?""", (p.start.isoformat(), p.end.isoformat(), a.limit + 1))
    total = con.execute("SELECT COALESCE(SUM(amount),0) FROM opportunities WHERE stage='closed_won' "
                        "AND close_date >= ? AND close_date < ?", (p.start.isoformat(), p.end.isoformat())).fetchone()[0]
    for i, r in enumerate(rows, 1):
        r["rank"] = i
    return rows_result(rows, a.limit, period=p.as_dict(), currency="EUR", total_won=money(total))


class LookupArgs(Args):
    name: str = Field(..., min_length=2, max_length=100, description="Customer name or part of it")


def customer_lookup(con, a: LookupArgs) -> dict:
    custs = fetch(con, "SELECT * FROM customers WHERE name LIKE ? ESCAPE '\\' ORDER BY name LIMIT 6", (like(a.name),))
    out = []
    for c in custs[:5]:
        cid = c.pop("id")
        c["contacts"] = fetch(con, "SELECT name, title, email, phone FROM contacts WHERE customer_id=? ORDER BY id", (cid,))
        c["open_opportunities"] = fetch(con, f"""SELECT name, stage, amount, close_date FROM opportunities
            WHERE customer_id=? AND stage IN {OPEN_STAGES} ORDER BY close_date LIMIT 10""", (cid,))
        c["won_last_12_months"] = money(con.execute(
            "SELECT SUM(amount) FROM opportunities WHERE customer_id=? AND stage='closed_won' "
            "AND close_date >= date(?, '-12 months')", (cid, today().isoformat())).fetchone()[0])
        last = con.execute("SELECT kind, subject, occurred_at FROM activities WHERE customer_id=? "
                           "ORDER BY occurred_at DESC LIMIT 1", (cid,)).fetchone()
        c["last_activity"] = dict(last) if last else None
        c["open_complaints"] = con.execute("SELECT COUNT(*) FROM complaints WHERE customer_id=? AND "
                                           "status IN ('open','in_progress')", (cid,)).fetchone()[0]
        out.append(c)
    if not out:
        return error("customer_lookup", f"no customer matches '{a.name}'")
    return rows_result(out, 5, **({"note": "more customers match; refine the name"} if len(custs) > 5 else {}))


class ComplaintsArgs(Args):
    customer: str | None = Field(None, max_length=100, description="Customer name or part of it")
    severity: str | None = Field(None, pattern="^(low|medium|high|critical)$", description="low|medium|high|critical")
    limit: int = Field(20, ge=1, le=MAX_ROWS)


def open_complaints(con, a: ComplaintsArgs) -> dict:
    where, params = ["k.status IN ('open','in_progress')"], []
    if a.customer:
        where.append("c.name LIKE ? ESCAPE '\\'")
        params.append(like(a.customer))
    if a.severity:
        where.append("k.severity = ?")
        params.append(a.severity)
    base = f"FROM complaints k JOIN customers c ON c.id = k.customer_id WHERE {' AND '.join(where)}"
    rows = fetch(con, f"""SELECT k.id AS complaint_id, c.name AS customer, k.opened_at, k.severity, k.category,
        k.status, k.summary, CAST(julianday(?) - julianday(k.opened_at) AS INTEGER) AS age_days {base}
        ORDER BY CASE k.severity WHEN 'critical' THEN 0 WHEN 'high' THEN 1 WHEN 'medium' THEN 2 ELSE 3 END,
        k.opened_at LIMIT ?""", (today().isoformat(), *params, a.limit + 1))
    total = con.execute(f"SELECT COUNT(*) {base}", params).fetchone()[0]
    return rows_result(rows, a.limit, total_open=total)


class LogCallArgs(Args):
    customer: str = Field(..., min_length=2, max_length=100, description="Customer name")
    subject: str = Field(..., min_length=2, max_length=120)
    notes: str = Field("", max_length=1000)
    contact: str | None = Field(None, max_length=80, description="Contact person at the customer")


def _call_plan(con, a: LogCallArgs) -> dict:
    cust = resolve_one(con, "log_call", "customer", "SELECT * FROM customers WHERE lower(name) = lower(?1)",
                       "SELECT * FROM customers WHERE name LIKE ?1 ESCAPE '\\'", a.customer, lambda r: r["name"])
    if "error" in cust:
        return cust
    contact = None
    if a.contact:
        contact = con.execute("SELECT id, name FROM contacts WHERE customer_id=? AND name LIKE ? ESCAPE '\\'",
                              (cust["id"], like(a.contact))).fetchone()
        if contact is None:
            return error("log_call", f"{cust['name']} has no contact matching '{a.contact}'")
    return {"customer": cust, "contact": dict(contact) if contact else None}


def log_call_preview(con, a: LogCallArgs) -> str | dict:
    plan = _call_plan(con, a)
    if "error" in plan:
        return plan
    who = f" with {plan['contact']['name']}" if plan["contact"] else ""
    return f"Log a call{who} at {plan['customer']['name']} now: \"{a.subject}\"" + (f" — {a.notes}" if a.notes else "") + "."


def log_call(con, a: LogCallArgs) -> dict:
    plan = _call_plan(con, a)
    if "error" in plan:
        return plan
    when = datetime.now().strftime("%Y-%m-%d %H:%M")
    cur = con.execute("INSERT INTO activities (customer_id, contact_id, kind, subject, notes, occurred_at, owner) "
                      "VALUES (?,?,?,?,?,?,?)", (plan["customer"]["id"], plan["contact"]["id"] if plan["contact"] else None,
                                                 "call", a.subject, a.notes, when, plan["customer"]["account_manager"]))
    return {"logged": True, "activity_id": cur.lastrowid, "customer": plan["customer"]["name"],
            "contact": plan["contact"]["name"] if plan["contact"] else None, "occurred_at": when, "row_count": 1}


TOOLS = [
    Tool("pipeline_summary", "crm", "Sales pipeline by stage: counts, amounts and probability-weighted amounts "
         "(EUR), optionally for one owner or a closing period.", PipelineArgs, pipeline_summary),
    Tool("top_customers", "crm", "Customers ranked by won deal value (EUR) in a period.", TopCustomersArgs, top_customers),
    Tool("customer_lookup", "crm", "Find a customer by name: details, contacts, open opportunities, last activity, "
         "open complaints.", LookupArgs, customer_lookup),
    Tool("open_complaints", "crm", "Open customer complaints, most severe first.", ComplaintsArgs, open_complaints),
    Tool("log_call", "crm", "Record a phone call with a customer in the CRM (changes data; the user confirms first).",
         LogCallArgs, log_call, mutating=True, preview_fn=log_call_preview),
]
