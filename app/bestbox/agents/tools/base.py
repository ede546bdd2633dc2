"""The Tool type, argument validation, result shaping and the period vocabulary all tools share.

A tool never raises to its caller: bad arguments and database errors come back as
`{"error": ..., "tool": ...}` dicts, which the agent loop hands to the model as the tool result.
"""
from __future__ import annotations

import copy
import re
import sqlite3
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any, Callable

from pydantic import BaseModel, ConfigDict, ValidationError

MAX_ROWS = 50
MAX_ARG_CHARS = 2000  # the JSON text of one call's arguments


def today() -> date:
    """The date tools call "today" (one place, so tests can patch it)."""
    return date.today()


class Args(BaseModel):
    """Base for tool arguments: unknown keys are errors the model can read and fix."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, str_max_length=500)


def error(tool: str, message: str, **extra) -> dict:
    return {"error": message, "tool": tool, **extra}


def rows_result(rows: list[dict], limit: int, **extra) -> dict:
    """Shape a row list: at most `limit` (≤ MAX_ROWS) rows, with `truncated` when more existed.
    Pass limit+1 rows from SQL to let truncation be detected."""
    limit = min(limit, MAX_ROWS)
    return {**extra, "rows": rows[:limit], "row_count": min(len(rows), limit), "truncated": len(rows) > limit}


def fetch(con: sqlite3.Connection, sql: str, params: tuple | dict = ()) -> list[dict]:
    return [dict(r) for r in con.execute(sql, params).fetchall()]


def money(x: float | None) -> float:
    return round(float(x or 0.0), 2)


def like(text: str) -> str:
    """A LIKE pattern that matches `text` literally anywhere (escape char '\\')."""
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def resolve_one(con: sqlite3.Connection, tool: str, what: str, sql_exact: str, sql_like: str,
                text: str, label: Callable[[dict], str]) -> dict:
    """Find exactly one row by exact (case-insensitive) match, else a unique partial match.
    Returns the row, or an error dict listing candidates."""
    rows = fetch(con, sql_exact, (text,))
    if len(rows) == 1:
        return rows[0]
    if not rows:
        rows = fetch(con, sql_like, (like(text),))
    if len(rows) == 1:
        return rows[0]
    if not rows:
        return error(tool, f"no {what} matches '{text}'")
    return error(tool, f"'{text}' matches {len(rows)} {what}s; be more specific",
                 candidates=[label(r) for r in rows[:8]])


# Periods --------------------------------------------------------------------------------------------

PERIOD_WORDS = ("this_month", "last_month", "this_quarter", "last_quarter", "this_year", "last_year",
                "last_30_days", "last_90_days", "last_12_months")
PERIOD_PATTERN = (r"^(this_month|last_month|this_quarter|last_quarter|this_year|last_year|last_30_days|"
                  r"last_90_days|last_12_months|[0-9]{4}-Q[1-4]|Q[1-4]|[0-9]{4}|[0-9]{4}-[0-9]{2})$")
PERIOD_HELP = ("this_month, last_month, this_quarter, last_quarter, this_year, last_year, last_30_days, "
               "last_90_days, last_12_months, a quarter like 2026-Q1 (or Q1 for this year's), a year like 2025, "
               "or a month like 2026-03")


@dataclass(frozen=True)
class Period:
    label: str
    start: date          # inclusive
    end: date            # exclusive
    prev_start: date     # the period before, same length (previous quarter for quarters)
    prev_end: date
    in_progress: bool    # the period reaches past today (figures are to date)

    def as_dict(self) -> dict:
        return {"label": self.label, "start": self.start.isoformat(),
                "end": (self.end - timedelta(days=1)).isoformat(), "to_date": self.in_progress}


def normalize_period(text: str) -> str:
    t = str(text).strip().lower().replace(" ", "_").replace("-", "_")
    aliases = {"current_quarter": "this_quarter", "quarter": "this_quarter", "previous_quarter": "last_quarter",
               "ytd": "this_year", "year_to_date": "this_year", "current_year": "this_year",
               "previous_year": "last_year", "last_3_months": "last_90_days", "current_month": "this_month",
               "last_12_month": "last_12_months", "last_year_12_months": "last_12_months"}
    t = aliases.get(t, t)
    if t in PERIOD_WORDS:
        return t
    m = re.fullmatch(r"(\d{4})_?q([1-4])|q([1-4])_?(\d{4})", t)
    if m:
        return f"{m.group(1) or m.group(4)}-Q{m.group(2) or m.group(3)}"
    if re.fullmatch(r"q[1-4]", t):
        return t.upper()
    if re.fullmatch(r"\d{4}", t):
        return t
    m = re.fullmatch(r"(\d{4})_(\d{1,2})", t)
    if m and 1 <= int(m.group(2)) <= 12:
        return f"{m.group(1)}-{int(m.group(2)):02d}"
    raise ValueError(f"unknown period '{text}'; use {PERIOD_HELP}")


def _q_start(y: int, q: int) -> date:
    return date(y, 3 * (q - 1) + 1, 1)


def _add_months(x: date, n: int) -> date:
    m = x.year * 12 + x.month - 1 + n
    return date(m // 12, m % 12 + 1, 1)


def parse_period(text: str, ref: date | None = None) -> Period:
    ref = ref or today()
    p = normalize_period(text)
    tomorrow = ref + timedelta(days=1)
    cur_q = (ref.month - 1) // 3 + 1
    if p in ("this_quarter", "last_quarter") or re.fullmatch(r"(\d{4}-)?Q[1-4]", p):
        if p == "this_quarter":
            y, q = ref.year, cur_q
        elif p == "last_quarter":
            y, q = (ref.year, cur_q - 1) if cur_q > 1 else (ref.year - 1, 4)
        elif p.startswith("Q"):
            y, q = ref.year, int(p[1])
            if _q_start(y, q) > ref:  # "Q4" said in March means last year's
                y -= 1
        else:
            y, q = int(p[:4]), int(p[-1])
        start = _q_start(y, q)
        end = _add_months(start, 3)
        return Period(f"{y}-Q{q}", start, end, _add_months(start, -3), start, end > tomorrow)
    if p in ("this_month", "last_month") or re.fullmatch(r"\d{4}-\d{2}", p):
        if p == "this_month":
            start = date(ref.year, ref.month, 1)
        elif p == "last_month":
            start = _add_months(date(ref.year, ref.month, 1), -1)
        else:
            start = date(int(p[:4]), int(p[5:]), 1)
        end = _add_months(start, 1)
        return Period(start.strftime("%Y-%m"), start, end, _add_months(start, -1), start, end > tomorrow)
    if p in ("this_year", "last_year") or re.fullmatch(r"\d{4}", p):
        y = ref.year if p == "this_year" else ref.year - 1 if p == "last_year" else int(p)
        start, end = date(y, 1, 1), date(y + 1, 1, 1)
        return Period(str(y), start, end, date(y - 1, 1, 1), start, end > tomorrow)
    days = {"last_30_days": 30, "last_90_days": 90, "last_12_months": 365}[p]
    start = tomorrow - timedelta(days=days)
    return Period(p, start, tomorrow, start - timedelta(days=days), start, False)


def period_field_schema(description: str) -> dict:
    return {"description": description, "pattern": PERIOD_PATTERN}


# Tools ------------------------------------------------------------------------------------------------

def _clean_schema(node: Any) -> Any:
    """Pydantic's JSON schema → a plain one models and llama.cpp's grammar converter handle well:
    no titles, `X | None` as X, no null defaults."""
    if isinstance(node, dict):
        node = {k: _clean_schema(v) for k, v in node.items() if k != "title"}
        any_of = node.get("anyOf")
        if isinstance(any_of, list):
            non_null = [s for s in any_of if s != {"type": "null"}]
            if len(non_null) == 1 and len(non_null) < len(any_of):
                node.pop("anyOf")
                node = {**non_null[0], **node}
        if node.get("default", 0) is None:
            node.pop("default")
        return node
    if isinstance(node, list):
        return [_clean_schema(x) for x in node]
    return node


@dataclass(frozen=True)
class Tool:
    name: str
    agent: str
    description: str
    args: type[Args]
    fn: Callable[..., dict]                      # fn(con, args) -> dict
    mutating: bool = False
    preview_fn: Callable[..., str | dict] | None = None   # preview_fn(con, args) -> sentence or error dict
    _cache: dict = field(default_factory=dict, compare=False, repr=False)

    @property
    def parameters(self) -> dict:
        """JSON schema of the arguments object."""
        if "params" not in self._cache:
            s = _clean_schema(self.args.model_json_schema())
            s.pop("$defs", None)
            s["additionalProperties"] = False
            s.setdefault("properties", {})
            self._cache["params"] = s
        return copy.deepcopy(self._cache["params"])

    @property
    def schema(self) -> dict:
        """The OpenAI `tools` entry."""
        return {"type": "function", "function": {"name": self.name, "description": self.description,
                                                 "parameters": self.parameters}}

    def validate(self, raw: Any) -> Args | dict:
        if raw is None:
            raw = {}
        if not isinstance(raw, dict):
            return error(self.name, f"arguments must be a JSON object, got {type(raw).__name__}")
        try:
            return self.args.model_validate(raw)
        except ValidationError as e:
            problems = []
            for err in e.errors()[:8]:
                loc = ".".join(str(p) for p in err.get("loc", ())) or "(arguments)"
                msg = "unknown argument" if err.get("type") == "extra_forbidden" else str(err.get("msg", "invalid")).removeprefix("Value error, ")
                problems.append(f"{loc}: {msg}")
            return error(self.name, "invalid arguments: " + "; ".join(problems),
                         expected=list(self.parameters.get("properties", {})))

    def _with_con(self, db, work: Callable[[sqlite3.Connection], Any]) -> Any:
        from ..data import connect

        own = not isinstance(db, sqlite3.Connection)
        con = connect(db) if own else db
        try:
            return work(con)
        finally:
            if own:
                con.close()

    def run(self, db: sqlite3.Connection | str | Path, /, **raw) -> dict:
        """Validate and execute. `db` is an open connection or a database path. Never raises."""
        args = self.validate(raw)
        if isinstance(args, dict):
            return args

        def work(con):
            if self.mutating:
                with con:  # one transaction: all or nothing
                    return self.fn(con, args)
            return self.fn(con, args)

        try:
            return self._with_con(db, work)
        except sqlite3.Error as e:
            return error(self.name, f"database error: {e}")
        except Exception as e:  # a bug in a tool must not end the conversation
            return error(self.name, f"internal error: {type(e).__name__}: {e}")

    def preview(self, db: sqlite3.Connection | str | Path, /, **raw) -> str:
        """What a data-changing call would do, as one sentence (read-only; changes nothing).
        Starts with "Cannot" when the call would fail."""
        args = self.validate(raw)
        if isinstance(args, dict):
            return f"Cannot run {self.name}: {args['error']}"
        if self.preview_fn is None:
            return f"Run {self.name} with {args.model_dump(exclude_none=True)}"
        try:
            out = self._with_con(db, lambda con: self.preview_fn(con, args))
        except Exception as e:
            return f"Cannot run {self.name}: {type(e).__name__}: {e}"
        if isinstance(out, dict):
            cands = f" (candidates: {', '.join(out['candidates'])})" if out.get("candidates") else ""
            return f"Cannot run {self.name}: {out['error']}{cands}"
        return out
