"""OA tools: document search (FTS5), leave balances, room availability and booking."""
from __future__ import annotations

import re
from datetime import datetime, timedelta

from pydantic import Field, model_validator

from .base import MAX_ROWS, Args, Clock, Day, Minutes, Tool, error, fetch, resolve_one, rows_result, today
from .spoken import split_when


class DocArgs(Args):
    query: str = Field(..., min_length=2, max_length=200, description="Words to search for, e.g. travel expenses hotel")
    kind: str | None = Field(None, pattern="^(policy|template|guide)$", description="policy, template or guide")
    limit: int = Field(5, ge=1, le=10)


def _fts_query(text: str, op: str) -> str:
    """Quote every word, so user text can never be FTS5 syntax (NEAR, AND, column filters, quotes)."""
    words = [w for w in re.findall(r"\w+", text.lower()) if len(w) > 1][:12]
    return f" {op} ".join(f'"{w}"' for w in words)


def search_documents(con, a: DocArgs) -> dict:
    rows, mode = [], "all words"
    for op in ("AND", "OR"):
        q = _fts_query(a.query, op)
        if not q:
            return error("search_documents", "the query has no searchable words")
        kind_sql = " AND d.kind = ?" if a.kind else ""
        rows = fetch(con, f"""SELECT d.id AS doc_id, d.kind, d.title, d.department, d.updated_at,
            snippet(documents_fts, 1, '**', '**', ' … ', 24) AS excerpt, ROUND(bm25(documents_fts), 3) AS score
            FROM documents_fts JOIN documents d ON d.id = documents_fts.rowid
            WHERE documents_fts MATCH ?{kind_sql} ORDER BY bm25(documents_fts) LIMIT ?""",
                     (q, *([a.kind] if a.kind else []), a.limit + 1))
        if rows:
            break
        mode = "any word"
    if rows:  # the best match in full, so the model can quote it
        rows[0]["body"] = con.execute("SELECT body FROM documents WHERE id = ?", (rows[0]["doc_id"],)).fetchone()[0]
    return rows_result(rows, a.limit, matched=mode)


class LeaveArgs(Args):
    employee: str = Field(..., min_length=2, max_length=100, description="Employee name or email")
    year: int | None = Field(None, ge=2000, le=2100, description="Calendar year (default: this year)")


def leave_balance(con, a: LeaveArgs) -> dict:
    emp = resolve_one(con, "leave_balance", "employee",
                      "SELECT * FROM employees WHERE lower(name) = lower(?1) OR lower(email) = lower(?1)",
                      "SELECT * FROM employees WHERE name LIKE ?1 ESCAPE '\\' OR email LIKE ?1 ESCAPE '\\'",
                      a.employee, lambda r: f"{r['name']} ({r['department']}, {r['email']})")
    if "error" in emp:
        return emp
    year = a.year or today().year
    rows = fetch(con, """SELECT leave_type, entitled_days, taken_days, entitled_days - taken_days AS remaining_days
        FROM leave_balances WHERE employee_id = ? AND year = ? ORDER BY leave_type""", (emp["id"], year))
    if not rows:
        return error("leave_balance", f"no leave records for {emp['name']} in {year}")
    return rows_result(rows, MAX_ROWS, employee=emp["name"], department=emp["department"], year=year)


def _split(value) -> tuple[str | None, str | None]:
    try:
        return split_when(value) if isinstance(value, str) else (None, None)
    except ValueError:
        return None, None


class SlotArgs(Args):
    date: Day = Field("today", validate_default=True, max_length=40, description="today, tomorrow, a weekday or YYYY-MM-DD")
    start: Clock = Field(..., max_length=40, description="Start time, e.g. 14:00")
    duration_minutes: Minutes = Field(60, ge=15, le=600, description="Length in minutes, e.g. 60")

    @model_validator(mode="before")
    @classmethod
    def _one_phrase(cls, data):
        """"tomorrow at 10:00" said as the start (or as the date) fills both fields."""
        if not isinstance(data, dict):
            return data
        out = dict(data)
        day, clock = _split(out.get("start"))
        if day and clock:
            out["start"] = clock
            if out.get("date") in (None, "", "today"):
                out["date"] = day
        day, clock = _split(out.get("date"))
        if day and clock and not out.get("start"):
            out["date"], out["start"] = day, clock
        return out

    def window(self) -> tuple[str, str]:
        s = datetime.fromisoformat(f"{self.date} {self.start}")
        return s.strftime("%Y-%m-%d %H:%M"), (s + timedelta(minutes=self.duration_minutes)).strftime("%Y-%m-%d %H:%M")


class RoomArgs(SlotArgs):
    min_capacity: int = Field(1, ge=1, le=200)
    needs_video: bool = False


def room_availability(con, a: RoomArgs) -> dict:
    s, e = a.window()
    rows = fetch(con, """SELECT r.name AS room, r.building, r.floor, r.capacity, r.has_video FROM rooms r
        WHERE r.capacity >= ? AND (? = 0 OR r.has_video = 1)
          AND NOT EXISTS (SELECT 1 FROM room_bookings b WHERE b.room_id = r.id AND b.starts_at < ? AND b.ends_at > ?)
        ORDER BY r.capacity, r.name LIMIT ?""", (a.min_capacity, int(a.needs_video), e, s, MAX_ROWS + 1))
    for r in rows:
        r["has_video"] = bool(r["has_video"])
    busy = con.execute("SELECT COUNT(*) FROM rooms r WHERE r.capacity >= ? AND EXISTS (SELECT 1 FROM room_bookings b "
                       "WHERE b.room_id = r.id AND b.starts_at < ? AND b.ends_at > ?)", (a.min_capacity, e, s)).fetchone()[0]
    return rows_result(rows, MAX_ROWS, slot={"from": s, "to": e}, rooms_busy=busy)


class BookArgs(SlotArgs):
    room: str = Field(..., min_length=2, max_length=40, description="Room name, e.g. Cedar")
    title: str = Field("Meeting", max_length=120)
    organizer: str = Field("BestBox user", max_length=80)


def _booking_plan(con, a: BookArgs) -> dict:
    room = resolve_one(con, "book_room", "room", "SELECT * FROM rooms WHERE lower(name) = lower(?1)",
                       "SELECT * FROM rooms WHERE name LIKE ?1 ESCAPE '\\'", a.room, lambda r: r["name"])
    if "error" in room:
        return room
    s, e = a.window()
    if s[:10] < today().isoformat():
        return error("book_room", "that date is in the past")
    clash = con.execute("SELECT title, starts_at, ends_at FROM room_bookings WHERE room_id = ? AND starts_at < ? "
                        "AND ends_at > ? ORDER BY starts_at LIMIT 1", (room["id"], e, s)).fetchone()
    if clash:
        return error("book_room", f"{room['name']} is taken from {clash['starts_at'][11:]} to {clash['ends_at'][11:]} "
                                  f"({clash['title']}); check room_availability for a free room")
    return {"room": room, "start": s, "end": e}


def book_room_preview(con, a: BookArgs) -> str | dict:
    plan = _booking_plan(con, a)
    if "error" in plan:
        return plan
    r = plan["room"]
    return (f"Book {r['name']} ({r['building']}, floor {r['floor']}, {r['capacity']} seats) on {plan['start'][:10]} "
            f"from {plan['start'][11:]} to {plan['end'][11:]} for \"{a.title}\" (organizer: {a.organizer}).")


def book_room(con, a: BookArgs) -> dict:
    plan = _booking_plan(con, a)  # checked again inside the write transaction
    if "error" in plan:
        return plan
    cur = con.execute("INSERT INTO room_bookings (room_id, title, booked_by, starts_at, ends_at) VALUES (?,?,?,?,?)",
                      (plan["room"]["id"], a.title, a.organizer, plan["start"], plan["end"]))
    return {"booked": True, "booking_id": cur.lastrowid, "room": plan["room"]["name"], "from": plan["start"],
            "to": plan["end"], "title": a.title, "row_count": 1}


TOOLS = [
    Tool("search_documents", "oa", "Full-text search of company policies, guides and templates.", DocArgs,
         search_documents),
    Tool("leave_balance", "oa", "An employee's leave entitlement, days taken and remaining, per leave type.",
         LeaveArgs, leave_balance),
    Tool("room_availability", "oa", "Meeting rooms free at a date and time, with capacity and video.", RoomArgs,
         room_availability),
    Tool("book_room", "oa", "Book a meeting room (changes data; the user confirms first).", BookArgs, book_room,
         mutating=True, preview_fn=book_room_preview),
]
