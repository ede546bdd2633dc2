"""Scripted events for the tool form, the result table and the demo mark (the unit seam): the
shapes follow the pipeline's "needs_input" contract and real tool results."""
from __future__ import annotations

import asyncio

from bestbox.pipeline.events import TurnEvent

from ui_scripted import ROUTE, ScriptedSource

BOOK_SCHEMA = {
    "type": "object",
    "properties": {
        "room": {"type": "string", "title": "Room", "description": "Room name, e.g. Cedar", "maxLength": 40},
        "date": {"type": "string", "format": "date", "title": "Day"},
        "start": {"type": "string", "format": "date-time", "title": "Starts at"},
        "duration_minutes": {"type": "integer", "title": "Length in minutes", "minimum": 15, "maximum": 600,
                             "default": 60},
        "priority": {"type": "string", "title": "Priority", "pattern": "^P[1-4]$", "default": "P3"},
        "kind": {"type": "string", "title": "Kind", "enum": ["internal", "customer"]},
        "video": {"type": "boolean", "title": "Needs video"},
    },
    "required": ["room", "date", "start"],
}
NEEDS_INPUT = {"tool": "book_room", "title": "Book a meeting room", "write": True,
               "message": "I could not fill in every detail of the booking. Check the form and send it.",
               "missing": ["room"], "invalid": {"start": "'today 10:00' is not a time"}, "prefilled": {"date": "2026-11-30", "start": "2026-11-30T10:00",
                                                  "duration_minutes": 60},
               "schema": BOOK_SCHEMA}
VENDORS = {"period": {"label": "2026-Q4"}, "currency": "EUR", "total_spend": 1556470.0, "row_count": 5,
           "truncated": False,
           "rows": [{"vendor": "Northwind Metals", "category": "Metals", "spend": 412300.0, "po_count": 38,
                     "share_pct": 26.5, "rank": 1},
                    {"vendor": "Apex Components", "category": "Electronics", "spend": 388950.5, "po_count": 41,
                     "share_pct": 25.0, "rank": 2},
                    {"vendor": "Blue River Logistics", "category": "Logistics", "spend": 301120.0, "po_count": 22,
                     "share_pct": 19.3, "rank": 3},
                    {"vendor": "Carter & Sons", "category": "Metals", "spend": 254700.0, "po_count": 19,
                     "share_pct": 16.4, "rank": 4},
                    {"vendor": "Delta Office Supply", "category": "Office", "spend": 199399.5, "po_count": 57,
                     "share_pct": 12.8, "rank": 5}]}
DONE = {"route": ROUTE, "tool_calls": [], "model": "heavy", "partial": False, "turn_id": "t9",
        "conversation_id": "c1", "demo_model": True, "timings": {"route_ms": 3.0, "total_ms": 900.0}}


class FormSource(ScriptedSource):
    """A turn that ends in a form; the submitted form runs in the agent loop's order (tool_call,
    confirm, tool_result, tokens, done) and answers with the booking, as `book_room` returns it."""

    def __init__(self, **kw):
        super().__init__(**kw)
        self.submitted: list[tuple[str, dict, str | None]] = []

    async def run_turn(self, text, conversation_id=None, *, source="typed", meta=None):
        self.turns.append(text)
        yield TurnEvent("route", {"decision": {**ROUTE, "agent": "oa"}, "turn_id": "t8", "conversation_id": "c1"})
        await asyncio.sleep(0)
        yield TurnEvent("needs_input", {**NEEDS_INPUT, "turn_id": "t8", "conversation_id": "c1"})

    async def submit_tool(self, tool, arguments, conversation_id=None, *, turn_id=None, auto_confirm=None):
        self.submitted.append((tool, arguments, conversation_id, turn_id))
        yield TurnEvent("route", {"decision": {**ROUTE, "agent": "oa"}, "turn_id": "t9", "conversation_id": "c1"})
        yield TurnEvent("tool_call", {"name": tool, "arguments": arguments})
        fut = asyncio.get_running_loop().create_future()
        self.confirm_reply = fut
        yield TurnEvent("confirm", {"tool": tool, "arguments": arguments,
                                    "preview": f"Book {arguments.get('room')} on {arguments.get('date')}."}, reply=fut)
        if not await fut:
            yield TurnEvent("note", {"text": f"Cancelled: {tool} was not run."})
            yield TurnEvent("done", {**DONE, "answer": ""})
            return
        booking = booking_of(arguments)
        yield TurnEvent("tool_result", {"name": tool, "arguments": arguments, "rows": 1, "summary": "1 row",
                                        "error": None, "result": booking})
        for t in (f"Booked {booking['room']} ", f"from {booking['from'][11:]} to {booking['to'][11:]}."):
            yield TurnEvent("token", {"text": t})
        yield TurnEvent("done", {**DONE, "answer": f"Booked {booking['room']} from {booking['from'][11:]} "
                                                   f"to {booking['to'][11:]}."})


def booking_of(arguments: dict) -> dict:
    """What `agents/tools/oa.py:book_room` returns for these arguments (the demo data's shape)."""
    start = str(arguments.get("start") or f"{arguments.get('date')}T10:00")
    hh, mm = (int(x) for x in start[11:16].split(":"))
    end_min = hh * 60 + mm + int(arguments.get("duration_minutes") or 60)
    return {"booked": True, "booking_id": 7, "room": arguments.get("room"), "from": start[:16],
            "to": f"{start[:10]}T{end_min // 60:02d}:{end_min % 60:02d}", "title": "Meeting", "row_count": 1}
