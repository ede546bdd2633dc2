"""The user's database, opened by URL, only ever read.

SQLAlchemy Core takes the URL (postgresql://, mysql://, sqlite:///) and its dialects; files exported
from an ERP (csv:///folder, one table per file; xlsx:///file, one table per sheet) are loaded into a
private in-memory SQLite so the same SELECTs work on them. Every read runs in a read-only transaction
with a statement timeout, and streams rows so a row limit can stop it early.

The password never travels in the URL we show or log: it comes from an environment variable or the
OS keyring, and every message that leaves this module has it scrubbed.
"""
from __future__ import annotations

import os
import re
import sqlite3
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

KEYRING_SERVICE = "bestbox"


class SourceError(Exception):
    """A problem reading the source. `kind`: config, auth, unreachable, schema, timeout, limit,
    types, mapping. The message is safe to show and log (no password)."""

    def __init__(self, kind: str, message: str, entity: str | None = None):
        super().__init__(message)
        self.kind, self.message, self.entity = kind, message, entity

    def as_dict(self) -> dict:
        return {"kind": self.kind, "message": self.message, "entity": self.entity}


def _require_sqlalchemy():
    try:
        import sqlalchemy  # noqa: F401
    except ImportError:
        raise SourceError("config", "reading your own database needs the 'records' extra: "
                                    "pip install 'bestbox[records]'") from None


def safe_url(text: str) -> str:
    """A URL as typed in the config, with any password in it removed (for messages before parsing)."""
    return re.sub(r"(://[^/@:]*):[^/@]*@", r"\1@", text)


def keyring_user(url) -> str:
    return f"{url.username or ''}@{url.host or ''}/{url.database or ''}"


def find_password(url, password_env: str) -> tuple[str | None, str]:
    """(password or None, where it came from or why there is none)."""
    if url.password:
        return str(url.password), "the URL (better: move it to $" + password_env + ")"
    if password_env and os.environ.get(password_env):
        return os.environ[password_env], f"${password_env}"
    try:
        import keyring
        from keyring.errors import KeyringError, NoKeyringError
    except ImportError:
        return None, f"no ${password_env} and no keyring module"
    try:
        pw = keyring.get_password(KEYRING_SERVICE, keyring_user(url))
    except NoKeyringError:
        return None, (f"no ${password_env}, and this machine has no OS keyring (headless?): "
                      f"set ${password_env} instead")
    except KeyringError as e:
        return None, f"no ${password_env}; the OS keyring failed: {type(e).__name__}"
    if pw:
        return pw, f"the OS keyring ({KEYRING_SERVICE} / {keyring_user(url)})"
    return None, (f"no ${password_env} and nothing in the OS keyring under "
                  f"{KEYRING_SERVICE} / {keyring_user(url)}")


@dataclass
class Source:
    url: object                 # sqlalchemy.engine.URL, with the password filled in
    display: str                # the URL without the password
    password_from: str
    timeout_s: float
    _engine: object = None
    _files: Path | None = None  # csv/xlsx source: the folder or file

    @classmethod
    def open(cls, url_text: str, *, password_env: str = "BESTBOX_DB_PASSWORD", timeout_s: float = 60.0) -> "Source":
        if not url_text:
            raise SourceError("config", "no [data] source configured")
        scheme = url_text.split(":", 1)[0].lower()
        if scheme in ("csv", "xlsx"):
            path = Path(re.sub(r"^\w+:/*", "/", url_text) if url_text.startswith(f"{scheme}:///")
                        else url_text.split("://", 1)[-1]).expanduser()
            if not path.exists():
                raise SourceError("unreachable", f"{scheme} source {path} does not exist")
            return cls(None, f"{scheme}://{path}", "not needed", timeout_s, _files=path)
        _require_sqlalchemy()
        from sqlalchemy.engine import URL, make_url
        from sqlalchemy.exc import ArgumentError

        try:
            url = make_url(url_text)
        except ArgumentError:
            raise SourceError("config", "[data] source is not a database URL; e.g. postgresql://user@host:5432/db, "
                                        "mysql://user@host/db, sqlite:///path/file.db, csv:///folder") from None
        backend = url.get_backend_name()
        if backend == "postgresql" or backend == "postgres":
            url = url.set(drivername="postgresql+psycopg")
        elif backend in ("mysql", "mariadb"):
            url = url.set(drivername="mysql+pymysql")
        elif backend != "sqlite":
            raise SourceError("config", f"unsupported database '{backend}'; use postgresql, mysql, sqlite, csv or xlsx")
        pw, where = (None, "not needed") if backend == "sqlite" else find_password(url, password_env)
        if pw is not None:
            url = url.set(password=pw)
        # Shown and logged: no password at all (not even "***"), no driver suffix.
        # (url.set(password=None) keeps the password: None there means "unchanged".)
        display = URL.create(url.get_backend_name(), username=url.username, host=url.host, port=url.port,
                             database=url.database).render_as_string(hide_password=False)
        return cls(url, display, where, timeout_s)

    # -- safety ------------------------------------------------------------------------------------
    def scrub(self, text: str) -> str:
        pw = getattr(self.url, "password", None) if self.url is not None else None
        return text.replace(str(pw), "***") if pw else text

    def _engine_for(self):
        if self._engine is not None:
            return self._engine
        from sqlalchemy import create_engine
        from sqlalchemy.pool import NullPool, StaticPool

        if self._files is not None:
            con = load_files(self._files)
            self._engine = create_engine("sqlite://", creator=lambda: con, poolclass=StaticPool)
            return self._engine
        backend = self.url.get_backend_name()
        ms = int(self.timeout_s * 1000)
        if backend == "postgresql":
            args = {"connect_timeout": 5, "application_name": "bestbox (read-only)",
                    "options": f"-c default_transaction_read_only=on -c statement_timeout={ms}"}
        elif backend == "mysql":
            args = {"connect_timeout": 5, "read_timeout": int(self.timeout_s) + 5}
        else:
            path = self.url.database or ""
            if not path or not Path(path).expanduser().is_file():
                raise SourceError("unreachable", f"SQLite file {path or '(none)'} does not exist")
            p = Path(path).expanduser().resolve()
            self._engine = create_engine("sqlite://", poolclass=NullPool,
                                         creator=lambda: sqlite3.connect(f"file:{p}?mode=ro", uri=True))
            return self._engine
        self._engine = create_engine(self.url, connect_args=args, poolclass=NullPool)
        return self._engine

    @contextmanager
    def connection(self):
        """A connection inside a read-only transaction with the statement timeout set."""
        from sqlalchemy.exc import SQLAlchemyError

        try:
            engine = self._engine_for()
            with engine.connect() as conn:
                backend = engine.dialect.name
                if backend == "postgresql":
                    conn.exec_driver_sql("SET TRANSACTION READ ONLY")
                elif backend == "mysql":  # MariaDB tested (tests/records/test_mariadb.py); MySQL not
                    conn.exec_driver_sql("SET SESSION TRANSACTION READ ONLY")
                    try:  # MySQL names the limit in ms; MariaDB (ERPNext's) in seconds, under another name
                        conn.exec_driver_sql(f"SET SESSION max_execution_time = {int(self.timeout_s * 1000)}")
                    except SQLAlchemyError:
                        conn.exec_driver_sql(f"SET SESSION max_statement_time = {self.timeout_s:g}")
                    conn.commit()  # the session settings above apply from the next transaction: this one
                elif backend == "sqlite":
                    deadline = time.monotonic() + self.timeout_s
                    raw = conn.connection.driver_connection
                    raw.set_progress_handler(lambda: 1 if time.monotonic() > deadline else 0, 20000)
                try:
                    yield conn
                finally:
                    conn.rollback()  # nothing to keep: this transaction only read
        except SQLAlchemyError as e:
            raise self.classify(e) from None

    def classify(self, e: Exception, entity: str | None = None) -> SourceError:
        """A driver error → SourceError with a message a person can act on (password scrubbed)."""
        if isinstance(e, SourceError):
            return e
        orig = getattr(e, "orig", None) or e
        code = getattr(orig, "sqlstate", None) or (orig.args[0] if getattr(orig, "args", None)
                                                    and isinstance(orig.args[0], int) else None)
        text = self.scrub(" ".join(str(orig).split()))[:400]
        low = text.lower()
        who = f"{entity}: " if entity else ""
        if code in ("28P01", "28000", 1045) or "password authentication failed" in low or "access denied" in low:
            short = text.rsplit("FATAL:", 1)[-1].strip()
            return SourceError("auth", f"{self.display}: the database refused the login ({short}); password from "
                                       f"{self.password_from}", entity)
        if code in ("57014", 3024, 1969) or any(w in low for w in (
                "statement timeout", "max_statement_time", "max_execution_time", "interrupted")):
            return SourceError("timeout", f"{who}the query ran longer than {self.timeout_s:g} s and was stopped "
                                          "([data] statement_timeout_s); add a WHERE or an index", entity)
        if code in ("42P01", "42703", "42883", 1146, 1054) or "no such table" in low or "no such column" in low \
                or "does not exist" in low and ("relation" in low or "column" in low):
            return SourceError("schema", f"{who}the source's tables changed or the mapping is wrong: {text}", entity)
        if code == "25006" or "read-only" in low or "readonly" in low or "data-modifying" in low:
            return SourceError("mapping", f"{who}the SELECT tried to write; BestBox only reads: {text}", entity)
        if code == "42501" or "permission denied" in low or code == 1142:
            return SourceError("auth", f"{who}the database user may not read this ({text}); "
                                       "GRANT SELECT on it to the user in [data] source", entity)
        if code in ("3D000", 1049, 2003, 2005) or "connection refused" in low or "could not connect" in low \
                or "connection failed" in low or "timeout expired" in low or "name or service not known" in low:
            return SourceError("unreachable", f"cannot reach {self.display}: {text}", entity)
        if code and str(code).startswith("42") or "syntax error" in low:
            return SourceError("mapping", f"{who}the SELECT is not valid here: {text}", entity)
        return SourceError("unreachable" if entity is None else "mapping", f"{who}{text}", entity)

    def rows(self, conn, sql: str, entity: str, *, limit: int, batch: int = 2000):
        """(columns, generator of row batches). More than `limit` rows raises a 'limit' error."""
        from sqlalchemy.exc import SQLAlchemyError

        try:
            result = conn.execution_options(stream_results=True, max_row_buffer=batch).exec_driver_sql(sql)
            cols = [c.lower() for c in result.keys()]
        except SQLAlchemyError as e:
            raise self.classify(e, entity) from None

        def gen():
            n = 0
            try:
                while True:
                    chunk = result.fetchmany(batch)
                    if not chunk:
                        return
                    n += len(chunk)
                    if n > limit:
                        raise SourceError("limit", f"{entity}: more than {limit} rows ([data] max_rows); "
                                                   "filter in the SELECT or raise the limit", entity)
                    yield chunk
            except SQLAlchemyError as e:
                raise self.classify(e, entity) from None
        return cols, gen()

    def close(self) -> None:
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None


def _table_name(stem: str) -> str:
    return re.sub(r"[^a-z0-9_]+", "_", stem.lower()).strip("_") or "t"


def load_files(path: Path) -> sqlite3.Connection:
    """CSV/XLSX exports → an in-memory SQLite: a folder's x.csv is table x, an .xlsx's sheets are
    tables (named after the sheet; file_sheet when a folder holds several workbooks). Empty cells
    are NULL; values stay text and are converted by the mapping's column types."""
    import csv

    con = sqlite3.connect(":memory:", check_same_thread=False)
    files = sorted(path.iterdir()) if path.is_dir() else [path]
    books = [f for f in files if f.suffix.lower() == ".xlsx"]
    for f in files:
        if f.suffix.lower() == ".csv":
            with f.open(newline="", encoding="utf-8-sig") as fh:
                reader = csv.reader(fh)
                _load_table(con, _table_name(f.stem), next(reader, []), reader, f)
        elif f.suffix.lower() == ".xlsx":
            try:
                import openpyxl
            except ImportError:
                raise SourceError("config", "reading .xlsx needs openpyxl: pip install 'bestbox[records]'") from None
            wb = openpyxl.load_workbook(f, read_only=True, data_only=True)
            for ws in wb.worksheets:
                it = ws.iter_rows(values_only=True)
                name = ws.title if len(books) == 1 else f"{f.stem}_{ws.title}"
                _load_table(con, _table_name(name), list(next(it, []) or []), it, f)
            wb.close()
    con.commit()  # the reader's rollback must not take the loaded rows with it
    return con


def _load_table(con, table: str, header: list, rows, source: Path) -> None:
    cols = [_table_name(str(h)) if h is not None else f"col{i + 1}" for i, h in enumerate(header)]
    if not cols:
        return
    if len(set(cols)) != len(cols):
        raise SourceError("types", f"{source.name}: repeated column names in the header row")
    qcols = ", ".join(f'"{c}"' for c in cols)
    con.execute(f'CREATE TABLE "{table}" ({qcols})')
    marks = ", ".join("?" * len(cols))
    width = len(cols)

    def norm(r):
        r = [None if (v is None or (isinstance(v, str) and v == "")) else v for v in list(r)[:width]]
        return r + [None] * (width - len(r))

    con.executemany(f'INSERT INTO "{table}" ({qcols}) VALUES ({marks})', (norm(r) for r in rows if r))
