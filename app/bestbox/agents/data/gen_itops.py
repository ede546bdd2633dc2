"""IT Ops: hosts, services, a week of hourly metrics, incidents, tickets, backups, log lines."""
from __future__ import annotations

import math
import random
import sqlite3
from datetime import date, datetime, timedelta

from .common import dt, person

ROLES = {"web": ["nginx", "frontend"], "app": ["erp-api", "crm-api", "worker"], "db": ["postgres", "redis"],
         "file": ["smb", "nfs"], "mail": ["postfix", "dovecot"], "backup": ["veeam-proxy"],
         "monitor": ["prometheus", "grafana"], "ad": ["ldap", "dns"]}
PORTS = {"nginx": 443, "frontend": 3000, "erp-api": 8443, "crm-api": 8444, "worker": None, "postgres": 5432,
         "redis": 6379, "smb": 445, "nfs": 2049, "postfix": 25, "dovecot": 993, "veeam-proxy": 9392,
         "prometheus": 9090, "grafana": 3001, "ldap": 389, "dns": 53}
TEAMS = ["Infrastructure", "Service Desk", "Database", "Network", "Security", "Applications"]
LOCS = ["Berlin DC1", "Berlin DC2", "Frankfurt Cloud", "Chicago Office"]
INCIDENTS = ["{svc} latency above SLO on {h}", "{svc} down on {h}", "Disk almost full on {h}",
             "High memory usage on {h}", "Certificate expiring for {svc}", "Replication lag on {h}",
             "Packet loss between {h} and core switch", "Failed login spike on {h}"]
TICKETS = ["VPN does not connect", "New laptop for onboarding", "Password reset", "Printer on floor {n} offline",
           "Access to shared drive", "Outlook keeps crashing", "Request software licence", "Slow ERP screens",
           "Teams audio issues", "Replace broken monitor", "Create mailbox for new hire", "Wi-Fi drops in room {n}"]
LOG_MSG = {"ERROR": ["connection refused to {peer}:5432", "timeout after 30000 ms calling /api/orders",
                     "disk quota exceeded on /var/lib/{svc}", "OutOfMemoryError in worker pool",
                     "TLS handshake failed: certificate expired", "backup target unreachable: {peer}"],
           "WARN": ["slow query took {n} ms", "retrying request to {peer} (attempt {k})",
                    "memory usage at {n}%", "deprecated config key 'pool_size'"],
           "INFO": ["request completed in {n} ms", "user login ok", "scheduled job finished",
                    "config reloaded", "health check ok"],
           "DEBUG": ["cache hit ratio {n}%", "gc pause {k} ms"]}


def generate(con: sqlite3.Connection, rng: random.Random, today: date, n_hosts=64) -> None:
    now = datetime.combine(today, datetime.min.time()).replace(hour=9)
    hosts, services = [], []
    roles = list(ROLES)
    for hid in range(1, n_hosts + 1):
        role = roles[hid % len(roles)]
        env = rng.choices(["prod", "staging", "dev"], [6, 2, 2])[0]
        status = rng.choices(["up", "degraded", "down", "maintenance"], [88, 7, 2, 3])[0]
        hosts.append((hid, f"{env[:4]}-{role}-{hid:02d}", role, env,
                      rng.choice(["Ubuntu 22.04", "Ubuntu 24.04", "RHEL 9", "Windows Server 2022"]),
                      f"10.{['prod', 'staging', 'dev'].index(env)}.{hid // 250}.{hid % 250 + 2}", rng.choice(LOCS), status))
        for svc in ROLES[role]:
            st = "running" if status in ("up", "maintenance") else rng.choice(["running", "failing", "stopped"])
            services.append((len(services) + 1, hid, svc, PORTS[svc], st))
    con.executemany("INSERT INTO hosts VALUES (?,?,?,?,?,?,?,?)", hosts)
    con.executemany("INSERT INTO services VALUES (?,?,?,?,?)", services)

    metrics = []
    for h in hosts:
        base_cpu, base_mem, disk = rng.uniform(8, 55), rng.uniform(30, 70), rng.uniform(25, 80)
        hot = h[7] in ("degraded", "down") or rng.random() < 0.08
        for k in range(7 * 24, 0, -1):
            ts = now - timedelta(hours=k)
            daily = 18 * max(0.0, math.sin((ts.hour - 7) / 12 * math.pi))
            cpu = min(100.0, base_cpu + daily + rng.uniform(-5, 5) + (35 if hot and k < 12 else 0))
            mem = min(100.0, base_mem + rng.uniform(-4, 4) + (25 if hot and k < 12 else 0))
            disk = min(99.5, disk + rng.uniform(0, 0.08) + (0.12 if hot else 0))
            metrics.append((h[0], dt(ts), round(max(cpu, 0.5), 1), round(mem, 1), round(disk, 1)))
    con.executemany("INSERT INTO host_metrics VALUES (?,?,?,?,?)", metrics)

    svc_of = {}
    for s in services:
        svc_of.setdefault(s[1], []).append(s[2])
    incidents = []
    for i in range(1, 221):
        h = rng.choice(hosts)
        opened = now - timedelta(hours=rng.randint(1, 24 * 180))
        age_h = (now - opened).total_seconds() / 3600
        status = rng.choice(["open", "investigating", "mitigated"]) if age_h < 72 and rng.random() < 0.7 else \
            rng.choices(["open", "investigating", "resolved"], [1, 1, 18])[0]
        svc = rng.choice(svc_of[h[0]])
        incidents.append((i, f"INC-{i:05d}", rng.choice(INCIDENTS).format(svc=svc, h=h[1]),
                          rng.choices(["sev1", "sev2", "sev3", "sev4"], [1, 3, 6, 5])[0], status, h[0], svc,
                          rng.choice(TEAMS), dt(opened),
                          dt(opened + timedelta(minutes=rng.randint(20, 2000))) if status == "resolved" else None))
    con.executemany("INSERT INTO incidents VALUES (?,?,?,?,?,?,?,?,?,?)", incidents)

    tickets = []
    for i in range(1, 701):
        created = now - timedelta(minutes=rng.randint(10, 60 * 24 * 200))
        age_d = (now - created).days
        status = rng.choice(["new", "open", "pending"]) if age_d < 10 and rng.random() < 0.75 else \
            rng.choices(["open", "pending", "resolved", "closed"], [1, 1, 6, 8])[0]
        title = rng.choice(TICKETS).format(n=rng.randint(1, 6))
        tickets.append((i, f"TCK-{i:05d}", title, f"{title}. Reported via portal.",
                        rng.choices(["P1", "P2", "P3", "P4"], [1, 3, 8, 6])[0], rng.choice(TEAMS), status, person(rng),
                        rng.choice(hosts)[0] if rng.random() < 0.3 else None, dt(created),
                        dt(created + timedelta(hours=rng.randint(0, 72)))))
    con.executemany("INSERT INTO tickets VALUES (?,?,?,?,?,?,?,?,?,?,?)", tickets)

    backups = []
    for h in hosts:
        if h[2] not in ("db", "file", "mail", "app", "ad"):
            continue
        flaky = rng.random() < 0.2
        for day in range(30, 0, -1):
            st_at = now.replace(hour=1, minute=rng.randint(0, 59)) - timedelta(days=day - 1)
            status = rng.choices(["success", "failed", "warning"], [70, 20, 10] if flaky else [96, 2, 2])[0]
            err = rng.choice(["target unreachable", "snapshot timeout", "insufficient space on repository",
                              "VSS writer failed"]) if status != "success" else None
            backups.append((len(backups) + 1, h[0], f"nightly-{h[1]}", dt(st_at),
                            dt(st_at + timedelta(minutes=rng.randint(5, 180))), status,
                            round(rng.uniform(2, 800), 1) if status != "failed" else None, err))
    con.executemany("INSERT INTO backup_jobs VALUES (?,?,?,?,?,?,?,?)", backups)

    logs = []
    for _ in range(6000):
        h = rng.choice(hosts)
        lvl = rng.choices(["DEBUG", "INFO", "WARN", "ERROR"], [1, 10, 3, 1.3 if h[7] == "up" else 6])[0]
        ts = now - timedelta(seconds=rng.randint(0, 7 * 86400))
        msg = rng.choice(LOG_MSG[lvl]).format(peer=rng.choice(hosts)[1], svc=rng.choice(svc_of[h[0]]),
                                              n=rng.randint(50, 9500), k=rng.randint(1, 5))
        logs.append((len(logs) + 1, h[0], rng.choice(svc_of[h[0]]), ts.strftime("%Y-%m-%d %H:%M:%S"), lvl, msg))
    logs.sort(key=lambda r: r[3])
    con.executemany("INSERT INTO logs VALUES (?,?,?,?,?,?)", [(i + 1, *r[1:]) for i, r in enumerate(logs)])
