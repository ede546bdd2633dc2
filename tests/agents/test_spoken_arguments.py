"""Arguments as people say them: dates, times, durations, counts and periods, understood inside the
typed tool schemas; what still cannot be read comes back as a validation message, never an internal
error. Plus the request rules (counts, ticket titles) and the form built for an incomplete call."""
from __future__ import annotations

from datetime import datetime

import pytest

from bestbox.agents.arguments import apply_request, requested_count, subject_from_request
from bestbox.agents.needs_input import AnswerGate, call_in_text, form_request, form_schema
from bestbox.agents.tools import all_tools, get_tool, tools_for
from bestbox.agents.tools import base
from bestbox.agents.tools.base import normalize_period
from bestbox.agents.tools.spoken import number_from_words, parse_clock, parse_day, parse_minutes, parse_when

REF = datetime(2026, 11, 25, 15, 30)     # a Wednesday


@pytest.fixture
def fixed_today(monkeypatch):
    monkeypatch.setattr(base, "today", lambda: REF.date())
    return REF.date()


@pytest.mark.parametrize("said, expected", [
    ("today 10:00", datetime(2026, 11, 25, 10, 0)),
    ("tomorrow at ten", datetime(2026, 11, 26, 10, 0)),
    ("tomorrow at 10", datetime(2026, 11, 26, 10, 0)),
    ("next Friday at 14:30", datetime(2026, 11, 27, 14, 30)),
    ("friday at 2pm", datetime(2026, 11, 27, 14, 0)),
])
def test_date_and_time_phrases(said, expected):
    assert parse_when(said, REF) == expected


def test_days_clocks_and_durations(fixed_today):
    assert parse_day("tomorrow") == "2026-11-26"
    assert parse_day("next Friday") == "2026-11-27"
    assert parse_day("2026-12-03") == "2026-12-03"
    assert parse_clock("ten") == "10:00" and parse_clock("2pm") == "14:00" and parse_clock("at 9:15") == "09:15"
    assert parse_clock("tomorrow at 10:00") == "10:00"
    assert parse_minutes("one hour") == 60 and parse_minutes("half an hour") == 30 and parse_minutes("90 min") == 90
    with pytest.raises(ValueError, match="as a time"):
        parse_clock("banana")
    with pytest.raises(ValueError, match="not a real date"):
        parse_day("2026-02-30")


def test_counts_in_words():
    assert [number_from_words(w) for w in ("five", "twenty-one", "a dozen", "12", "many")] == [5, 21, 12, 12, None]


@pytest.mark.parametrize("said, period", [
    ("Q1", "Q1"), ("last month", "last_month"), ("first quarter 2026", "2026-Q1"), ("the last quarter", "last_quarter"),
    ("previous month", "last_month"), ("last 3 months", "last_90_days"), ("march 2025", "2025-03"),
])
def test_periods_people_say(said, period):
    assert normalize_period(said) == period


def test_unreadable_period_is_a_message():
    with pytest.raises(ValueError, match="unknown period"):
        normalize_period("last 7 months")


def test_book_room_understands_the_issue_request(fixed_today):
    """"book a meeting room for tomorrow at 10:00 for one hour", as a small model fills it in."""
    tool = get_tool("book_room")
    for args in ({"room": "Cedar", "start": "tomorrow at 10:00", "duration_minutes": "one hour"},
                 {"room": "Cedar", "date": "tomorrow at ten"},
                 {"room": "Cedar", "date": "tomorrow", "start": "10:00"}):
        a = tool.validate(args)
        assert not isinstance(a, dict), a
        assert (a.date, a.start, a.duration_minutes) == ("2026-11-26", "10:00", 60)
    # The default day is normalized too: "today 10:00" once reached datetime.fromisoformat as text.
    a = tool.validate({"room": "Cedar", "start": "10:00"})
    assert a.window() == ("2026-11-25 10:00", "2026-11-25 11:00")


def test_unreadable_value_is_a_validation_message_never_an_internal_error(fixed_today, shared_db):
    out = get_tool("book_room").run(shared_db, room="Cedar", start="half past banana")
    assert out["error"].startswith("invalid arguments: start: cannot read")
    assert out["invalid"] == {"start": out["error"].split("start: ", 1)[1]}
    assert "internal error" not in out["error"] and "isoformat" not in out["error"]


def test_spoken_counts_reach_every_integer_argument(shared_db):
    out = get_tool("top_vendors_by_spend").run(shared_db, limit="five", period="last quarter")
    assert "error" not in out and out["row_count"] == 5


def test_every_required_field_is_in_the_schema():
    """A field called "title" was dropped from schemas with pydantic's titles: open_ticket's required
    title could never be given (schema mode's grammar forbids unknown keys)."""
    for t in all_tools():
        p = t.parameters
        assert set(p.get("required", [])) <= set(p["properties"]), t.name
    assert "title" in get_tool("open_ticket").parameters["properties"]


@pytest.mark.parametrize("text, n", [
    ("show me the top five vendors", 5), ("top 10 customers last year", 10), ("the five biggest customers", 5),
    ("list 3 hosts", 3), ("failed backups in the last 3 days", None), ("order 5 units of steel", None),
    ("what is the remote work policy", None),
])
def test_requested_count(text, n):
    assert requested_count(text) == n


def test_request_count_overrides_the_models_limit():
    args, changes = apply_request(get_tool("top_vendors_by_spend"), {"limit": 3, "period": "this_quarter"},
                                  "show me the top five vendors")
    assert args["limit"] == 5 and changes


def test_ticket_title_comes_from_the_request():
    assert subject_from_request("my laptop can't connect to the VPN, open a ticket") == "My laptop can't connect to the VPN"
    args, _ = apply_request(get_tool("open_ticket"), {}, "my laptop can't connect to the VPN, open a ticket")
    assert args["title"] == "My laptop can't connect to the VPN"
    assert subject_from_request("open a ticket") is None


def test_form_for_an_incomplete_call(fixed_today):
    tool = get_tool("book_room")
    problem = tool.validate({"date": "tomorrow", "start": "banana"})
    form = form_request(tool, {"date": "tomorrow", "start": "banana"}, problem, "book a room tomorrow")
    assert form["tool"] == "book_room" and form["write"] is True and form["title"] == "Book a meeting room"
    assert set(form["missing"]) == {"room", "start"} and "start" in form["invalid"]
    assert form["prefilled"] == {"date": "2026-11-26"}
    assert form["message"].startswith("Could not book a meeting room") and form["message"].count(".") >= 1
    props = form["schema"]["properties"]
    assert props["date"]["format"] == "date" and props["date"]["default"] == "2026-11-25"
    assert props["start"]["format"] == "time" and props["room"]["title"] == "Room"
    assert form_schema(get_tool("open_ticket"))["properties"]["priority"]["enum"] == ["P1", "P2", "P3", "P4"]
    assert form_schema(get_tool("create_requisition"))["properties"]["needed_by"]["format"] == "date"


def test_a_call_written_as_text_is_recognised():
    tools = tools_for("it_ops")
    assert call_in_text('```json\n{"tool": "open_ticket", "arguments": {"title": "VPN"}}\n```', tools).name == "open_ticket"
    assert call_in_text('{"name": "open_ticket", "arguments": {}}', tools).arguments == {}
    assert call_in_text("The VPN is down; I opened nothing.", tools) is None


def test_answer_gate_holds_only_what_starts_like_a_call():
    g = AnswerGate()
    assert [g.feed(p) for p in (" ", "``", "`json\n{", '"tool"')] == [[], [], [], []] and g.state == "holding"
    g = AnswerGate()
    assert g.feed("The") == ["The"] and g.feed(" top") == [" top"]
