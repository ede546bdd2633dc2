"""Switching the heavy tier between this computer and a team server from the server panel: the
dialog's "Test connection" shows the health state (real nginx TLS front, test CA, a llama-server with
--api-key), a bad URL is refused by the config schema and nothing is written, Apply writes the config
and the running manager switches without a restart; and back to local."""
from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from bestbox.servers.state import ServerState

from ui_helpers import run_async, save_shot

sys.path.insert(0, str(Path(__file__).parents[1] / "servers"))
from remote_testutil import needs_nginx, team_server  # noqa: E402

S = ServerState
pytestmark = needs_nginx


@pytest.fixture(scope="module")
def team(tmp_path_factory, llama_server_bin, demo_model):
    with team_server(tmp_path_factory.mktemp("team"), llama_server_bin, demo_model) as ts:
        yield ts


def test_switch_heavy_to_the_team_server_and_back(qtbot, aloop, shots, team, tmp_config, tmp_path, monkeypatch):
    import tomllib

    from bestbox.servers import ServerManager
    from bestbox.servers.remote import RemoteSupervisor
    from bestbox.servers.supervisor import Supervisor
    from bestbox.ui.server_bridge import ServerBridge
    from bestbox.ui.server_panel import ServerPanel

    monkeypatch.setenv("TEAM_KEY", team.key)
    path = Path(os.environ["BESTBOX_CONFIG"])
    cfg = tmp_config
    mgr = ServerManager(cfg, state_dir=tmp_path / "state")
    bridge = ServerBridge(mgr)
    panel = ServerPanel(bridge, cfg, config_path=path)
    panel.resize(400, 900)  # about the side panel's width in the window
    qtbot.addWidget(panel)
    panel.show()
    qtbot.waitExposed(panel)
    try:
        panel.cards["heavy"].source_btn.click()
        dlg = panel.source_dialog
        qtbot.waitExposed(dlg)
        assert dlg.local.isChecked() and not dlg.group.isEnabled()
        dlg.remote.setChecked(True)
        # Bad input: refused by the schema, named by its key, nothing written, nothing switched.
        dlg.url.setText("gpu.team.lan:8000")
        before = path.read_text()
        assert not dlg.apply()
        assert "servers.heavy.url" in dlg.status.text() and "https://" in dlg.status.text()
        assert path.read_text() == before and isinstance(mgr.supervisors["heavy"], Supervisor)
        # The wrong CA: the health state the card would show, with the reason.
        dlg.url.setText(team.url())
        dlg.key_env.setText("TEAM_KEY")
        run_async(qtbot, aloop, dlg.test_connection())
        assert dlg.last_check.state is S.UNREACHABLE and "not trusted" in dlg.status.text()
        # The team's CA: ready, with the round trip and what it offers.
        dlg.ca.setText(str(team.ca))
        dlg.fallback.setCurrentIndex(dlg.fallback.findData("local"))
        run_async(qtbot, aloop, dlg.test_connection())
        assert dlg.last_check.state in (S.REMOTE, S.SLOW), dlg.status.text()
        assert "Remote" in dlg.badge.text() and "round trip" in dlg.status.text()
        qtbot.waitUntil(dlg.test.isEnabled, timeout=5_000)
        save_shot(dlg, shots / "server-source-dialog.png")
        # Login without a keyring backend (this machine): the reason, and the typed key stays.
        dlg.key.setText("typed-key")
        dlg.store.click()
        assert "api_key_env" in dlg.status.text() and dlg.key.text() == "typed-key"
        dlg.key.clear()
        # Apply: written to the file (validated), the running app switches without a restart.
        assert dlg.apply()
        run_async(qtbot, aloop, dlg._task)
        heavy = tomllib.loads(path.read_text())["servers"]["heavy"]
        assert heavy["url"] == team.url() and heavy["ca_bundle"] == str(team.ca) and heavy["fallback"] == "local"
        assert cfg.servers.heavy.url == team.url()
        assert isinstance(mgr.supervisors["heavy"], RemoteSupervisor)
        run_async(qtbot, aloop, mgr.supervisors["heavy"].wait_settled(30))
        qtbot.waitUntil(lambda: "Remote" in panel.cards["heavy"].badge.text(), timeout=10_000)
        assert team.url().split("://")[1] in panel.cards["heavy"].fields["port"].text()
        assert "heavy" in mgr.local.by_name  # the stand-in exists, not started while the team server serves
        assert mgr.local.by_name["heavy"].sup.snapshot().state is S.STOPPED
        dlg.close()
        save_shot(panel, shots / "server-panel-remote-heavy.png")
        # The team server goes away: the card says so, the local stand-in starts and shows on the card.
        card = panel.cards["heavy"]
        team.kill_upstream()
        mgr.suspect("heavy")
        stand_in = mgr.local.by_name["heavy"].sup
        run_async(qtbot, aloop, stand_in.wait_for(lambda s: s.state is S.READY, 60))
        qtbot.waitUntil(lambda: "unreachable" in card.badge.text().lower(), timeout=10_000)
        qtbot.waitUntil(lambda: card.stand_in.isVisible() and "Ready" in card.stand_in.text(), timeout=10_000)
        assert f"port {cfg.servers.heavy.port}" in card.stand_in.text()
        save_shot(panel, shots / "server-panel-team-away.png")
        # Back: the card says when.
        team.start_upstream()
        mgr.suspect("heavy")
        run_async(qtbot, aloop, mgr.supervisors["heavy"].wait_for(lambda s: s.info.serving, 30))
        qtbot.waitUntil(lambda: "back at" in card.message.text(), timeout=10_000)
        save_shot(panel, shots / "server-panel-team-back.png")
        # Back to this computer.
        panel.cards["heavy"].source_btn.click()
        dlg2 = panel.source_dialog
        assert dlg2.remote.isChecked() and dlg2.url.text() == team.url()
        dlg2.local.setChecked(True)
        assert dlg2.apply()
        run_async(qtbot, aloop, dlg2._task)
        assert tomllib.loads(path.read_text())["servers"]["heavy"]["url"] == ""
        assert isinstance(mgr.supervisors["heavy"], Supervisor) and not mgr.local.by_name
        qtbot.waitUntil(lambda: "Remote" not in panel.cards["heavy"].badge.text(), timeout=10_000)
        # The light tier the same way.
        panel.cards["light"].source_btn.click()
        dlg3 = panel.source_dialog
        assert dlg3.local.isChecked() and "heavy" not in dlg3.windowTitle().lower()
        dlg3.remote.setChecked(True)
        dlg3.url.setText(team.url())
        dlg3.key_env.setText("TEAM_KEY")
        dlg3.ca.setText(str(team.ca))
        assert dlg3.apply()
        run_async(qtbot, aloop, dlg3._task)
        assert tomllib.loads(path.read_text())["servers"]["light"]["url"] == team.url()
        assert isinstance(mgr.supervisors["light"], RemoteSupervisor)
        qtbot.waitUntil(lambda: "Remote" in panel.cards["light"].badge.text(), timeout=30_000)
        assert team.proc.poll() is None  # the team server: never touched
    finally:
        run_async(qtbot, aloop, mgr.shutdown())
        bridge.close()
