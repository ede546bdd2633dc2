"""`check` a mapping against the source, and `sync` the source into a read-only snapshot.

The snapshot is a SQLite file with the demo schema in the data dir; the tools read it exactly as they
read the demo company. Each sync writes a new file and then points `status.json` at it, so a failed
sync (wrong password, server down, changed schema, slow query) leaves the last good snapshot
answering, and a reader never sees a half-written file.
"""
from __future__ import annotations

import json
import logging
import os
import sqlite3
import time
from datetime import datetime, timezone
from pathlib import Path

from ... import paths
from .mapping import Mapping, MappingError, entities
from .source import Source, SourceError, safe_url
from .values import ValueProblem, column_problems, converter

log = logging.getLogger(__name__)
GENERATOR = "bestbox-records"
SAMPLE_ROWS = 5


def records_dir() -> Path:
    return paths.data_dir() / "records"


def status_file() -> Path:
    return records_dir() / "status.json"


def read_status() -> dict:
    try:
        return json.loads(status_file().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def snapshot_path() -> Path | None:
    """The last good snapshot, or None before the first successful sync."""
    name = read_status().get("snapshot")
    if not name:
        return None
    p = records_dir() / name
    return p if p.is_file() else None


def _write_status(**changes) -> dict:
    st = read_status()
    st.update(changes)
    records_dir().mkdir(parents=True, exist_ok=True)
    tmp = status_file().with_suffix(f".tmp{os.getpid()}")
    tmp.write_text(json.dumps(st, indent=1), encoding="utf-8")
    os.replace(tmp, status_file())
    return st


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def open_source(cfg) -> tuple[Source, Mapping]:
    d = cfg.data
    if not d.source:
        raise SourceError("config", "no [data] source configured (see docs/data-sources.md)")
    if not d.mapping:
        raise SourceError("config", "[data] source is set but [data] mapping is empty: name a mapping file "
                                    "(examples in docs/data-mappings/)")
    try:
        mapping = Mapping.load(d.mapping)
    except MappingError as e:
        raise SourceError("mapping", str(e)) from None
    return Source.open(d.source, password_env=d.password_env, timeout_s=d.statement_timeout_s), mapping


# -- check -----------------------------------------------------------------------------------------
def check(cfg, *, sample_rows: int = SAMPLE_ROWS) -> dict:
    """Every mapped entity: does its SELECT run, return our columns, with values of our types that the
    demo schema accepts? Returns {ok, source, entities: {name: {ok, problems, columns, sample}},
    unmapped, error}. Never raises."""
    out: dict = {"ok": False, "source": safe_url(cfg.data.source), "entities": {}, "unmapped": [], "error": None}
    try:
        src, mapping = open_source(cfg)
    except SourceError as e:
        out["error"] = e.as_dict()
        return out
    out["source"], out["password_from"], out["unmapped"] = src.display, src.password_from, mapping.unmapped()
    scratch = _scratch_db()
    try:
        with src.connection() as conn:
            for name, sql in mapping.queries.items():
                out["entities"][name] = _check_entity(src, conn, scratch, name, sql, sample_rows)
        out["ok"] = all(e["ok"] for e in out["entities"].values())
    except SourceError as e:
        out["error"] = e.as_dict()
    finally:
        scratch.close()
        src.close()
    return out


def _scratch_db() -> sqlite3.Connection:
    from ...agents.data import schema_sql

    con = sqlite3.connect(":memory:")
    con.executescript(schema_sql())
    con.execute("PRAGMA foreign_keys=OFF")  # entities are checked one by one, so references may dangle here
    return con


def _check_entity(src: Source, conn, scratch, name: str, sql: str, n: int) -> dict:
    entity = entities()[name]
    res: dict = {"ok": False, "problems": [], "columns": [], "sample": []}
    try:
        cols, batches = src.rows(conn, f"SELECT * FROM ({sql}) AS bestbox_check LIMIT {int(n)}", name, limit=n)
        rows = [r for chunk in batches for r in chunk]
    except SourceError as e:
        res["problems"].append(e.message)
        res["kind"] = e.kind
        return res
    res["columns"] = cols
    missing, unknown = column_problems(entity, cols)
    if missing:
        res["problems"].append(f"missing columns: {', '.join(missing)}")
    if unknown:
        res["problems"].append(f"columns BestBox does not know (ignored): {', '.join(unknown)}")
    conv, used = converter(entity, cols)
    for i, r in enumerate(rows, 1):
        try:
            vals = conv(r, i)
            scratch.execute(f"INSERT INTO {name} ({', '.join(used)}) VALUES ({', '.join('?' * len(used))})", vals)
            res["sample"].append(dict(zip(used, vals)))
        except ValueProblem as e:
            res["problems"].append(str(e))
        except sqlite3.IntegrityError as e:
            res["problems"].append(f"{name}, row {i}: {_explain_integrity(e)}")
    if not rows:
        res["problems"].append("the SELECT returned no rows")
    scratch.rollback()
    # Only missing columns, bad values and errors fail a check; unknown columns and no rows are warnings.
    res["ok"] = not missing and not any("row " in p for p in res["problems"])
    if res["ok"] and res["problems"]:
        res["kind"] = "warning"
    elif not res["ok"]:
        res["kind"] = "types" if not missing else "schema"
    return res


def _explain_integrity(e: sqlite3.IntegrityError) -> str:
    msg = str(e)
    if msg.startswith("CHECK constraint failed"):
        return f"a value outside the allowed set ({msg.split(':', 1)[-1].strip()}); map it with CASE ... END"
    if msg.startswith("UNIQUE constraint failed"):
        return f"duplicate key ({msg.split(':', 1)[-1].strip()}); the SELECT must return one row per key"
    return msg


# -- sync ------------------------------------------------------------------------------------------
def sync(cfg, *, progress=None) -> dict:
    """Copy every mapped entity into a new snapshot. Returns {ok, snapshot, seconds, counts, error}.
    On any error the previous snapshot stays in use and the error is recorded in status.json."""
    t0 = time.perf_counter()
    _write_status(last_attempt=_now())
    try:
        src, mapping = open_source(cfg)
    except SourceError as e:
        return _failed(e, t0)
    records_dir().mkdir(parents=True, exist_ok=True)
    name = f"snapshot-{datetime.now(timezone.utc).strftime('%Y%m%dT%H%M%S%f')}.sqlite"
    tmp = records_dir() / (name + ".part")
    try:
        counts = _fill(src, mapping, tmp, cfg.data.max_rows, progress)
        os.replace(tmp, records_dir() / name)
    except SourceError as e:
        tmp.unlink(missing_ok=True)
        return _failed(e, t0)
    finally:
        src.close()
    previous = read_status().get("snapshot")
    seconds = round(time.perf_counter() - t0, 3)
    _write_status(snapshot=name, last_ok=_now(), last_error=None, seconds=seconds, counts=counts,
                  source=src.display)
    # Keep the previous snapshot one sync longer: a turn that resolved it just before may still open it.
    for old in sorted(records_dir().glob("snapshot-*.sqlite")):
        if old.name not in (name, previous):
            _remove(old)
    log.info("records sync from %s: %s rows in %.2f s", src.display, sum(counts.values()), seconds)
    return {"ok": True, "snapshot": str(records_dir() / name), "seconds": seconds, "counts": counts,
            "source": src.display, "error": None}


def _failed(e: SourceError, t0: float) -> dict:
    _write_status(last_error={**e.as_dict(), "at": _now()})
    log.warning("records sync failed (%s): %s", e.kind, e.message)
    snap = snapshot_path()
    return {"ok": False, "snapshot": str(snap) if snap else None, "seconds": round(time.perf_counter() - t0, 3),
            "counts": {}, "error": e.as_dict(),
            "note": "the last good snapshot keeps answering" if snap else "no snapshot yet: the tools have no data"}


def _remove(p: Path) -> None:
    for q in (p, Path(f"{p}-wal"), Path(f"{p}-shm")):
        try:
            q.unlink(missing_ok=True)
        except OSError:  # open elsewhere on a platform that forbids it: the next sync tries again
            pass


def _fill(src: Source, mapping: Mapping, tmp: Path, max_rows: int, progress) -> dict[str, int]:
    from ...agents.data import schema_sql

    tmp.unlink(missing_ok=True)
    con = sqlite3.connect(str(tmp))
    counts: dict[str, int] = {}
    try:
        con.execute("PRAGMA journal_mode=OFF")
        con.execute("PRAGMA synchronous=OFF")
        con.executescript(schema_sql())
        # The source is the authority on its own references (and a mapping may leave some entities out).
        con.execute("PRAGMA foreign_keys=OFF")
        with src.connection() as conn:
            for name, sql in mapping.queries.items():
                counts[name] = _copy_entity(src, conn, con, name, sql, max_rows)
                if progress:
                    progress(name, counts[name])
        _carry_local_rows(con, mapping)
        if "documents" in mapping.queries:
            con.execute("INSERT INTO documents_fts(documents_fts) VALUES ('rebuild')")
        today = datetime.now().date().isoformat()
        con.executemany("INSERT INTO meta VALUES (?,?)", [
            ("generator", GENERATOR), ("source", src.display), ("synced_at", _now()), ("anchor_date", today),
            ("company", src.display)])
        con.commit()
        con.execute("PRAGMA journal_mode=WAL")  # the tools open it in WAL mode; set it while we own it
    except BaseException:
        con.close()
        tmp.unlink(missing_ok=True)
        raise
    con.close()
    return counts


def _copy_entity(src: Source, conn, con, name: str, sql: str, max_rows: int) -> int:
    entity = entities()[name]
    cols, batches = src.rows(conn, sql, name, limit=max_rows)
    missing, _unknown = column_problems(entity, cols)
    if missing:
        raise SourceError("schema", f"{name}: the SELECT no longer returns {', '.join(missing)} "
                                    "(did the source's tables change?)", name)
    conv, used = converter(entity, cols)
    insert = f"INSERT INTO {name} ({', '.join(used)}) VALUES ({', '.join('?' * len(used))})"
    n = 0
    try:
        for chunk in batches:
            con.executemany(insert, [conv(r, n + i + 1) for i, r in enumerate(chunk)])
            n += len(chunk)
    except ValueProblem as e:
        raise SourceError("types", str(e), name) from None
    except sqlite3.IntegrityError as e:
        raise SourceError("types", f"{name}: {_explain_integrity(e)}", name) from None
    return n


def _carry_local_rows(con, mapping: Mapping) -> None:
    """Rows BestBox itself created (requisitions, logged calls, tickets) live only in the snapshot:
    tables the mapping does not fill keep their rows from the previous snapshot."""
    prev = snapshot_path()
    if prev is None:
        return
    con.execute("ATTACH DATABASE ? AS prev", (str(prev),))
    try:
        for name in mapping.unmapped():
            try:
                con.execute(f"INSERT INTO main.{name} SELECT * FROM prev.{name}")
            except sqlite3.Error as e:
                log.debug("records: cannot carry %s from the previous snapshot: %s", name, e)
        con.commit()
    finally:
        con.execute("DETACH DATABASE prev")


def due(cfg, now: float | None = None) -> bool:
    """Whether the scheduled refresh is due ([data] refresh_minutes since the last attempt)."""
    if not cfg.data.source or cfg.data.refresh_minutes <= 0:
        return False
    last = read_status().get("last_attempt")
    if not last:
        return True
    age = (now or time.time()) - datetime.fromisoformat(last).timestamp()
    return age >= cfg.data.refresh_minutes * 60
