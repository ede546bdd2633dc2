"""The user's own names by kind, from the database the tools read (demo, file or snapshot), for the
fast path's entity cue: "what about Deco Addict?" carries "customer" once Deco Addict is known to be
one. (The glossary reads the same database for Whisper and cleanup: speech/glossary.py.)"""
from __future__ import annotations

import logging
import sqlite3

log = logging.getLogger(__name__)

# table → (name column, the word the fast path's examples use for that kind)
KINDS = {"vendors": ("name", "vendor"), "customers": ("name", "customer"), "products": ("name", "product"),
         "employees": ("name", "employee")}
MAX_PER_KIND = 5000


def entity_names(config=None) -> dict[str, str]:
    """{lowercased name: kind word}. Empty when the database is missing or unreadable (never raises)."""
    from ...agents.data import database_path

    try:
        path, _ = database_path(config)
        if not path.is_file():
            return {}
        con = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=0.5)
    except (sqlite3.Error, OSError, ValueError) as e:
        log.debug("entity names unavailable: %s", e)
        return {}
    out: dict[str, str] = {}
    try:
        for table, (col, word) in KINDS.items():
            try:
                rows = con.execute(f'SELECT DISTINCT "{col}" FROM "{table}" WHERE "{col}" IS NOT NULL LIMIT ?',
                                   (MAX_PER_KIND,)).fetchall()
            except sqlite3.Error:
                continue
            for (v,) in rows:
                key = " ".join(str(v).lower().split())
                if len(key) >= 3:
                    out.setdefault(key, word)
    finally:
        con.close()
    return out
