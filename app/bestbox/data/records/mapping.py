"""The mapping a user (or their admin) writes once: for each entity the tools know, one SELECT
against their own database that returns our columns.

The entities and their columns are not listed by hand: they are read from the demo schema
(`agents/data/schema.sql`) itself, so the tools, the demo and the mapping can never disagree.
A mapping file is TOML, one table per entity:

    [vendors]
    sql = '''SELECT id, name, ... FROM res_partner WHERE supplier_rank > 0'''
"""
from __future__ import annotations

import re
import sqlite3
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

# Tables of the demo schema that are ours, not the user's: never mapped.
NOT_ENTITIES = {"meta", "documents_fts"}
_DATE_ONLY = re.compile(r"(_date|^needed_by)$")
_DATETIME = re.compile(r"(_at|^ts)$")


@dataclass(frozen=True)
class Column:
    name: str
    type: str          # INTEGER | REAL | TEXT (the demo schema's declared type)
    required: bool     # NOT NULL without a default, or part of the primary key
    kind: str = ""     # "date" (YYYY-MM-DD), "datetime" (YYYY-MM-DD HH:MM) or ""


@dataclass(frozen=True)
class Entity:
    name: str
    columns: tuple[Column, ...]

    def column(self, name: str) -> Column | None:
        return next((c for c in self.columns if c.name == name), None)


class MappingError(ValueError):
    """The mapping file itself is wrong (syntax, unknown entity, no SELECT). Names the place."""


def column_kind(table: str, name: str) -> str:
    if _DATE_ONLY.search(name):
        return "date"
    if _DATETIME.search(name):
        return "datetime_s" if (table, name) == ("logs", "ts") else "datetime"
    return ""


@lru_cache(maxsize=1)
def entities() -> dict[str, Entity]:
    """Every entity of the demo schema, in schema order, with its columns."""
    from ...agents.data import schema_sql

    con = sqlite3.connect(":memory:")
    try:
        con.executescript(schema_sql())
        tables = [r[0] for r in con.execute(
            "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%' "
            "AND name NOT LIKE 'documents_fts_%' ORDER BY rowid")]
        out = {}
        for t in tables:
            if t in NOT_ENTITIES:
                continue
            cols = []
            for _cid, name, decl, notnull, default, pk in con.execute(f'PRAGMA table_info("{t}")'):
                required = bool(pk) or (bool(notnull) and default is None)
                cols.append(Column(name, (decl or "TEXT").upper(), required, column_kind(t, name)))
            out[t] = Entity(t, tuple(cols))
        return out
    finally:
        con.close()


@dataclass
class Mapping:
    path: Path | None
    queries: dict[str, str]        # entity -> SELECT

    @classmethod
    def load(cls, path: str | Path) -> "Mapping":
        p = Path(path).expanduser()
        if not p.is_file():
            raise MappingError(f"mapping file {p} does not exist")
        try:
            raw = tomllib.loads(p.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as e:
            raise MappingError(f"{p}: not valid TOML: {e}") from None
        except UnicodeDecodeError:
            raise MappingError(f"{p}: not UTF-8 text") from None
        return cls.from_dict(raw, p)

    @classmethod
    def from_dict(cls, raw: dict, path: Path | None = None) -> "Mapping":
        where = f"{path}: " if path else ""
        known = entities()
        queries: dict[str, str] = {}
        for name, table in raw.items():
            if name not in known:
                raise MappingError(f"{where}[{name}] is not an entity BestBox knows; "
                                   f"known: {', '.join(known)}")
            if not isinstance(table, dict) or not isinstance(table.get("sql"), str):
                raise MappingError(f"{where}[{name}] needs sql = \"SELECT ...\"")
            extra = set(table) - {"sql", "note"}
            if extra:
                raise MappingError(f"{where}[{name}] has unknown keys: {', '.join(sorted(extra))} (use sql, note)")
            sql = table["sql"].strip().rstrip(";").strip()
            first = sql.split(None, 1)[0].upper() if sql else ""
            if first not in ("SELECT", "WITH"):
                raise MappingError(f"{where}[{name}] sql must be a SELECT (or WITH ... SELECT); "
                                   "BestBox only ever reads the source")
            queries[name] = sql
        if not queries:
            raise MappingError(f"{where}maps no entity; see docs/data-mappings/ for examples")
        return cls(path, queries)

    def unmapped(self) -> list[str]:
        return [e for e in entities() if e not in self.queries]
