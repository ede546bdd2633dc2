"""The demo company database: generated deterministically on first use, or the user's own file.

`database_path(config)` says which file the agents use; `ensure_database(config)` creates the demo
file when missing (never touching a user-configured file); `connect(path)` opens it (WAL, Row rows).
"""
from __future__ import annotations

import os
import random
import sqlite3
import time
from datetime import date
from importlib import resources
from pathlib import Path

from ... import paths

DEMO_FILENAME = "demo_company.sqlite"
GENERATOR_VERSION = "1"
DEFAULT_SEED = 20261126


def schema_sql() -> str:
    return resources.files(__package__).joinpath("schema.sql").read_text(encoding="utf-8")


def connect(path: str | Path, *, readonly: bool = False) -> sqlite3.Connection:
    """A connection with Row rows, foreign keys, WAL and a busy timeout (UI and CLI may share the file)."""
    if readonly:
        con = sqlite3.connect(f"file:{Path(path)}?mode=ro", uri=True, timeout=5.0)
    else:
        con = sqlite3.connect(str(path), timeout=5.0)
        con.execute("PRAGMA journal_mode=WAL")
    con.row_factory = sqlite3.Row
    con.execute("PRAGMA foreign_keys=ON")
    con.execute("PRAGMA busy_timeout=5000")
    return con


def generate(path: str | Path, *, seed: int = DEFAULT_SEED, today: date | None = None) -> dict:
    """Write a fresh demo company to `path` (replacing a previous demo file atomically).
    Returns {"path", "seconds", "counts"}. Same seed and same `today` give the same rows."""
    from . import gen_crm, gen_erp, gen_itops, gen_oa

    path = Path(path)
    today = today or date.today()
    t0 = time.perf_counter()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + f".tmp{os.getpid()}")
    for p in (tmp, Path(str(tmp) + "-wal"), Path(str(tmp) + "-shm")):
        p.unlink(missing_ok=True)
    con = sqlite3.connect(str(tmp))
    try:
        con.execute("PRAGMA journal_mode=OFF")  # bulk load; WAL is switched on after
        con.execute("PRAGMA synchronous=OFF")
        con.executescript(schema_sql())
        with con:
            # One Random per domain, so a change in one domain's generator leaves the others' rows alone.
            gen_erp.generate(con, random.Random(f"{seed}-erp"), today)
            gen_crm.generate(con, random.Random(f"{seed}-crm"), today)
            gen_itops.generate(con, random.Random(f"{seed}-itops"), today)
            gen_oa.generate(con, random.Random(f"{seed}-oa"), today)
            con.executemany("INSERT INTO meta VALUES (?,?)", [
                ("generator", "bestbox-demo"), ("generator_version", GENERATOR_VERSION), ("seed", str(seed)),
                ("anchor_date", today.isoformat()), ("company", "BestBox Demo Manufacturing")])
        con.execute("PRAGMA journal_mode=WAL")
        counts = table_counts(con)
    finally:
        con.close()
    for suffix in ("-wal", "-shm"):
        Path(str(path) + suffix).unlink(missing_ok=True)
    os.replace(tmp, path)
    return {"path": str(path), "seconds": round(time.perf_counter() - t0, 3), "counts": counts}


def table_counts(con: sqlite3.Connection) -> dict[str, int]:
    names = [r[0] for r in con.execute(
        "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%' "
        "AND name NOT LIKE 'documents_fts%' ORDER BY name")]
    return {n: con.execute(f'SELECT COUNT(*) FROM "{n}"').fetchone()[0] for n in names}


def database_path(config=None) -> tuple[Path, bool]:
    """(path, is_user_file). `config` is a bestbox Config (or None for the demo file)."""
    user = getattr(getattr(config, "data", None), "database", "") if config is not None else ""
    if user:
        return Path(user).expanduser(), True
    if config is not None and getattr(config.data, "source", ""):
        # The user's own records: the last good snapshot `bestbox data sync` made (data/records).
        from ...data.records.sync import records_dir, snapshot_path

        return snapshot_path() or records_dir() / "(no snapshot yet)", True
    return paths.data_dir() / DEMO_FILENAME, False


def is_demo_file(path: Path) -> bool:
    try:
        con = connect(path, readonly=True)
        try:
            row = con.execute("SELECT value FROM meta WHERE key='generator'").fetchone()
            return bool(row) and row[0] == "bestbox-demo"
        finally:
            con.close()
    except sqlite3.Error:
        return False


def anchor_date(path: Path) -> date | None:
    try:
        con = connect(path, readonly=True)
        try:
            row = con.execute("SELECT value FROM meta WHERE key='anchor_date'").fetchone()
            return date.fromisoformat(row[0]) if row else None
        finally:
            con.close()
    except (sqlite3.Error, ValueError):
        return None


def _quarter(x: date) -> tuple[int, int]:
    return x.year, (x.month - 1) // 3


def ensure_database(config=None, *, today: date | None = None) -> Path:
    """The database file the agents should use, created if needed.

    A user-configured file is used as is (a missing one is an error, never created or overwritten).
    The demo file is generated when missing or unreadable, and regenerated when its dates went stale
    (generated in an earlier quarter or > 31 days ago), so "this quarter" always has data.
    """
    path, is_user = database_path(config)
    if is_user:
        if not path.is_file():
            if not getattr(getattr(config, "data", None), "database", ""):
                raise FileNotFoundError("[data] source is set but nothing was synced yet: run `bestbox data sync`")
            raise FileNotFoundError(f"[data] database = '{path}' does not exist")
        return path
    today = today or date.today()
    if not path.exists():
        generate(path, today=today)
    elif is_demo_file(path):
        anchor = anchor_date(path)
        if anchor is None or _quarter(anchor) != _quarter(today) or abs((today - anchor).days) > 31:
            generate(path, today=today)
    elif _broken(path):
        # Not our file and not readable: keep it aside rather than delete it, then generate.
        os.replace(path, path.with_name(f"{path.name}.broken-{int(time.time())}"))
        generate(path, today=today)
    return path


def _broken(path: Path) -> bool:
    try:
        con = connect(path, readonly=True)
        try:
            con.execute("SELECT count(*) FROM sqlite_master").fetchone()
            return False
        finally:
            con.close()
    except sqlite3.Error:
        return True
