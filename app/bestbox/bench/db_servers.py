"""Real database servers started in a temp dir on a free loopback port, for the records tests and
`bestbox bench --only records`: PostgreSQL (Debian's `postgresql`: initdb + pg_ctl) and MariaDB
(Debian's `mariadb-server`: mariadb-install-db + mariadbd). Neither server runs as root, so as
root they run as their system user (`postgres`, `mysql`) or `nobody` via runuser. A missing
server program raises `DatabaseUnavailable` with the apt package to install.
"""
from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from ..servers.procs import stop_child

ADMIN_PW = "admin-pw-9f3c"
READER_PW = "reader-Secr3t-7d1a"


class DatabaseUnavailable(RuntimeError):
    pass


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _as_user(*names: str) -> tuple[list[str], int | None, int | None]:
    """(command prefix, uid, gid) to run a server as a non-root user when we are root."""
    if os.geteuid() != 0:
        return [], None, None
    for name in (*names, "nobody"):
        try:
            pw = pwd.getpwnam(name)
        except KeyError:
            continue
        return ["runuser", "-u", name, "--"], pw.pw_uid, pw.pw_gid
    raise DatabaseUnavailable(f"running as root and no {' or '.join(names)} or 'nobody' user to run the server as")


def _own(uid, gid, *paths: Path) -> None:
    if uid is not None:
        for p in paths:
            os.chown(p, uid, gid)


# PostgreSQL ---------------------------------------------------------------------------------------------

def _pg_bin(name: str) -> str | None:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    return found[-1] if found else shutil.which(name)


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
def running_postgres(*sql_files: Path):
    """PostgreSQL with database `odoo` (the `sql_files` run in it, as admin) and a login role `reader`
    granted everything on its tables; stopped and removed on exit."""
    initdb, pg_ctl = _pg_bin("initdb"), _pg_bin("pg_ctl")
    if not initdb or not pg_ctl:
        raise DatabaseUnavailable("PostgreSQL is not installed: apt-get install -y postgresql")
    prefix, uid, gid = _as_user("postgres")
    base = Path(tempfile.mkdtemp(prefix="bestbox-pg-"))
    pwfile = base / "pw"
    pwfile.write_text(ADMIN_PW)
    _own(uid, gid, base, pwfile)
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
            for f in sql_files:
                a.execute(Path(f).read_text())
            # Deliberately more than SELECT: the read-only transaction, not the grants, must stop writes.
            a.execute("GRANT ALL ON ALL TABLES IN SCHEMA public TO reader")
            a.execute("GRANT ALL ON ALL SEQUENCES IN SCHEMA public TO reader")
        yield pg
    finally:
        subprocess.run([*prefix, pg_ctl, "-D", str(data), "-m", "immediate", "stop"], capture_output=True)
        shutil.rmtree(base, ignore_errors=True)


# MariaDB ------------------------------------------------------------------------------------------------

@dataclass
class MariaDB:
    port: int
    base: Path
    socket: Path

    def url(self, user="reader", db="erp", port=None) -> str:
        return f"mysql+pymysql://{user}@127.0.0.1:{port or self.port}/{db}"

    def admin(self, db: str | None = "erp"):
        import pymysql

        return pymysql.connect(unix_socket=str(self.socket), user="root", password="", database=db,
                               autocommit=True, client_flag=pymysql.constants.CLIENT.MULTI_STATEMENTS)


def _maria_bin(*names: str) -> str | None:
    for n in names:
        for d in ("/usr/sbin", "/usr/bin"):
            if Path(d, n).exists():
                return str(Path(d, n))
        if shutil.which(n):
            return shutil.which(n)
    return None


@contextmanager
def running_mariadb(*sql_files: Path, start_timeout_s: float = 20.0):
    """MariaDB with database `erp` (the `sql_files` run in it, as root over the socket) and a user
    `reader`@127.0.0.1 granted everything on it; stopped and removed on exit. A server that does not
    answer within start_timeout_s raises DatabaseUnavailable with the end of its log."""
    install = _maria_bin("mariadb-install-db", "mysql_install_db")
    server = _maria_bin("mariadbd", "mysqld")
    if not install or not server:
        raise DatabaseUnavailable("MariaDB is not installed: apt-get install -y mariadb-server")
    prefix, uid, gid = _as_user("mysql")
    base = Path(tempfile.mkdtemp(prefix="bestbox-maria-"))
    data, sock, port, log = base / "data", base / "sock", free_port(), base / "log"
    data.mkdir()
    _own(uid, gid, base, data)
    user = [f"--user={pwd.getpwuid(uid).pw_name}"] if uid is not None else []
    subprocess.run([*prefix, install, "--no-defaults", f"--datadir={data}", "--auth-root-authentication-method=normal",
                    "--skip-test-db", *user], check=True, capture_output=True, timeout=120)
    proc = subprocess.Popen([*prefix, server, "--no-defaults", f"--datadir={data}", f"--socket={sock}",
                             f"--port={port}", "--bind-address=127.0.0.1", f"--log-error={log}",
                             f"--pid-file={base / 'pid'}", "--skip-log-bin", "--innodb-flush-log-at-trx-commit=0",
                             "--innodb-buffer-pool-size=64M", "--skip-name-resolve", *user],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    db = MariaDB(port, base, sock)
    try:
        import pymysql

        deadline = time.monotonic() + start_timeout_s
        while True:
            try:
                con = db.admin(db=None)
                break
            except pymysql.err.OperationalError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    tail = log.read_text(errors="replace")[-800:] if log.exists() else ""
                    raise DatabaseUnavailable(f"MariaDB did not start within {start_timeout_s:g} s: {tail}") from None
                time.sleep(0.1)
        with con.cursor() as c:
            c.execute("CREATE DATABASE erp CHARACTER SET utf8mb4")
            c.execute(f"CREATE USER 'reader'@'127.0.0.1' IDENTIFIED BY '{READER_PW}'")
            # Deliberately more than SELECT: the read-only transaction, not the grants, must stop writes.
            c.execute("GRANT ALL ON erp.* TO 'reader'@'127.0.0.1'")
        con.close()
        with db.admin() as a, a.cursor() as c:
            for f in sql_files:
                c.execute(Path(f).read_text())
                while c.nextset():
                    pass
        yield db
    finally:
        stop_child(proc)
        shutil.rmtree(base, ignore_errors=True)
