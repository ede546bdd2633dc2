"""The `family` fixture: one llama-server per model family (family_servers.py), module-scoped."""
from __future__ import annotations

import pytest

from bestbox.servers.procs import stop_child
from family_servers import FAMILIES, TEMPLATES, Family, start_server


@pytest.fixture(scope="module", params=FAMILIES, ids=lambda f: f.key)
def family(request, tmp_path_factory, llama_server_bin, demo_model):
    """(Family, base URL) of a server with that family's template; module-scoped per family."""
    fam: Family = request.param
    tpl = TEMPLATES / fam.template
    assert tpl.is_file(), tpl
    log = tmp_path_factory.mktemp(f"family-{fam.key}") / "server.log"
    proc, url = start_server(llama_server_bin, demo_model, log, "--jinja", "--chat-template-file", str(tpl))
    yield fam, url
    stop_child(proc)


@pytest.fixture(scope="session")
def shared_db(tmp_path_factory):
    """One generated demo database for the agents' tools (read-only here)."""
    from datetime import date

    from bestbox.agents.data import generate

    p = tmp_path_factory.mktemp("db") / "demo.sqlite"
    generate(p, seed=7, today=date.today())
    return p
