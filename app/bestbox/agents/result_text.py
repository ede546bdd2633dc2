"""A tool result as the short text the model reads before it answers.

Reading this text is part of every tool turn's time to first token (160 ms of an 834 ms voice turn on an
H200 for ten vendors; seconds with a 14B model on a CPU), so it says everything the answer needs once:
- rows as tab-separated lines under a header line, not a Markdown table: the separator row, the outer
  pipes and the spaces around inner pipes cost 14 % of the rows' Qwen2 tokens and tell the model
  nothing (people never see this text: the window's tables come from the structured result, and
  `calls.result_markdown` is what people read when the model gives no answer);
- a column with one value in every row is said once ("all 13 rows: has_problem=True") instead of on
  each row (the count keeps it from reading as true of rows not shown);
- a `rank` column that only repeats the row order is left out;
- one row is `field: value` lines; nested values are `a=b` lists, not JSON with quotes;
- amounts keep every cent; only a zero ".00" is left out (Qwen2 reads each digit as one token);
- `row_count`/`truncated` become one line that says how many rows there are and whether more exist;
- a document search's citations (paths, snippets) are left out: its rows carry the same passages;
- a calendar period is its label ("2026-Q4, to date": its first and last day say nothing more, and a
  date is ten tokens); a rolling one keeps its dates; the currency line is left out when it is EUR,
  which every system prompt already says (prompts.STYLE).
"""
from __future__ import annotations

import json
import re
from datetime import date, timedelta
from typing import Any

HOIST_MIN_ROWS = 3          # below this, saying a shared value once saves nothing
SEP = "\t"
# "citations" are for the window (tools/documents.citations_of: paths and snippets); the rows carry
# the passages with their [n], which is all the model cites.
_NOT_FIELDS = ("rows", "row_count", "truncated", "citations")


def cell(v: Any) -> str:
    if isinstance(v, bool) or v is None:
        return "" if v is None else str(v)
    if isinstance(v, float):
        if abs(v) < 1000:
            return f"{v:g}"
        text = f"{v:,.2f}"
        return text[:-3] if text.endswith(".00") else text
    if isinstance(v, dict):
        return ", ".join(f"{k}={cell(x)}" for k, x in v.items() if x not in (None, "", [], {}))
    if isinstance(v, list):
        if not v:
            return "none"
        return "; ".join(cell(x) for x in v) if all(isinstance(x, (dict, str, int, float)) for x in v) \
            else json.dumps(v, ensure_ascii=False, separators=(",", ":"), default=str)
    return str(v).replace("\t", " ").replace("\n", " ")


def _key(v: Any) -> str:
    return json.dumps(v, sort_keys=True, default=str)


def _is_rank(col: str, rows: list[dict]) -> bool:
    return col == "rank" and [r.get(col) for r in rows] == list(range(1, len(rows) + 1))


def table(rows: list[dict]) -> list[str]:
    """Rows as lines: shared values first, then a header line and one line per row (one row: fields)."""
    cols: list[str] = []
    for r in rows:
        cols += [k for k in r if k not in cols and k != "body"]
    cols = [c for c in cols if not _is_rank(c, rows)]
    if len(rows) == 1:
        return [f"{c}: {cell(rows[0].get(c))}" for c in cols if rows[0].get(c) not in (None, "", [], {})]
    out: list[str] = []
    if len(rows) >= HOIST_MIN_ROWS:
        same = [c for c in cols if len({_key(r.get(c)) for r in rows}) == 1]
        if same:
            out.append(f"all {len(rows)} rows: " + ", ".join(f"{c}={cell(rows[0].get(c)) or 'none'}" for c in same))
            cols = [c for c in cols if c not in same]
    if cols:
        out.append(SEP.join(cols))
        out += [SEP.join(cell(r.get(c)) for c in cols) for r in rows]
    return out


def _calendar_days(label: str) -> tuple[str, str] | None:
    """(first day, last day) of a calendar year, quarter or month label (2026, 2026-Q4, 2026-03)."""
    m = re.fullmatch(r"(\d{4})(?:-Q([1-4])|-(\d{2}))?", str(label))
    if not m or (m[3] and not 1 <= int(m[3]) <= 12):
        return None
    y = int(m[1])
    first, months = (3 * int(m[2]) - 2, 3) if m[2] else (int(m[3]), 1) if m[3] else (1, 12)
    after = first - 1 + months
    end = date(y + after // 12, after % 12 + 1, 1) - timedelta(days=1)
    return date(y, first, 1).isoformat(), end.isoformat()


def _period(v: dict) -> str:
    to_date = ", to date" if v.get("to_date") else ""
    if _calendar_days(v["label"]) == (v["start"], v["end"]):
        return f"period: {v['label']}{to_date}"
    return f"period: {v['label']} ({v['start']} to {v['end']}{to_date})"


def _field(k: str, v: Any) -> list[str]:
    if isinstance(v, list) and v and all(isinstance(x, dict) for x in v):
        return [f"{k}:", *table(v)]
    if k == "period" and isinstance(v, dict) and {"label", "start", "end"} <= set(v):
        return [_period(v)]
    return [f"{k}: {cell(v)}"]


def _rows_line(result: dict, rows: list, shown: int) -> str:
    total = result.get("row_count", len(rows))
    more = bool(result.get("truncated"))
    if shown < len(rows):
        return f"{shown} of {total} rows shown (the rest left out for length{'; more exist' if more else ''}):"
    if not rows:
        return "rows: none"
    return f"{len(rows)} row{'s' if len(rows) != 1 else ''}" + (" (more exist, not shown):" if more else ":")


def compact_result(result: dict, shown: int | None = None) -> str:
    """`result` as the model reads it; `shown` rows of its rows (all when None)."""
    lines: list[str] = []
    for k, v in result.items():
        if k in _NOT_FIELDS or v is None or v == {} or (k == "currency" and v == "EUR"):
            continue
        lines += _field(k, v)
    rows = result.get("rows")
    if isinstance(rows, list):
        shown = len(rows) if shown is None else min(shown, len(rows))
        lines.append(_rows_line(result, rows, shown))
        part = rows[:shown]
        if part and all(isinstance(r, dict) for r in part):
            body = part[0].get("body")
            if body and "excerpt" in part[0]:   # the excerpt is a piece of the full text below
                part = [{**part[0], "excerpt": None if len(part) == 1 else "(full text below)"}, *part[1:]]
            lines += table(part)
            if body:
                lines.append(f"Full text of the first result:\n{body}")
        elif part:
            lines.append(cell(part))
    return "\n".join(lines)
