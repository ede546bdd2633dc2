"""One summary of the records' state, read by `bestbox data status`, `doctor` and the window's data
section: which data the tools use, how old the snapshot is, and the last error in words."""
from __future__ import annotations

from datetime import datetime, timezone

from .source import safe_url
from .sync import read_status, snapshot_path

HINTS = {
    "auth": "check the user in [data] source and the password in $BESTBOX_DB_PASSWORD (or the OS keyring)",
    "unreachable": "is the database server running and reachable from this machine?",
    "schema": "the source's tables changed: update the mapping's SELECT (`bestbox data check` names it)",
    "timeout": "a SELECT is too slow: add a WHERE/index or raise [data] statement_timeout_s",
    "limit": "an entity has more rows than [data] max_rows: filter it in the SELECT or raise the limit",
    "types": "a value does not fit BestBox's column: convert it in the SELECT (`bestbox data check`)",
    "mapping": "fix the mapping file (`bestbox data check` names the entity)",
    "config": "set [data] source and mapping (docs/data-sources.md)",
}


def _age(iso: str | None) -> str:
    if not iso:
        return "never"
    s = (datetime.now(timezone.utc) - datetime.fromisoformat(iso)).total_seconds()
    for unit, n in (("d", 86400), ("h", 3600), ("min", 60)):
        if s >= n:
            return f"{int(s // n)} {unit} ago"
    return "just now"


def summary(cfg) -> dict:
    """{ok, mode, line, source, snapshot, last_ok, age, counts, last_error, hint}. Cheap: reads files only."""
    d = cfg.data
    if d.database:
        return {"ok": True, "mode": "file", "line": f"records: your SQLite file {d.database}", "last_error": None}
    if not d.source:
        return {"ok": True, "mode": "demo", "line": "records: the demo company (no [data] source set)",
                "last_error": None}
    st = read_status()
    snap = snapshot_path()
    err = st.get("last_error")
    rows = sum((st.get("counts") or {}).values())
    src = st.get("source") or safe_url(d.source)
    if snap is None:
        line = f"records: {src}: not synced yet" + (f" - last try failed ({err['kind']})" if err else
                                                      ": run `bestbox data sync`")
    else:
        line = f"records: {src}: {rows} rows, synced {_age(st.get('last_ok'))}"
        if err:
            line += f"; last sync FAILED ({err['kind']}), the previous snapshot still answers"
    return {"ok": snap is not None and not err, "mode": "snapshot", "line": line, "source": src,
            "snapshot": str(snap) if snap else None, "last_ok": st.get("last_ok"), "age": _age(st.get("last_ok")),
            "counts": st.get("counts") or {}, "last_error": err,
            "hint": HINTS.get(err["kind"], "") if err else ""}


def health(cfg, timeout_s: float = 10.0) -> dict:
    """A live look at the source for `doctor` and the window: {ok, detail, fix, data}. Runs the
    mapping's SELECTs on one row each (with a short timeout), so a wrong password, a server that is
    down, a changed schema or a slow query is named now, not at the next sync."""
    from .sync import check

    s = summary(cfg)
    if s["mode"] != "snapshot":
        return {"ok": True, "detail": s["line"], "fix": "", "data": s}
    live_cfg = cfg.model_copy(deep=True)
    live_cfg.data.statement_timeout_s = min(timeout_s, cfg.data.statement_timeout_s)
    res = check(live_cfg, sample_rows=1)
    problem, kind = None, None
    if res["error"]:
        problem, kind = res["error"]["message"], res["error"]["kind"]
    else:
        bad = {n: e for n, e in res["entities"].items() if not e["ok"]}
        if bad:
            name, e = next(iter(bad.items()))
            problem = f"{len(bad)} of {len(res['entities'])} entities fail; {name}: {e['problems'][0]}"
            kind = e.get("kind") or "mapping"
    if problem is None:
        return {"ok": s["ok"], "detail": s["line"] + "; source reachable, mapping ok",
                "fix": "" if s["ok"] else (s.get("hint") or "run `bestbox data sync`"), "data": s}
    keep = "; the last snapshot keeps answering" if s.get("snapshot") else "; no snapshot yet"
    return {"ok": False, "detail": f"{problem}{keep}", "fix": HINTS.get(kind, ""),
            "data": {**s, "live_error": {"kind": kind, "message": problem}}}
