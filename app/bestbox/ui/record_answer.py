"""An answer built from a tool's result (the model gave none) lists the record's fields; when the
step above already shows that record as a table, the list only repeats it, so it is dropped."""
from __future__ import annotations

import re

_ITEM = re.compile(r"^- ([A-Za-z_][\w ]*): ")


def without_repeated_record(text: str, result) -> str:
    """`text` without its "- field: value" list when every listed field is a field of `result`
    (the record the table shows); otherwise `text` unchanged."""
    if not isinstance(result, dict) or not text:
        return text
    head, sep, body = text.partition("\n\n")
    lines = [ln for ln in body.split("\n") if ln.strip()]
    if not sep or not lines or not head.rstrip().endswith(":"):
        return text
    keys = [m.group(1) if (m := _ITEM.match(ln)) else None for ln in lines]
    fields = _flat_keys(result)
    if any(k is None or k not in fields for k in keys):
        return text
    return f"{head.rstrip().rstrip(':')}: done — the record is in the table above."


def _flat_keys(result: dict) -> set[str]:
    keys = set(result)
    for k, v in result.items():
        if isinstance(v, dict):
            keys.add(k)
    rows = result.get("rows")
    if isinstance(rows, list) and len(rows) == 1 and isinstance(rows[0], dict):
        keys |= set(rows[0])
    return keys
