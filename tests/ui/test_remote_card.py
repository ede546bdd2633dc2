"""A remote (shared team) server's card: "remote" with its address, the round trip and first token
instead of process numbers, busy shown as busy, and no Start/Stop (BestBox never touches it)."""
from __future__ import annotations

from PySide6.QtWidgets import QVBoxLayout, QWidget

from bestbox.servers.state import ServerSnapshot, ServerState
from bestbox.ui.server_card import ServerCard
from bestbox.ui.tray import combined_state

from ui_helpers import save_shot

URL = "https://gpu.team.lan:8000"


def _remote(**kw) -> ServerSnapshot:
    base = dict(name="heavy", host="gpu.team.lan", port=8000, base_url=URL, url=URL, remote=True,
                server_kind="vllm", models=("Qwen/Qwen2.5-32B-Instruct-AWQ", "Qwen/Qwen2.5-7B-Instruct"),
                model_name="Qwen/Qwen2.5-32B-Instruct-AWQ")
    base.update(kw)
    return ServerSnapshot(**base)


def test_remote_cards_render(qtbot, aloop, shots):
    host = QWidget()
    lay = QVBoxLayout(host)
    ready = ServerCard("heavy", lambda n: [])
    ready.update_snapshot(_remote(state=ServerState.REMOTE, round_trip_ms=38.2, first_token_ms=212.0, queued=0,
                                  message="ready: round trip 38 ms, first token 212 ms; vllm, model "
                                          "Qwen2.5-32B-Instruct-AWQ"))
    busy = ServerCard("heavy", lambda n: [])
    busy.update_snapshot(_remote(state=ServerState.BUSY, round_trip_ms=41.0, first_token_ms=1900.0, queued=3,
                                 message="busy with other requests (4 running, 3 waiting); vllm"))
    down = ServerCard("heavy", lambda n: ["[bestbox] 23:41:02 unreachable: the proxy (nginx) answered 502"])
    down.update_snapshot(_remote(state=ServerState.UNREACHABLE, message="the proxy (nginx/1.22.1) answered 502 "
                                 "Bad Gateway: proxy up, server down"))
    for c in (ready, busy, down):
        lay.addWidget(c)
    host.resize(400, 1100)
    qtbot.addWidget(host)
    host.show()
    qtbot.waitExposed(host)

    assert "Remote" in ready.badge.text() and ready.fields["port"].text() == "gpu.team.lan:8000"
    assert ready.fields["pid"].text() == "remote · vllm"
    assert ready.fields["speed"].text() == "38 ms round trip · 212 ms first token"
    assert "Qwen2.5-7B-Instruct" in ready.model.toolTip()
    for c in (ready, busy, down):
        assert not (c.start_btn.isEnabled() or c.stop_btn.isEnabled() or c.restart_btn.isEnabled())
    assert "busy" in busy.badge.text().lower() and busy.fields["requests"].text() == "3 waiting"
    assert combined_state({"heavy": "busy", "light": "ready"}) == "ready"  # busy is not broken
    assert combined_state({"heavy": "unreachable", "light": "ready"}) == "error"
    assert "proxy up, server down" in down.message.text() and down.message.isVisible()
    save_shot(host, shots / "remote_cards.png")
