"""The one table of server states: complete, transitions checked, and no other module keeps its own
set of state names."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

import bestbox
from bestbox.servers.state import SERVING, SETTLED, TABLE, ServerState, check_transition, info

S = ServerState
NAMES = {s.value for s in ServerState}


def test_every_state_has_one_row_with_what_the_panel_shows():
    assert set(TABLE) == set(ServerState)
    for state, row in TABLE.items():
        assert row.state is state and row.meaning and row.label and row.tooltip and row.colour.startswith("#")
        assert row.goes_to <= set(ServerState)
        assert row.severity in ("ok", "warning", "error")
    assert info("port_conflict").label == "Port conflict" and info(S.READY).serving
    assert info("no-such-state").label == ""  # unknown names never raise


def test_what_the_ui_and_cli_ask_of_a_state():
    assert SERVING == {S.READY, S.DEGRADED, S.EXTERNAL, S.REMOTE, S.BUSY, S.SLOW}
    assert SETTLED == {S.READY, S.DEGRADED, S.EXTERNAL, S.FAILED, S.PORT_CONFLICT, S.STOPPED, S.REMOTE, S.BUSY,
                       S.SLOW, S.UNREACHABLE, S.UNAUTHORIZED, S.MODEL_MISSING}
    assert {s for s, r in TABLE.items() if r.can_start} == {S.STOPPED, S.CRASHED, S.FAILED, S.PORT_CONFLICT}
    assert not info(S.EXTERNAL).can_stop and not info(S.EXTERNAL).can_restart  # never ours to stop
    assert info(S.READY).healthy and info(S.EXTERNAL).healthy and not info(S.DEGRADED).healthy
    # A remote server is never ours: no Start/Stop/Restart in any of its states; busy is not broken.
    remote = {s for s, r in TABLE.items() if r.remote}
    assert remote == {S.CONNECTING, S.REMOTE, S.BUSY, S.SLOW, S.UNREACHABLE, S.UNAUTHORIZED, S.MODEL_MISSING}
    assert not any(info(s).can_start or info(s).can_stop or info(s).can_restart or info(s).running for s in remote)
    assert info(S.BUSY).healthy and info(S.REMOTE).healthy and not info(S.SLOW).healthy
    assert all(info(s).label.startswith("Remote") for s in remote)


def test_transitions_are_checked():
    check_transition(S.STOPPED, S.STARTING)
    check_transition(S.READY, S.READY)  # staying is always allowed
    for old, new in ((S.STOPPED, S.READY), (S.STOPPING, S.READY), (S.EXTERNAL, S.CRASHED), (S.READY, S.LOADING)):
        with pytest.raises(ValueError, match=f"{old.value} -> {new.value}"):
            check_transition(old, new)
    for state, row in TABLE.items():  # every state can be left for stopped, one way or another
        assert S.STOPPED in row.goes_to or S.STOPPING in row.goes_to or state is S.STOPPED


def _state_sets(tree: ast.AST):
    """Set / tuple / list literals naming two or more server states."""
    for node in ast.walk(tree):
        if isinstance(node, (ast.Set, ast.Tuple, ast.List)):
            names = [e.value for e in node.elts if isinstance(e, ast.Constant) and e.value in NAMES]
            names += [e.attr.lower() for e in node.elts if isinstance(e, ast.Attribute) and e.attr.lower() in NAMES]
            if len(names) >= 2:
                yield node.lineno, names


def test_no_module_keeps_its_own_set_of_state_names():
    root = Path(bestbox.__file__).parent
    found = []
    for path in root.rglob("*.py"):
        if (path.name == "state.py" and path.parent.name == "servers") or path.name == "icons.py":
            continue  # icons.py names the tray's combined states (ready, partial, stopped, error)
        for line, names in _state_sets(ast.parse(path.read_text(encoding="utf-8"))):
            found.append(f"{path.relative_to(root)}:{line} {names}")
    assert not found, "read bestbox.servers.state instead: " + "; ".join(found)


def test_the_window_reads_the_table_without_the_server_machinery():
    import subprocess
    import sys

    code = ("import sys; import bestbox.servers.state as s; s.info('ready');"
            "print(sorted(m for m in ('httpx', 'psutil', 'pydantic', 'bestbox.servers.manager') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
