"""A real PostgreSQL (Debian's package) started for this test session in a temp dir on a free port,
holding an Odoo-shaped database (odoo_shaped.sql). PostgreSQL refuses to run as root (CI runs as
root), so as root the server runs as the `postgres` system user (or `nobody`) via runuser."""
from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path

import pytest

from bestbox.bench import db_servers
from bestbox.bench.db_servers import READER_PW, free_port

__all__ = ["HERE", "ODOO_MAPPING", "READER_PW", "free_port", "running_postgres"]   # what the tests import

HERE = Path(__file__).parent


@contextmanager
def running_postgres(*extra_sql: Path):
    """Start PostgreSQL in a temp dir on a free port with the Odoo-shaped database (plus `extra_sql`
    files); stop and remove it on exit."""
    try:
        with db_servers.running_postgres(HERE / "odoo_shaped.sql", *extra_sql) as pg:
            yield pg
    except db_servers.DatabaseUnavailable as e:
        pytest.fail(str(e))


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
