"""IT Ops tools: host health, incidents, backups, log search, opening a ticket."""
from __future__ import annotations

from datetime import datetime, timedelta

from pydantic import Field

from .base import MAX_ROWS, Args, Tool, error, fetch, like, resolve_one, rows_result

TEAMS = ("Infrastructure", "Service Desk", "Database", "Network", "Security", "Applications")
HOT = 90.0  # percent: cpu / memory / disk above this is a problem


def _now() -> datetime:
    from . import base

    return datetime.combine(base.today(), datetime.now().time())


class HostArgs(Args):
    host: str | None = Field(None, max_length=80, description="Hostname or part of it, e.g. db or prod-web")
    environment: str | None = Field(None, pattern="^(prod|staging|dev)$", description="prod, staging or dev")
    only_problems: bool = Field(False, description="Only hosts that are not up or run hot (>90% cpu/mem/disk)")
    limit: int = Field(20, ge=1, le=MAX_ROWS)


def host_status(con, a: HostArgs) -> dict:
    where, params = ["1=1"], []
    if a.host:
        where.append("h.hostname LIKE ? ESCAPE '\\'")
        params.append(like(a.host))
    if a.environment:
        where.append("h.environment = ?")
        params.append(a.environment)
    problem = f"(h.status != 'up' OR m.cpu_pct > {HOT} OR m.mem_pct > {HOT} OR m.disk_pct > {HOT} OR bad.n > 0)"
    if a.only_problems:
        where.append(problem)
    base = f"""FROM hosts h
        LEFT JOIN (SELECT host_id, MAX(ts) AS ts FROM host_metrics GROUP BY host_id) last ON last.host_id = h.id
        LEFT JOIN host_metrics m ON m.host_id = h.id AND m.ts = last.ts
        LEFT JOIN (SELECT host_id, COUNT(*) AS n, GROUP_CONCAT(name || ':' || status) AS names FROM services
                   WHERE status != 'running' GROUP BY host_id) bad ON bad.host_id = h.id
        WHERE {' AND '.join(where)}"""
    rows = fetch(con, f"""SELECT h.hostname, h.role, h.environment, h.status, h.location, m.ts AS sampled_at,
        m.cpu_pct, m.mem_pct, m.disk_pct, COALESCE(bad.names, '') AS services_not_running,
        {problem} AS has_problem {base}
        ORDER BY has_problem DESC, MAX(COALESCE(m.cpu_pct,0), COALESCE(m.mem_pct,0), COALESCE(m.disk_pct,0)) DESC,
        h.hostname LIMIT ?""", (*params, a.limit + 1))
    for r in rows:
        r["has_problem"] = bool(r["has_problem"])
    n, probs = con.execute(f"SELECT COUNT(*), SUM({problem}) {base}", params).fetchone()
    return rows_result(rows, a.limit, total_hosts=n, hosts_with_problems=probs or 0, threshold_pct=HOT)


class IncidentArgs(Args):
    severity: str | None = Field(None, pattern="^sev[1-4]$", description="sev1 (worst) .. sev4")
    team: str | None = Field(None, max_length=40, description="Owning team, e.g. Database")
    limit: int = Field(20, ge=1, le=MAX_ROWS)


def open_incidents(con, a: IncidentArgs) -> dict:
    where, params = ["i.status IN ('open','investigating','mitigated')"], []
    if a.severity:
        where.append("i.severity = ?")
        params.append(a.severity)
    if a.team:
        where.append("i.team LIKE ? ESCAPE '\\'")
        params.append(like(a.team))
    base = f"FROM incidents i LEFT JOIN hosts h ON h.id = i.host_id WHERE {' AND '.join(where)}"
    rows = fetch(con, f"""SELECT i.ref, i.title, i.severity, i.status, i.team, h.hostname AS host, i.service,
        i.opened_at {base} ORDER BY i.severity, i.opened_at DESC LIMIT ?""", (*params, a.limit + 1))
    total = con.execute(f"SELECT COUNT(*) {base}", params).fetchone()[0]
    tickets = {r["priority"]: r["n"] for r in fetch(con, "SELECT priority, COUNT(*) AS n FROM tickets WHERE status IN "
                                                       "('new','open','pending') GROUP BY priority ORDER BY priority")}
    return rows_result(rows, a.limit, total_open=total, open_tickets_by_priority=tickets)


class BackupArgs(Args):
    days: int = Field(7, ge=1, le=90, description="Look back this many days")
    host: str | None = Field(None, max_length=80)
    include_warnings: bool = False
    limit: int = Field(20, ge=1, le=MAX_ROWS)


def failed_backups(con, a: BackupArgs) -> dict:
    since = (_now() - timedelta(days=a.days)).strftime("%Y-%m-%d %H:%M")
    statuses = "('failed','warning')" if a.include_warnings else "('failed')"
    where, params = [f"b.status IN {statuses}", "b.started_at >= ?"], [since]
    if a.host:
        where.append("h.hostname LIKE ? ESCAPE '\\'")
        params.append(like(a.host))
    base = f"FROM backup_jobs b JOIN hosts h ON h.id = b.host_id WHERE {' AND '.join(where)}"
    rows = fetch(con, f"""SELECT h.hostname AS host, b.job_name, b.started_at, b.status, b.error {base}
        ORDER BY b.started_at DESC LIMIT ?""", (*params, a.limit + 1))
    total = con.execute(f"SELECT COUNT(*) {base}", params).fetchone()[0]
    hosts = con.execute(f"SELECT COUNT(DISTINCT b.host_id) {base}", params).fetchone()[0]
    runs = con.execute("SELECT COUNT(*) FROM backup_jobs WHERE started_at >= ?", (since,)).fetchone()[0]
    return rows_result(rows, a.limit, since=since, total_failed=total, hosts_affected=hosts, total_runs=runs)


class LogArgs(Args):
    query: str = Field(..., min_length=2, max_length=100, description="Text to find in log messages, e.g. timeout")
    host: str | None = Field(None, max_length=80)
    level: str | None = Field(None, pattern="^(DEBUG|INFO|WARN|ERROR)$", description="DEBUG, INFO, WARN or ERROR")
    hours: int = Field(24, ge=1, le=24 * 7, description="Look back this many hours (max 168)")
    limit: int = Field(20, ge=1, le=MAX_ROWS)


def search_logs(con, a: LogArgs) -> dict:
    since = (_now() - timedelta(hours=a.hours)).strftime("%Y-%m-%d %H:%M:%S")
    where, params = ["l.ts >= ?", "l.message LIKE ? ESCAPE '\\'"], [since, like(a.query)]
    if a.host:
        where.append("h.hostname LIKE ? ESCAPE '\\'")
        params.append(like(a.host))
    if a.level:
        where.append("l.level = ?")
        params.append(a.level)
    base = f"FROM logs l JOIN hosts h ON h.id = l.host_id WHERE {' AND '.join(where)}"
    rows = fetch(con, f"SELECT l.ts, h.hostname AS host, l.service, l.level, l.message {base} "
                      f"ORDER BY l.ts DESC LIMIT ?", (*params, a.limit + 1))
    total = con.execute(f"SELECT COUNT(*) {base}", params).fetchone()[0]
    return rows_result(rows, a.limit, since=since, total_matches=total)


class TicketArgs(Args):
    title: str = Field(..., min_length=3, max_length=120)
    description: str = Field("", max_length=1000)
    priority: str = Field("P3", pattern="^P[1-4]$", description="P1 (critical) .. P4 (low)")
    team: str = Field("Service Desk", description="One of: " + ", ".join(TEAMS))
    host: str | None = Field(None, max_length=80, description="Affected host, if any")


def _ticket_plan(con, a: TicketArgs) -> dict:
    team = next((t for t in TEAMS if t.lower() == a.team.lower()), None)
    if team is None:
        return error("open_ticket", f"unknown team '{a.team}'", teams=list(TEAMS))
    host = None
    if a.host:
        host = resolve_one(con, "open_ticket", "host", "SELECT id, hostname FROM hosts WHERE lower(hostname)=lower(?1)",
                           "SELECT id, hostname FROM hosts WHERE hostname LIKE ?1 ESCAPE '\\'", a.host,
                           lambda r: r["hostname"])
        if "error" in host:
            return host
    return {"team": team, "host": host}


def open_ticket_preview(con, a: TicketArgs) -> str | dict:
    plan = _ticket_plan(con, a)
    if "error" in plan:
        return plan
    on = f" for host {plan['host']['hostname']}" if plan["host"] else ""
    return f"Open a {a.priority} ticket for the {plan['team']} team{on}: \"{a.title}\"."


def open_ticket(con, a: TicketArgs) -> dict:
    plan = _ticket_plan(con, a)
    if "error" in plan:
        return plan
    n = con.execute("SELECT COALESCE(MAX(id),0)+1 FROM tickets").fetchone()[0]
    ref, now = f"TCK-{n:05d}", datetime.now().strftime("%Y-%m-%d %H:%M")
    con.execute("INSERT INTO tickets VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                (n, ref, a.title, a.description or a.title, a.priority, plan["team"], "new", "BestBox assistant",
                 plan["host"]["id"] if plan["host"] else None, now, now))
    return {"created": True, "ref": ref, "priority": a.priority, "team": plan["team"], "status": "new", "row_count": 1}


TOOLS = [
    Tool("host_status", "it_ops", "Latest CPU/memory/disk and status per host, with services not running; "
         "problems first.", HostArgs, host_status),
    Tool("open_incidents", "it_ops", "Open incidents (not resolved), worst severity first, plus open ticket counts.",
         IncidentArgs, open_incidents),
    Tool("failed_backups", "it_ops", "Backup jobs that failed in the last N days.", BackupArgs, failed_backups),
    Tool("search_logs", "it_ops", "Search recent log lines for a text, optionally by host and level.", LogArgs, search_logs),
    Tool("open_ticket", "it_ops", "Open an IT ticket (changes data; the user confirms first).", TicketArgs,
         open_ticket, mutating=True, preview_fn=open_ticket_preview),
]
