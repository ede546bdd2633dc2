"""Snapshot vs live on a mid-sized Odoo-shaped PostgreSQL (odoo_scale.sql): prints `measure`'s JSON.
Not a test (tests never assert timings). Run: PYTHONPATH=app:. python -m tests.records.measure_scale [--small]"""
from __future__ import annotations

import json
import os
import tempfile

from bestbox.config import Config
from bestbox.data.records.measure import measure

from .conftest import HERE, ODOO_MAPPING, READER_PW, running_postgres


def main() -> None:
    import sys

    extra = [] if "--small" in sys.argv else [HERE / "odoo_scale.sql"]
    with running_postgres(*extra) as pg, tempfile.TemporaryDirectory() as d:
        os.environ["BESTBOX_DATA_DIR"] = d
        os.environ["BESTBOX_DB_PASSWORD"] = READER_PW
        cfg = Config()
        cfg.data.source, cfg.data.mapping = pg.url(), str(ODOO_MAPPING)
        print(json.dumps(measure(cfg), indent=1))


if __name__ == "__main__":
    main()
