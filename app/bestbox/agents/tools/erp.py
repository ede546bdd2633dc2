"""ERP tools: vendor spend, procurement trends, invoices, stock, lead times, requisitions."""
from __future__ import annotations

from datetime import date, datetime, timedelta

from pydantic import Field, field_validator

from .base import (MAX_ROWS, PERIOD_HELP, Args, OptionalDay, Tool, fetch, like, money, normalize_period, parse_period,
                   period_field_schema, resolve_one, rows_result, today)

SPEND_STATUSES = "('open','sent','received')"  # cancelled orders are not spend


class PeriodArgs(Args):
    period: str = Field("this_quarter", json_schema_extra=period_field_schema(f"Time period: {PERIOD_HELP}"))

    @field_validator("period")
    @classmethod
    def _period(cls, v: str) -> str:
        return normalize_period(v)


class TopVendorsArgs(PeriodArgs):
    limit: int = Field(10, ge=1, le=MAX_ROWS, description="How many vendors (1-50)")
    category: str | None = Field(None, max_length=60, description="Only vendors of this category, e.g. Electronics")


def _spend_total(con, start: date, end: date, category: str | None = None) -> tuple[float, int]:
    sql = (f"SELECT COALESCE(SUM(po.total_amount),0), COUNT(*) FROM purchase_orders po JOIN vendors v ON v.id=po.vendor_id "
           f"WHERE po.status IN {SPEND_STATUSES} AND po.order_date >= ? AND po.order_date < ?")
    params: list = [start.isoformat(), end.isoformat()]
    if category:
        sql += " AND v.category LIKE ? ESCAPE '\\'"
        params.append(like(category))
    s, n = con.execute(sql, params).fetchone()
    return money(s), n


def top_vendors_by_spend(con, a: TopVendorsArgs) -> dict:
    p = parse_period(a.period)
    params: list = [p.start.isoformat(), p.end.isoformat()]
    cat_sql = ""
    if a.category:
        cat_sql = " AND v.category LIKE ? ESCAPE '\\'"
        params.append(like(a.category))
    rows = fetch(con, f"""
        SELECT v.name AS vendor, v.category, v.country, v.rating,
               ROUND(SUM(po.total_amount), 2) AS spend, COUNT(*) AS po_count
        FROM purchase_orders po JOIN vendors v ON v.id = po.vendor_id
        WHERE po.status IN {SPEND_STATUSES} AND po.order_date >= ? AND po.order_date < ?{cat_sql}
        GROUP BY v.id ORDER BY spend DESC, v.name LIMIT ?""", (*params, a.limit + 1))
    total, n = _spend_total(con, p.start, p.end, a.category)
    for i, r in enumerate(rows, 1):
        r["rank"] = i
        r["share_pct"] = round(100 * r["spend"] / total, 1) if total else 0.0
    return rows_result(rows, a.limit, period=p.as_dict(), currency="EUR", total_spend=total, total_po_count=n)


class TrendsArgs(PeriodArgs):
    pass


def procurement_trends(con, a: TrendsArgs) -> dict:
    p = parse_period(a.period)
    rng = (p.start.isoformat(), p.end.isoformat())
    months = fetch(con, f"""
        SELECT substr(order_date, 1, 7) AS month, ROUND(SUM(total_amount), 2) AS spend, COUNT(*) AS po_count,
               ROUND(AVG(total_amount), 2) AS avg_po_value, COUNT(DISTINCT vendor_id) AS vendors
        FROM purchase_orders WHERE status IN {SPEND_STATUSES} AND order_date >= ? AND order_date < ?
        GROUP BY month ORDER BY month""", rng)
    total, n = _spend_total(con, p.start, p.end)
    prev_total, prev_n = _spend_total(con, p.prev_start, p.prev_end)
    ly_start, ly_end = _shift_year(p.start), _shift_year(p.end)
    ly_total, ly_n = _spend_total(con, ly_start, ly_end)
    cats = fetch(con, f"""
        SELECT pr.category, ROUND(SUM(l.amount), 2) AS spend
        FROM po_lines l JOIN purchase_orders po ON po.id = l.po_id JOIN products pr ON pr.id = l.product_id
        WHERE po.status IN {SPEND_STATUSES} AND po.order_date >= ? AND po.order_date < ?
        GROUP BY pr.category ORDER BY spend DESC LIMIT 5""", rng)
    prev_cats = {r["category"]: r["spend"] for r in fetch(con, f"""
        SELECT pr.category, SUM(l.amount) AS spend
        FROM po_lines l JOIN purchase_orders po ON po.id = l.po_id JOIN products pr ON pr.id = l.product_id
        WHERE po.status IN {SPEND_STATUSES} AND po.order_date >= ? AND po.order_date < ?
        GROUP BY pr.category""", (p.prev_start.isoformat(), p.prev_end.isoformat()))}
    for c in cats:
        c["share_pct"] = round(100 * c["spend"] / total, 1) if total else 0.0
        c["change_vs_previous_pct"] = _pct(c["spend"], prev_cats.get(c["category"], 0.0))
    vendors = fetch(con, f"""
        SELECT v.name AS vendor, ROUND(SUM(po.total_amount), 2) AS spend FROM purchase_orders po
        JOIN vendors v ON v.id = po.vendor_id
        WHERE po.status IN {SPEND_STATUSES} AND po.order_date >= ? AND po.order_date < ?
        GROUP BY v.id ORDER BY spend DESC LIMIT 3""", rng)
    return {
        "period": p.as_dict(), "currency": "EUR",
        "total_spend": total, "po_count": n, "avg_po_value": money(total / n) if n else 0.0,
        "previous_period": {"start": p.prev_start.isoformat(), "end": (p.prev_end - timedelta(days=1)).isoformat(),
                            "total_spend": prev_total, "po_count": prev_n},
        "change_vs_previous_pct": _pct(total, prev_total),
        "po_count_change_vs_previous_pct": _pct(n, prev_n),
        "same_period_last_year": {"start": ly_start.isoformat(), "total_spend": ly_total, "po_count": ly_n},
        "change_vs_last_year_pct": _pct(total, ly_total),
        "top_categories": cats, "top_vendors": vendors,
        "rows": months, "row_count": len(months), "truncated": False,
        **({"note": "period still in progress; figures are to date"} if p.in_progress else {}),
    }


def _shift_year(x: date) -> date:
    try:
        return x.replace(year=x.year - 1)
    except ValueError:  # 29 Feb
        return x.replace(year=x.year - 1, day=28)


def _pct(new: float, old: float) -> float | None:
    return round(100.0 * (new - old) / old, 1) if old else None


class OverdueArgs(Args):
    vendor: str | None = Field(None, max_length=100, description="Only this vendor (name or part of it)")
    min_days_overdue: int = Field(0, ge=0, le=3650, description="At least this many days past due")
    limit: int = Field(20, ge=1, le=MAX_ROWS)


def overdue_invoices(con, a: OverdueArgs) -> dict:
    t = today()
    where = "i.status != 'paid' AND i.due_date < ? AND julianday(?) - julianday(i.due_date) >= ?"
    params: list = [t.isoformat(), t.isoformat(), a.min_days_overdue]
    if a.vendor:
        where += " AND v.name LIKE ? ESCAPE '\\'"
        params.append(like(a.vendor))
    base = f"FROM invoices i JOIN vendors v ON v.id = i.vendor_id WHERE {where}"
    rows = fetch(con, f"""
        SELECT i.invoice_number, v.name AS vendor, i.invoice_date, i.due_date, i.status,
               ROUND(i.amount - i.paid_amount, 2) AS amount_due,
               CAST(julianday(?) - julianday(i.due_date) AS INTEGER) AS days_overdue
        {base} ORDER BY days_overdue DESC, amount_due DESC LIMIT ?""", (t.isoformat(), *params, a.limit + 1))
    cnt, amt = con.execute(f"SELECT COUNT(*), COALESCE(SUM(i.amount - i.paid_amount),0) {base}", params).fetchone()
    return rows_result(rows, a.limit, as_of=t.isoformat(), currency="EUR", total_overdue_count=cnt,
                       total_overdue_amount=money(amt))


class StockArgs(Args):
    product: str | None = Field(None, max_length=100, description="Product name or SKU (or part of it)")
    warehouse: str | None = Field(None, max_length=60, description="Warehouse code (WH-BER) or city")
    below_reorder: bool = Field(False, description="Only items below their reorder point")
    limit: int = Field(20, ge=1, le=MAX_ROWS)


def stock_levels(con, a: StockArgs) -> dict:
    where, params = ["1=1"], []
    if a.product:
        where.append("(p.name LIKE ? ESCAPE '\\' OR p.sku LIKE ? ESCAPE '\\')")
        params += [like(a.product), like(a.product)]
    if a.warehouse:
        where.append("(w.code LIKE ? ESCAPE '\\' OR w.city LIKE ? ESCAPE '\\' OR w.name LIKE ? ESCAPE '\\')")
        params += [like(a.warehouse)] * 3
    if a.below_reorder:
        where.append("s.on_hand < s.reorder_point")
    base = ("FROM stock s JOIN products p ON p.id = s.product_id JOIN warehouses w ON w.id = s.warehouse_id "
            "WHERE " + " AND ".join(where))
    rows = fetch(con, f"""
        SELECT p.sku, p.name AS product, w.code AS warehouse, w.city, s.on_hand, s.reorder_point, s.reorder_qty,
               MAX(s.reorder_point - s.on_hand, 0) AS shortfall, p.unit
        {base} ORDER BY (s.on_hand * 1.0 / s.reorder_point), p.sku LIMIT ?""", (*params, a.limit + 1))
    total = con.execute(f"SELECT COUNT(*) {base}", params).fetchone()[0]
    below = con.execute(f"SELECT COUNT(*) {base} AND s.on_hand < s.reorder_point", params).fetchone()[0]
    return rows_result(rows, a.limit, total_matching=total, below_reorder_count=below)


class LeadTimeArgs(Args):
    vendor: str | None = Field(None, max_length=100, description="Vendor name (or part of it)")
    category: str | None = Field(None, max_length=60, description="Vendor category, e.g. Packaging")
    sort: str = Field("slowest", pattern="^(slowest|fastest|least_on_time)$",
                      description="slowest, fastest or least_on_time")
    limit: int = Field(10, ge=1, le=MAX_ROWS)


def vendor_lead_times(con, a: LeadTimeArgs) -> dict:
    where, params = ["po.status = 'received'", "po.order_date >= ?"], [(today() - timedelta(days=365)).isoformat()]
    if a.vendor:
        where.append("v.name LIKE ? ESCAPE '\\'")
        params.append(like(a.vendor))
    if a.category:
        where.append("v.category LIKE ? ESCAPE '\\'")
        params.append(like(a.category))
    order = {"slowest": "actual_avg_days DESC", "fastest": "actual_avg_days ASC",
             "least_on_time": "on_time_pct ASC"}[a.sort]
    rows = fetch(con, f"""
        SELECT v.name AS vendor, v.category, v.country, v.quoted_lead_time_days AS quoted_days,
               ROUND(AVG(julianday(po.received_date) - julianday(po.order_date)), 1) AS actual_avg_days,
               MAX(julianday(po.received_date) - julianday(po.order_date)) AS actual_max_days,
               ROUND(100.0 * AVG(po.received_date <= po.expected_date), 1) AS on_time_pct,
               COUNT(*) AS received_pos
        FROM purchase_orders po JOIN vendors v ON v.id = po.vendor_id
        WHERE {' AND '.join(where)} GROUP BY v.id ORDER BY {order}, v.name LIMIT ?""", (*params, a.limit + 1))
    for r in rows:
        r["actual_max_days"] = int(r["actual_max_days"])
    return rows_result(rows, a.limit, window="received orders of the last 12 months")


class RequisitionArgs(Args):
    product: str = Field(..., min_length=2, max_length=100, description="Product SKU or name")
    quantity: int = Field(..., ge=1, le=100000)
    warehouse: str = Field("WH-BER", max_length=60, description="Delivery warehouse code or city")
    needed_by: OptionalDay = Field(None, description="YYYY-MM-DD, or e.g. next Friday")
    note: str = Field("", max_length=300)

    @field_validator("needed_by")
    @classmethod
    def _date(cls, v: str | None) -> str | None:
        if v is not None:
            if date.fromisoformat(v) < today():
                raise ValueError("needed_by is in the past")
        return v


def _requisition_plan(con, a: RequisitionArgs) -> dict:
    prod = resolve_one(con, "create_requisition", "product",
                       "SELECT * FROM products WHERE lower(sku) = lower(?1) OR lower(name) = lower(?1)",
                       "SELECT * FROM products WHERE name LIKE ?1 ESCAPE '\\' OR sku LIKE ?1 ESCAPE '\\'",
                       a.product, lambda r: f"{r['sku']} {r['name']}")
    if "error" in prod:
        return prod
    wh = resolve_one(con, "create_requisition", "warehouse",
                     "SELECT * FROM warehouses WHERE lower(code) = lower(?1) OR lower(city) = lower(?1)",
                     "SELECT * FROM warehouses WHERE name LIKE ?1 ESCAPE '\\' OR city LIKE ?1 ESCAPE '\\'",
                     a.warehouse, lambda r: r["code"])
    if "error" in wh:
        return wh
    vendor = con.execute("SELECT id, name, quoted_lead_time_days FROM vendors WHERE id = ?",
                         (prod["preferred_vendor_id"],)).fetchone()
    return {"product": prod, "warehouse": wh, "vendor": dict(vendor) if vendor else None,
            "amount": money(prod["unit_cost"] * a.quantity)}


def create_requisition_preview(con, a: RequisitionArgs) -> str | dict:
    plan = _requisition_plan(con, a)
    if "error" in plan:
        return plan
    p, w, v = plan["product"], plan["warehouse"], plan["vendor"]
    by = f", needed by {a.needed_by}" if a.needed_by else ""
    ven = f" from {v['name']} (quoted lead time {v['quoted_lead_time_days']} days)" if v else ""
    return (f"Create a purchase requisition for {a.quantity} {p['unit']} of {p['name']} ({p['sku']}){ven}, "
            f"delivered to {w['code']} {w['city']}{by}; estimated cost EUR {plan['amount']:,.2f}.")


def create_requisition(con, a: RequisitionArgs) -> dict:
    plan = _requisition_plan(con, a)
    if "error" in plan:
        return plan
    n = con.execute("SELECT COALESCE(MAX(id), 0) + 1 FROM requisitions").fetchone()[0]
    number = f"REQ-{today().year}-{n:05d}"
    con.execute("INSERT INTO requisitions (id, req_number, product_id, warehouse_id, vendor_id, quantity, "
                "estimated_amount, needed_by, requested_by, status, note, created_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                (n, number, plan["product"]["id"], plan["warehouse"]["id"],
                 plan["vendor"]["id"] if plan["vendor"] else None, a.quantity, plan["amount"], a.needed_by,
                 "BestBox assistant", "pending", a.note, datetime.now().strftime("%Y-%m-%d %H:%M")))
    return {"created": True, "req_number": number, "product": plan["product"]["name"],
            "sku": plan["product"]["sku"], "quantity": a.quantity, "warehouse": plan["warehouse"]["code"],
            "estimated_amount": plan["amount"], "currency": "EUR", "status": "pending", "row_count": 1}


TOOLS = [
    Tool("top_vendors_by_spend", "erp",
         "Rank vendors by purchase-order spend (EUR) in a period, with PO counts and share of total spend.",
         TopVendorsArgs, top_vendors_by_spend),
    Tool("procurement_trends", "erp",
         "Analyse procurement in a period (e.g. 2026-Q1): monthly spend and PO counts, top categories and vendors, "
         "change vs the previous period and vs last year.", TrendsArgs, procurement_trends),
    Tool("overdue_invoices", "erp", "Vendor invoices past their due date and not fully paid, oldest first.",
         OverdueArgs, overdue_invoices),
    Tool("stock_levels", "erp", "Stock on hand per product and warehouse vs reorder point; can list only items "
         "below reorder point.", StockArgs, stock_levels),
    Tool("vendor_lead_times", "erp", "Quoted vs actual delivery lead times and on-time rate per vendor (last 12 months).",
         LeadTimeArgs, vendor_lead_times),
    Tool("create_requisition", "erp", "Create a purchase requisition for a product (changes data; the user "
         "confirms first).", RequisitionArgs, create_requisition, mutating=True,
         preview_fn=create_requisition_preview),
]
