"""The whole window with its heavy tier on a team server (real nginx TLS front, test CA, a llama-server
with --api-key) and a local stand-in (`fallback = "local"`): a typed turn answered remotely; the team
server killed; the next typed turn's bubble says "Answered by local heavy: team server unreachable"
and has the answer; the heavy card shows the team server away, then back after it restarts."""
from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
from PySide6.QtWidgets import QApplication

from ui_helpers import llama_servers_on, save_shot

sys.path.insert(0, str(Path(__file__).parents[1] / "servers"))
from remote_testutil import needs_nginx, team_server  # noqa: E402
from servers_testutil import write_config  # noqa: E402

pytestmark = [pytest.mark.gui,
              needs_nginx]
QUESTION = "explain in detail how to plan a product launch"


@pytest.fixture
def team(tmp_path, llama_server_bin, demo_model):
    with team_server(tmp_path / "team", llama_server_bin, demo_model) as ts:
        yield ts


def _fits(panel, card) -> bool:
    """The card is not cut off at the side panel's right edge (the panel scrolls only vertically)."""
    from PySide6.QtWidgets import QScrollArea

    view = panel.findChild(QScrollArea).viewport()
    return card.mapTo(view, card.rect().topRight()).x() < view.width()


def _widest(card) -> list:
    from PySide6.QtWidgets import QWidget

    return sorted(((w.minimumSizeHint().width(), type(w).__name__, getattr(w, "text", lambda: "")()[:30])
                   for w in card.findChildren(QWidget) if w.isVisible()), reverse=True)[:6]


def _ask(qtbot, chat, text: str):
    n = len(chat.answers)
    chat.composer.input.setPlainText(text)
    chat.composer.input.send_requested.emit()
    qtbot.waitUntil(lambda: len(chat.answers) > n and not chat.running, timeout=240_000)
    return chat.answers[-1]


def test_team_server_goes_away_between_typed_turns_and_comes_back(qtbot, aloop, shots, team, tmp_config,
                                                                  monkeypatch):
    from bestbox import config as config_mod
    from bestbox.ui.app import AppController

    monkeypatch.setenv("TEAM_KEY", team.key)
    cfg = tmp_config
    cfg.routing.mode = "fast"   # a general question goes to heavy without the light model's guess
    cfg.servers.heavy.url = team.url()
    cfg.servers.heavy.api_key_env = "TEAM_KEY"
    cfg.servers.heavy.ca_bundle = str(team.ca)
    cfg.servers.heavy.slow_ms = 5000
    cfg.servers.heavy.fallback = "local"
    cfg.servers.heavy.keep_after_back_s = 0
    write_config(cfg, Path(os.environ["BESTBOX_CONFIG"]))
    ctrl = AppController(QApplication.instance(), config_mod.load(), use_tray=False)
    done: list[int] = []
    ctrl.finished.connect(lambda: done.append(1))
    qtbot.addWidget(ctrl.window)
    ctrl.show()
    win = ctrl.window
    card = win.servers.cards["heavy"]
    try:
        qtbot.waitUntil(lambda: card.badge.state in ("remote", "slow")
                        and win.servers.cards["light"].badge.state == "ready", timeout=120_000)
        qtbot.waitUntil(lambda: ctrl.startup_done and ctrl.assistant.assistant is not None, timeout=120_000)
        first = _ask(qtbot, win.chat, QUESTION)
        assert first.text.strip() and not first.notes_texts(), first.notes_texts()
        # Between the turns the team server goes away: the card says so, the stand-in loads.
        team.kill_upstream()
        qtbot.waitUntil(lambda: card.badge.state == "unreachable", timeout=30_000)
        second = _ask(qtbot, win.chat, QUESTION)
        notes = second.notes_texts()
        assert notes and notes[0].startswith("Answered by local heavy: team server unreachable"), notes
        assert team.url() in notes[0] and second.text.strip() and not getattr(second, "error_text", "")
        qtbot.waitUntil(lambda: getattr(card, "stand_in", None) is not None and card.stand_in.isVisible(),
                        timeout=10_000)
        win.side.setCurrentWidget(win.servers)
        qtbot.wait(300)
        save_shot(win, shots / "window-team-away.png")
        assert _fits(win.servers, card), (card.width(), card.minimumSizeHint().width(), _widest(card))
        # The team server restarts: the card shows it back, the stand-in (ours) stops, the next turn is remote.
        team.start_upstream()
        qtbot.waitUntil(lambda: card.badge.state in ("remote", "slow") and "back at" in card.message.text(),
                        timeout=30_000)
        qtbot.waitUntil(lambda: not card.stand_in.isVisible(), timeout=60_000)
        qtbot.wait(300)
        save_shot(win, shots / "window-team-back.png")
        assert _fits(win.servers, card)
        third = _ask(qtbot, win.chat, QUESTION)
        assert third.text.strip() and not third.notes_texts(), third.notes_texts()
    finally:
        if not done:
            ctrl.request_quit()
            qtbot.waitUntil(lambda: bool(done), timeout=60_000)
    assert llama_servers_on([cfg.servers.heavy.port, cfg.servers.light.port]) == []
    assert team.proc.poll() is None   # never touched
