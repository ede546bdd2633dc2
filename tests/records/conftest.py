"""A real PostgreSQL (Debian's package) started for this test session in a temp dir on a free port,
holding an Odoo-shaped database (odoo_shaped.sql). PostgreSQL refuses to run as root (CI runs as
root), so as root the server runs as the `postgres` system user (or `nobody`) via runuser."""
from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest


HERE = Path(__file__).parent
ADMIN_PW = "admin-pw-9f3c"
READER_PW = "reader-Secr3t-7d1a"


def _pg_bin(name: str) -> str | None:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    return found[-1] if found else shutil.which(name)


def _as_user() -> tuple[list[str], int | None, int | None]:
    """(command prefix, uid, gid) to run the server as a non-root user when we are root."""
    if os.geteuid() != 0:
        return [], None, None
    for name in ("postgres", "nobody"):
        try:
            pw = pwd.getpwnam(name)
        except KeyError:
            continue
        return ["runuser", "-u", name, "--"], pw.pw_uid, pw.pw_gid
    pytest.fail("running as root and no 'postgres' or 'nobody' user to run PostgreSQL as")


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Postgres:
    port: int
    base: Path

    def url(self, user="reader", db="odoo", port=None) -> str:
        return f"postgresql://{user}@127.0.0.1:{port or self.port}/{db}"

    def admin(self):
        import psycopg

        return psycopg.connect(host="127.0.0.1", port=self.port, user="odoo_admin", password=ADMIN_PW,
                               dbname="odoo", autocommit=True)


@contextmanager
def running_postgres(*extra_sql: Path):
    """Start PostgreSQL in a temp dir on a free port with the Odoo-shaped database (plus `extra_sql`
    files); stop and remove it on exit."""
    initdb, pg_ctl = _pg_bin("initdb"), _pg_bin("pg_ctl")
    if not initdb or not pg_ctl:
        pytest.fail("PostgreSQL is needed for these tests: apt-get install -y postgresql")
    prefix, uid, gid = _as_user()
    base = Path(tempfile.mkdtemp(prefix="bestbox-pg-"))
    pwfile = base / "pw"
    pwfile.write_text(ADMIN_PW)
    if uid is not None:
        for p in (base, pwfile):
            os.chown(p, uid, gid)
    data, port = base / "data", free_port()
    subprocess.run([*prefix, initdb, "-D", str(data), "-U", "odoo_admin", f"--pwfile={pwfile}",
                    "--auth-host=scram-sha-256", "--auth-local=trust", "-E", "UTF8", "--no-sync"],
                   check=True, capture_output=True)
    opts = f"-p {port} -k {base} -c listen_addresses=127.0.0.1 -c fsync=off"
    subprocess.run([*prefix, pg_ctl, "-D", str(data), "-o", opts, "-l", str(base / "log"), "-w", "start"],
                   check=True, capture_output=True)
    pg = Postgres(port, base)
    try:
        import psycopg

        for _ in range(50):
            try:
                con = psycopg.connect(host="127.0.0.1", port=port, user="odoo_admin", password=ADMIN_PW,
                                      dbname="postgres", autocommit=True)
                break
            except psycopg.OperationalError:
                time.sleep(0.1)
        con.execute("CREATE DATABASE odoo")
        con.execute(f"CREATE ROLE reader LOGIN PASSWORD '{READER_PW}'")
        con.close()
        with pg.admin() as a:
            for f in (HERE / "odoo_shaped.sql", *extra_sql):
                a.execute(f.read_text())
            # Deliberately more than SELECT: the read-only transaction, not the grants, must stop writes.
            a.execute("GRANT ALL ON ALL TABLES IN SCHEMA public TO reader")
            a.execute("GRANT ALL ON ALL SEQUENCES IN SCHEMA public TO reader")
        yield pg
    finally:
        subprocess.run([*prefix, pg_ctl, "-D", str(data), "-m", "immediate", "stop"], capture_output=True)
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres():
    with running_postgres() as pg:
        yield pg


ODOO_MAPPING = Path(__file__).parents[2] / "docs" / "data-mappings" / "odoo.toml"


@pytest.fixture
def records_config(postgres, tmp_path, monkeypatch):
    """A Config whose [data] source is the Odoo-shaped PostgreSQL, with the password in the env."""
    from bestbox.config import Config

    monkeypatch.setenv("BESTBOX_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("BESTBOX_DB_PASSWORD", READER_PW)
    cfg = Config()
    cfg.data.source = postgres.url()
    cfg.data.mapping = str(ODOO_MAPPING)
    cfg.data.statement_timeout_s = 10
    return cfg
