"""The Tool type, argument validation, result shaping and the period vocabulary all tools share.

A tool never raises to its caller: bad arguments and database errors come back as
`{"error": ..., "tool": ...}` dicts, which the agent loop hands to the model as the tool result.
"""
from __future__ import annotations

import copy
import logging
import re
import sqlite3
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Annotated, Any, Callable, get_args

from pydantic import BaseModel, BeforeValidator, ConfigDict, ValidationError, model_validator

log = logging.getLogger(__name__)

MAX_ROWS = 50
MAX_ARG_CHARS = 2000  # the JSON text of one call's arguments


def today() -> date:
    """The date tools call "today" (one place, so tests can patch it)."""
    return date.today()


class Args(BaseModel):
    """Base for tool arguments: unknown keys are errors the model can read and fix."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, str_max_length=500)

    @model_validator(mode="before")
    @classmethod
    def _spoken_numbers(cls, data: Any) -> Any:
        """Counts as people say them ("five") for every integer argument of every tool."""
        if not isinstance(data, dict):
            return data
        from .spoken import count

        out = dict(data)
        for name, f in cls.model_fields.items():
            if name in out and isinstance(out[name], str) and (f.annotation is int or int in get_args(f.annotation)):
                out[name] = count(out[name])
        return out


@dataclass(frozen=True)
class FieldKind:
    """Marks what an argument holds, for the form a person fills in ("date", "time", "date-time")."""
    kind: str


def _day(v: Any) -> Any:
    from .spoken import parse_day

    return parse_day(v) if isinstance(v, str) else v


def _clock(v: Any) -> Any:
    from .spoken import parse_clock

    return parse_clock(v) if isinstance(v, str) else v


def _minutes(v: Any) -> Any:
    from .spoken import parse_minutes

    return parse_minutes(v) if isinstance(v, str) else v


# Argument types that understand what people say; the value the tool sees is normalized.
Day = Annotated[str, BeforeValidator(_day), FieldKind("date")]        # → "YYYY-MM-DD"
Clock = Annotated[str, BeforeValidator(_clock), FieldKind("time")]    # → "HH:MM"
OptionalDay = Annotated[str | None, BeforeValidator(_day), FieldKind("date")]
Minutes = Annotated[int, BeforeValidator(_minutes)]                    # "one hour", "90 min" → minutes


def field_kind(args: type[BaseModel], name: str) -> str | None:
    f = args.model_fields.get(name)
    return next((m.kind for m in (f.metadata if f else ()) if isinstance(m, FieldKind)), None)


def _plain(e: Exception) -> str:
    """An exception as a few words for a person: its message, without the class name or a traceback."""
    text = " ".join(str(e).split())[:160]
    return text or type(e).__name__


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
               "last_12_month": "last_12_months", "last_year_12_months": "last_12_months",
               "past_year": "last_12_months"}
    t = re.sub(r"^(the|in|during|for|over)_+", "", t)
    t = aliases.get(t, re.sub(r"^(past|previous)_", "last_", t))
    t = aliases.get(t, t)
    if t in PERIOD_WORDS:
        return t
    spoken = _spoken_period(t)
    if spoken:
        return spoken
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


_ORDINAL_Q = {"first": 1, "1st": 1, "second": 2, "2nd": 2, "third": 3, "3rd": 3, "fourth": 4, "4th": 4, "last": 0}
_MONTHS = ["january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
           "november", "december"]


def _spoken_period(t: str) -> str | None:
    """"first quarter (of) 2026", "march", "march 2026", "last 3 months" → the vocabulary above."""
    m = re.fullmatch(r"(first|1st|second|2nd|third|3rd|fourth|4th)_quarter(?:_(?:of_)?(\d{4}))?", t)
    if m:
        q = _ORDINAL_Q[m.group(1)]
        return f"{m.group(2)}-Q{q}" if m.group(2) else f"Q{q}"
    m = re.fullmatch(r"last_(\d{1,3})_(days|months)", t)
    if m:
        n = int(m.group(1)) * (30 if m.group(2) == "months" else 1)
        return {30: "last_30_days", 90: "last_90_days", 360: "last_12_months", 365: "last_12_months"}.get(n)
    m = re.fullmatch(r"([a-z]+)(?:_(\d{4}))?", t)
    names = [x for x in _MONTHS if len(m.group(1)) >= 3 and x.startswith(m.group(1))] if m else []
    if len(names) == 1:
        month = _MONTHS.index(names[0]) + 1
        ref = today()
        year = int(m.group(2)) if m.group(2) else ref.year if month <= ref.month else ref.year - 1
        return f"{year}-{month:02d}"
    return None


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

def _clean_schema(node: Any, names: bool = False) -> Any:
    """Pydantic's JSON schema → a plain one models and llama.cpp's grammar converter handle well:
    no titles, `X | None` as X, no null defaults. `names`: `node` maps property names to schemas, so
    a field called "title" (open_ticket's, book_room's) is a property, not an annotation to drop."""
    if isinstance(node, dict) and names:
        return {k: _clean_schema(v) for k, v in node.items()}
    if isinstance(node, dict):
        node = {k: _clean_schema(v, names=k in ("properties", "$defs")) for k, v in node.items() if k != "title"}
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
            problems, missing, invalid = [], [], {}
            for err in e.errors()[:8]:
                loc = ".".join(str(p) for p in err.get("loc", ())) or "(arguments)"
                kind = err.get("type")
                msg = "unknown argument" if kind == "extra_forbidden" else str(err.get("msg", "invalid")).removeprefix("Value error, ")
                problems.append(f"{loc}: {msg}")
                if kind == "missing":
                    missing.append(loc)
                elif kind != "extra_forbidden":
                    invalid[loc] = msg
            # `missing`/`invalid` let the agent loop turn a call the model cannot complete into a form.
            return error(self.name, "invalid arguments: " + "; ".join(problems),
                         expected=list(self.parameters.get("properties", {})), missing=missing, invalid=invalid)

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
        except Exception as e:  # a bug in a tool must not end the conversation, nor show a traceback
            log.warning("tool %s failed on %s", self.name, raw, exc_info=True)
            return error(self.name, f"{self.name} could not run with these values ({_plain(e)}); "
                                    "check them or try other wording")

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
            log.warning("preview of %s failed on %s", self.name, raw, exc_info=True)
            return f"Cannot run {self.name}: it could not read these values ({_plain(e)})"
        if isinstance(out, dict):
            cands = f" (candidates: {', '.join(out['candidates'])})" if out.get("candidates") else ""
            return f"Cannot run {self.name}: {out['error']}{cands}"
        return out
