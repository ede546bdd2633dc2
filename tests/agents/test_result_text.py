"""The tool result as the model reads it (agents/result_text.py): shorter than the Markdown it replaced,
and nothing the answer needs is lost: every row with its values, exact amounts, and whether more rows exist."""
from __future__ import annotations

import re

import pytest

from bestbox.agents import prompts
from bestbox.agents.calls import render_result, result_for_model
from bestbox.agents.result_text import compact_result
from bestbox.agents.tools import get_tool

# One call or more per agent (ERP, CRM, IT Ops, OA, documents), chosen to give many rows, one row,
# shared column values, nested values and a document's full text.
CALLS = [("top_vendors_by_spend", {"period": "this_quarter"}), ("overdue_invoices", {}),
         ("procurement_trends", {"period": "last_quarter"}), ("stock_levels", {"below_reorder": True}),
         ("pipeline_summary", {}), ("top_customers", {"period": "last_year", "limit": 5}),
         ("customer_lookup", {"name": "Altdyne Ltd"}), ("host_status", {"only_problems": True}),
         ("failed_backups", {"days": 7}), ("search_logs", {"query": "error"}),
         ("search_documents", {"query": "remote work"}), ("leave_balance", {"employee": "Anna Horvat"}),
         ("room_availability", {"date": "tomorrow", "start": "10:00", "min_capacity": 8})]


def forms(v) -> list[str]:
    """The ways a value may be written for the model; every amount keeps its cents."""
    if isinstance(v, float):
        two = f"{v:,.2f}"
        return [two, two.removesuffix(".00"), f"{v:.2f}", f"{v:g}"]
    return [str(v)]


def values(v) -> list:
    if isinstance(v, dict):
        return [x for y in v.values() for x in values(y)]
    if isinstance(v, list):
        return [x for y in v for x in values(y)]
    return [] if v in (None, "") else [v]


@pytest.fixture(scope="module")
def results(shared_db):
    out = {}
    for name, args in CALLS:
        res = get_tool(name).run(shared_db, **args)
        assert "error" not in res, (name, res)
        out[name] = res
    return out


@pytest.mark.parametrize("name", [n for n, _ in CALLS])
def test_every_value_of_every_row_reaches_the_model(results, name):
    res = results[name]
    text = result_for_model(res)
    lines = text.splitlines()
    rows = res["rows"]
    assert rows
    for r in rows:
        for col, v in r.items():
            if col == "rank" or (col == "excerpt" and "body" in r):   # the row order; a piece of the full text
                continue
            for x in values(v):
                assert any(f in text for f in forms(x)), (name, col, x)
        # a row's name and its amounts stand on one line, so the model cannot pair them wrongly
        key = next(iter(r.values()))
        amounts = [v for v in r.values() if isinstance(v, float) and abs(v) >= 1000]
        if len(rows) > 1 and amounts:
            assert any(str(key) in ln and all(any(f in ln for f in forms(a)) for a in amounts) for ln in lines), \
                (name, key)
    for k, v in res.items():    # the fields, totals included
        if k not in ("rows", "row_count", "truncated", "currency", "period", "citations"):
            for x in values(v):
                assert any(f in text for f in forms(x)), (name, k, x)


@pytest.mark.parametrize("name", [n for n, _ in CALLS])
def test_the_model_text_is_shorter_than_the_markdown_it_replaced(results, name):
    res = results[name]
    compact, markdown = result_for_model(res), render_result(res)
    assert len(compact) < len(markdown), name
    assert "|---" not in compact


def test_the_model_knows_when_more_rows_exist(results):
    assert results["top_vendors_by_spend"]["truncated"]
    text = result_for_model(results["top_vendors_by_spend"])
    assert re.search(r"\b10 rows\b.*more exist", text)
    done = result_for_model(results["pipeline_summary"])
    assert not results["pipeline_summary"]["truncated"] and "more exist" not in done
    assert re.search(r"\b6 rows\b", done)
    nothing = result_for_model({"rows": [], "row_count": 0, "truncated": False, "as_of": "2026-11-30"})
    assert "none" in nothing and "as_of: 2026-11-30" in nothing


def test_rows_left_out_for_length_are_counted_and_more_still_exist():
    rows = [{"invoice": f"INV-{i:04d}", "amount_due": 1000.0 + i + 0.25} for i in range(40)]
    text = result_for_model({"rows": rows, "row_count": 40, "truncated": True}, max_chars=600)
    m = re.search(r"(\d+) of 40 rows", text)
    assert m and "left out" in text and "more exist" in text and len(text) <= 600
    shown = int(m[1])
    assert all(f"INV-{i:04d}" in text and f"{1000 + i}.25" in text.replace(",", "") for i in range(shown))
    assert f"INV-{shown:04d}" not in text


def test_a_shared_value_is_said_once_and_kept(results):
    res = results["host_status"]
    assert all(r["has_problem"] is True for r in res["rows"]) and len(res["rows"]) >= 3
    text = compact_result(res)
    assert text.count("has_problem") == 1
    assert re.search(rf"\b{len(res['rows'])} rows:.*has_problem=True", text)   # said of the rows shown, by count
    two = compact_result({"rows": [{"host": "a", "ok": True}, {"host": "b", "ok": True}]})
    assert two.count("True") == 2      # two rows: nothing to save


def test_rank_is_left_out_only_when_it_is_the_row_order():
    in_order = compact_result({"rows": [{"name": n, "rank": i} for i, n in enumerate("abc", 1)]})
    assert "rank" not in in_order
    shuffled = compact_result({"rows": [{"name": n, "rank": i} for i, n in zip("abc", (2, 1, 3))]})
    assert "rank" in shuffled


def test_periods_say_their_days_only_when_the_label_does_not():
    quarter = compact_result({"period": {"label": "2026-Q4", "start": "2026-10-01", "end": "2026-12-31",
                                         "to_date": True}})
    assert "2026-Q4" in quarter and "to date" in quarter and "2026-10-01" not in quarter
    rolling = compact_result({"period": {"label": "last_90_days", "start": "2026-09-01", "end": "2026-11-29",
                                         "to_date": False}})
    assert "2026-09-01" in rolling and "2026-11-29" in rolling and "to date" not in rolling
    odd = compact_result({"period": {"label": "2026-Q4", "start": "2026-10-15", "end": "2026-12-31"}})
    assert "2026-10-15" in odd      # days that do not match the label are said


def test_currency_is_said_unless_it_is_the_one_every_prompt_names():
    assert "Amounts are EUR" in prompts.STYLE
    assert "EUR" not in compact_result({"currency": "EUR", "total": 5.0})
    assert "USD" in compact_result({"currency": "USD", "total": 5.0})


def test_one_record_and_nested_values_read_as_fields(results):
    res = results["customer_lookup"]
    text = compact_result(res)
    assert re.search(r"^name: Altdyne Ltd$", text, re.M)
    assert '{"' not in text     # nested values without JSON quoting
    for c in res["rows"][0]["contacts"]:
        assert c["name"] in text and c["email"] in text


def test_a_documents_full_text_is_given_once(results):
    res = results["search_documents"]
    body = res["rows"][0]["body"]
    text = compact_result(res)
    assert text.count(body) == 1 and "**" not in text     # the highlighted excerpt of it is not repeated


def test_document_passages_are_given_once_with_their_citation_numbers():
    passage = "Every employee receives 27 days of paid annual leave per calendar year."
    res = {"rows": [{"cite": "[1]", "source": "handbook.pdf, page 2", "text": passage}], "row_count": 1,
           "truncated": False, "answered": True, "search_mode": "keyword-only",
           "citations": [{"id": 1, "path": "/home/me/docs/handbook.pdf", "page": 2, "snippet": passage}],
           "instruction": "Answer only from these passages and cite each fact with its [n]."}
    text = compact_result(res)
    assert text.count(passage) == 1 and "[1]" in text and "handbook.pdf, page 2" in text
    assert "cite each fact" in text and "/home/me" not in text


def test_the_result_message_names_the_tool_and_asks_for_an_answer():
    msg = prompts.tool_result_message("top_vendors_by_spend", "x: 1")
    assert "top_vendors_by_spend" in msg and "x: 1" in msg and "answer" in msg
