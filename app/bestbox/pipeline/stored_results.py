"""Tool results kept with the turn, bounded, so a reopened conversation (or the window after a
restart) shows the same table and the same raw JSON as when it was answered.

A result is kept whole up to `MAX_ROWS` rows and `MAX_CHARS` of JSON; beyond that the trailing rows
are dropped and the result says how many were kept (`rows_kept`), next to the tool's own `row_count`.
"""
from __future__ import annotations

import json

MAX_ROWS = 200
MAX_CHARS = 64_000


def _size(obj) -> int:
    return len(json.dumps(obj, ensure_ascii=False, default=str))


def bounded(result) -> dict | None:
    """`result` as stored: at most MAX_ROWS rows and about MAX_CHARS of JSON; None when it is not an object."""
    if not isinstance(result, dict):
        return None
    out = dict(result)
    rows = out.get("rows")
    if isinstance(rows, list):
        keep = rows[:MAX_ROWS]
        while keep and _size({**out, "rows": keep}) > MAX_CHARS:
            keep = keep[: len(keep) * 2 // 3] if len(keep) > 3 else keep[:-1]
        if len(keep) < len(rows):
            out["rows"], out["rows_kept"] = keep, len(keep)
    if _size(out) > MAX_CHARS:      # a huge value outside the rows (a document body): keep a note only
        return {"rows_kept": 0, "note": "the result was too large to keep", "row_count": out.get("row_count")}
    return out


def attach(tool_calls: list[dict], results: list[tuple[str, dict | None, str]]) -> list[dict]:
    """Copies of `tool_calls` (from the done event, in call order) with each call's stored result and
    summary; `results`: (name, result, summary) per tool_result event, in the same order."""
    out = []
    for i, call in enumerate(tool_calls):
        c = dict(call)
        if i < len(results) and results[i][0] == c.get("name"):
            stored = bounded(results[i][1])
            if stored is not None:
                c["result"] = stored
            c["summary"] = results[i][2] or ""
        out.append(c)
    return out
