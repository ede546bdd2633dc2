"""Values from the user's database → the demo schema's types and formats.

Every driver returns its own Python types (psycopg: Decimal, date, datetime; CSV: strings), and the
tools compare dates as ISO text, so each value is converted once here, and a value that cannot be
converted is named (entity, column, row, value) instead of being stored wrong.
"""
from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal

from .mapping import Column, Entity

_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}")


class ValueProblem(ValueError):
    pass


def _to_int(v):
    if isinstance(v, bool):
        return int(v)
    if isinstance(v, int):
        return v
    if isinstance(v, (float, Decimal)):
        if v != int(v):
            raise ValueProblem(f"{v!r} is not a whole number")
        return int(v)
    if isinstance(v, str):
        s = v.strip().lower()
        if s in ("true", "t", "yes"):
            return 1
        if s in ("false", "f", "no"):
            return 0
        try:
            return _to_int(float(s)) if "." in s or "e" in s else int(s)
        except ValueError:
            raise ValueProblem(f"{v!r} is not a whole number") from None
    raise ValueProblem(f"{type(v).__name__} {v!r} is not a whole number")


def _to_real(v):
    if isinstance(v, (int, float, Decimal)) and not isinstance(v, bool):
        return float(v)
    if isinstance(v, str):
        try:
            return float(v.strip().replace(",", "")) if v.strip() else None
        except ValueError:
            raise ValueProblem(f"{v!r} is not a number") from None
    raise ValueProblem(f"{type(v).__name__} {v!r} is not a number")


def _to_text(v, kind: str):
    if kind in ("date", "datetime", "datetime_s"):
        fmt = {"date": "%Y-%m-%d", "datetime": "%Y-%m-%d %H:%M", "datetime_s": "%Y-%m-%d %H:%M:%S"}[kind]
        if isinstance(v, datetime):
            return v.strftime(fmt)
        if isinstance(v, date):
            return v.strftime(fmt)  # midnight for the datetime kinds
        s = str(v).strip()
        if not _ISO_DATE.match(s):
            raise ValueProblem(f"{v!r} is not an ISO date (YYYY-MM-DD...)")
        try:
            parsed = datetime.fromisoformat(s.replace("T", " ").replace("Z", "")[:19])
        except ValueError:
            raise ValueProblem(f"{v!r} is not a valid date") from None
        return parsed.strftime(fmt)
    if isinstance(v, bytes):
        raise ValueProblem("binary data where text was expected")
    return str(v)


def convert(col: Column, v):
    if v is None:
        return None
    if col.type == "INTEGER":
        return _to_int(v)
    if col.type == "REAL":
        return _to_real(v)
    return _to_text(v, col.kind)


def column_problems(entity: Entity, returned: list[str]) -> tuple[list[str], list[str]]:
    """(missing required columns, returned columns we do not know)."""
    got = set(returned)
    missing = [c.name for c in entity.columns if c.required and c.name not in got]
    unknown = [c for c in returned if entity.column(c) is None]
    return missing, unknown


def converter(entity: Entity, returned: list[str]):
    """A function row → tuple in the order of `used` columns, and the list `used`."""
    used = [c for c in returned if entity.column(c) is not None]
    idx = [returned.index(c) for c in used]
    cols = [entity.column(c) for c in used]

    def conv(row, rownum: int):
        out = []
        for i, col in zip(idx, cols):
            try:
                v = convert(col, row[i])
            except ValueProblem as e:
                raise ValueProblem(f"{entity.name}.{col.name}, row {rownum}: {e}") from None
            if v is None and col.required:
                raise ValueProblem(f"{entity.name}.{col.name}, row {rownum}: empty, but BestBox needs a value "
                                   f"(use COALESCE({col.name}, ...) in the SELECT)")
            out.append(v)
        return tuple(out)

    return conv, used
