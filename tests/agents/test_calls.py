"""Malformed model output: parsing and dispatch never crash and explain the problem to the model."""
from __future__ import annotations

import json
import re

from bestbox.agents.calls import (CallError, ParsedCall, call_schema, parse_native_call, parse_schema_output,
                                  result_for_model, result_summary)
from bestbox.agents.tools import get_tool, tools_for

ERP = tools_for("erp")


def test_valid_schema_call():
    out = parse_schema_output('{"tool": "top_vendors_by_spend", "arguments": {"period": "this_quarter", "limit": 5}}', ERP)
    assert out == ParsedCall("top_vendors_by_spend", {"period": "this_quarter", "limit": 5})
    # prose around the object, and "name"/"parameters" spellings, are tolerated
    out = parse_schema_output('Sure! {"name": "overdue_invoices", "parameters": {}} hope that helps', ERP)
    assert isinstance(out, ParsedCall) and out.name == "overdue_invoices"


def test_invalid_json():
    for text in ["", "   ", "not json at all", '{"tool": "top_vendors_by_spend", "arguments": {', "[1, 2, 3]", "null"]:
        out = parse_schema_output(text, ERP)
        assert isinstance(out, CallError) and out.name is None and out.message, text


def test_unknown_tool():
    out = parse_schema_output('{"tool": "drop_all_tables", "arguments": {}}', ERP)
    assert isinstance(out, CallError) and "unknown tool" in out.message and "top_vendors_by_spend" in out.message
    # a tool of another agent is unknown to this one
    assert isinstance(parse_schema_output('{"tool": "book_room", "arguments": {}}', ERP), CallError)
    assert isinstance(parse_schema_output('{"tool": 42, "arguments": {}}', ERP), CallError)


def test_huge_arguments():
    big = json.dumps({"tool": "stock_levels", "arguments": {"product": "x" * 3000}})
    out = parse_schema_output(big, ERP)
    assert isinstance(out, CallError) and "too large" in out.message and out.name == "stock_levels"
    huge = "{" * 100_000
    out = parse_schema_output(huge, ERP)
    assert isinstance(out, CallError) and "too large" in out.message
    out = parse_native_call({"id": "1", "name": "stock_levels", "arguments": '{"product": "' + "y" * 9000 + '"}'}, ERP)
    assert isinstance(out, CallError) and "too large" in out.message


def test_wrong_types_reach_the_tool_as_error_results(shared_db):
    out = parse_schema_output('{"tool": "top_vendors_by_spend", "arguments": "period=this_quarter"}', ERP)
    assert isinstance(out, CallError) and "JSON" in out.message
    out = parse_schema_output('{"tool": "top_vendors_by_spend", "arguments": [1]}', ERP)
    assert isinstance(out, CallError) and "object" in out.message
    ok = parse_schema_output('{"tool": "top_vendors_by_spend", "arguments": {"limit": "lots", "colour": "red"}}', ERP)
    assert isinstance(ok, ParsedCall)
    res = get_tool(ok.name).run(shared_db, **ok.arguments)
    assert "limit" in res["error"] and "colour: unknown argument" in res["error"]


def test_native_calls():
    ok = parse_native_call({"id": "c1", "name": "overdue_invoices", "arguments": '{"limit": 3}'}, ERP)
    assert ok == ParsedCall("overdue_invoices", {"limit": 3}, "c1")
    assert isinstance(parse_native_call({"id": "c1", "name": "overdue_invoices", "arguments": ""}, ERP), ParsedCall)
    bad = parse_native_call({"id": "c2", "name": "overdue_invoices", "arguments": "{limit: 3"}, ERP)
    assert isinstance(bad, CallError) and "not valid JSON" in bad.message and bad.name == "overdue_invoices"
    assert isinstance(parse_native_call({"id": "c3", "name": "", "arguments": "{}"}, ERP), CallError)


def test_call_schema_shapes():
    s = call_schema(ERP)
    assert len(s["oneOf"]) == len(ERP)
    first = s["oneOf"][0]
    assert first["properties"]["tool"] == {"const": ERP[0].name} and first["required"] == ["tool", "arguments"]
    one = call_schema([get_tool("top_vendors_by_spend")])
    assert one["properties"]["tool"]["const"] == "top_vendors_by_spend"
    assert "maxLength" not in json.dumps(s)


def test_result_text_is_bounded():
    rows = [{"a": i, "b": "x" * 50 + str(i)} for i in range(50)]
    text = result_for_model({"rows": rows, "row_count": 50, "truncated": True}, max_chars=1000)
    shown = int(re.search(r"(\d+) of 50 rows", text)[1])
    assert len(text) <= 1000 and 0 < shown < 50 and "left out" in text and "more exist" in text
    kept = [ln for ln in text.splitlines() if "x" * 50 in ln]        # the rows kept are whole, in order
    assert [int(re.match(r"\d+", ln)[0]) for ln in kept] == list(range(shown))
    assert result_summary({"error": "boom"}) == (None, "boom", "error: boom")
    assert result_summary({"rows": [1, 2], "row_count": 2, "truncated": True})[2] == "2 rows, more available"


def test_result_markdown_lists_fields_and_names_the_rows():
    from bestbox.agents.calls import result_markdown

    md = result_markdown({"slot": {"from": "10:00", "to": "11:00"}, "rooms_busy": 9, "row_count": 2,
                          "truncated": False, "rows": [{"room": "Oak", "floor": 4}, {"room": "Maple", "floor": 4}]})
    assert md == "- slot: from=10:00, to=11:00\n- rooms_busy: 9\n- 2 rows: Oak, Maple"
    assert result_markdown({"created": True, "ref": "TCK-1", "row_count": 1}) == "- created: True\n- ref: TCK-1"
