"""Server cards: rendering of every kind of snapshot, and the panel driving real llama-servers."""
from __future__ import annotations


import pytest
from PySide6.QtWidgets import QVBoxLayout, QWidget

from bestbox.servers.state import ServerSnapshot, ServerState
from bestbox.ui.server_card import ServerCard

from ui_helpers import save_shot


def _snap(**kw) -> ServerSnapshot:
    base = dict(name="heavy", port=8080, host="127.0.0.1", base_url="http://127.0.0.1:8080")
    base.update(kw)
    return ServerSnapshot(**base)


def test_card_states_render(qtbot, aloop, shots):
    host = QWidget()
    lay = QVBoxLayout(host)
    logs = {"heavy": ["llama server listening at http://127.0.0.1:8080", "all slots are idle"],
            "light": ["error: failed to load model '/nope.gguf'"]}
    ready = ServerCard("heavy", lambda n: logs[n])
    ready.update_snapshot(_snap(state=ServerState.READY, pid=4242, model_name="qwen2.5-14b-instruct-q4_k_m.gguf",
                                uptime_s=3725, tokens_per_s=41.37, requests_total=12, busy_slots=1, total_slots=1,
                                rss_bytes=1_400_000_000, vram_bytes=9_800_000_000, cpu_percent=3.2, owned=True))
    loading = ServerCard("light", lambda n: logs[n])
    loading.update_snapshot(_snap(name="light", port=8081, state=ServerState.LOADING, pid=4243, load_progress=0.45,
                                  model_path="/models/qwen2.5-7b-instruct-q5_k_m.gguf", owned=True))
    failed = ServerCard("light", lambda n: logs[n])
    failed.update_snapshot(_snap(name="light", port=8081, state=ServerState.FAILED,
                                 message="llama-server exited: failed to load model '/nope.gguf' (file not found)"))
    demo = ServerCard("heavy", lambda n: logs[n])

    class Cfg:
        def server(self, name):
            return type("S", (), {"model": "~/models/14b/qwen2.5-14b-instruct-q4_k_m.gguf"})()

    demo.config = Cfg()
    demo.update_snapshot(_snap(state=ServerState.READY, pid=77, using_demo_model=True,
                               model_name="SmolLM2-135M-Instruct.Q4_1.gguf", owned=True))
    for c in (ready, loading, failed, demo):
        lay.addWidget(c)
    host.resize(380, 1500)
    qtbot.addWidget(host)
    host.show()
    qtbot.waitExposed(host)

    assert ready.badge.state == "ready" and "Ready" in ready.badge.text()
    assert ready.model.text() == "qwen2.5-14b-instruct-q4_k_m"
    assert ready.fields["speed"].text() == "41.4 tok/s"
    assert ready.fields["uptime"].text() == "1 h 02 min"
    assert ready.fields["ram"].text() == "1.3 GiB" and ready.fields["vram"].text() == "9.1 GiB"  # memory: IEC units
    assert ready.fields["slots"].text() == "1 / 1 busy"
    assert not ready.start_btn.isEnabled() and ready.stop_btn.isEnabled() and ready.restart_btn.isEnabled()
    assert not ready.progress.isVisible()

    assert loading.progress.isVisible() and loading.progress.value() == 450
    assert "45 %" in loading.progress_label.text()
    assert loading.model.text() == "qwen2.5-7b-instruct-q5_k_m"

    assert failed.start_btn.isEnabled() and not failed.stop_btn.isEnabled()
    assert "file not found" in failed.message.text() and failed.message.isVisible()
    assert failed.log.isVisible() and "failed to load model" in failed.log.toPlainText()  # opens on failure

    assert demo.demo.isVisible()
    assert "Demo model (SmolLM2-135M): configured file ~/models/14b/qwen2.5-14b-instruct-q4_k_m.gguf not found" \
        in demo.demo.text()
    save_shot(host, shots / "server_cards.png")


def test_log_follows_new_lines(qtbot, aloop):
    lines = [f"line {i}" for i in range(50)]
    card = ServerCard("heavy", lambda n: list(lines))
    qtbot.addWidget(card)
    card.show()
    card.log_toggle.setChecked(True)
    assert card.log.toPlainText().endswith("line 49")
    card.append_log(["line 50", "line 51"])
    sb = card.log.verticalScrollBar()
    assert card.log.toPlainText().endswith("line 51")
    assert sb.value() == sb.maximum()


@pytest.mark.gui
def test_panel_drives_real_servers(qtbot, aloop, tmp_config, tmp_path, shots):
    """Both cards turn ready with the demo model; Stop and Start on a card act on the real server."""
    from bestbox.servers.manager import ServerManager
    from bestbox.ui.server_bridge import ServerBridge
    from bestbox.ui.server_panel import ServerPanel

    mgr = ServerManager(tmp_config, state_dir=tmp_path / "run")
    bridge = ServerBridge(mgr)
    panel = ServerPanel(bridge, tmp_config)
    panel.resize(400, 900)
    qtbot.addWidget(panel)
    panel.show()
    try:
        bridge.start("all")
        seen = set()

        def both_ready():
            for c in panel.cards.values():
                seen.add(c.badge.state)
            return all(c.badge.state == "ready" for c in panel.cards.values())

        qtbot.waitUntil(both_ready, timeout=120_000)
        assert seen & {"starting", "loading"}, f"never showed a start: {seen}"
        heavy = panel.cards["heavy"]
        assert heavy.fields["pid"].text().isdigit()
        assert heavy.fields["port"].text() == str(tmp_config.servers.heavy.port)
        heavy.log_toggle.setChecked(True)
        qtbot.waitUntil(lambda: "listening" in heavy.log.toPlainText() or "idle" in heavy.log.toPlainText(),
                        timeout=10_000)
        save_shot(panel, shots / "server_panel_ready.png")

        heavy.stop_btn.click()
        qtbot.waitUntil(lambda: heavy.badge.state == "stopped", timeout=30_000)
        assert heavy.start_btn.isEnabled() and not heavy.stop_btn.isEnabled()
        assert panel.cards["light"].badge.state == "ready"
        heavy.start_btn.click()
        qtbot.waitUntil(lambda: heavy.badge.state == "ready", timeout=120_000)
    finally:
        done = []
        t = aloop.create_task(bridge.shutdown())
        t.add_done_callback(lambda _t: done.append(1))
        qtbot.waitUntil(lambda: bool(done), timeout=60_000)
    assert mgr.snapshot("heavy").pid is None or mgr.snapshot("heavy").state.value == "stopped"


def test_card_says_why_it_restarted(qtbot, aloop):
    card = ServerCard("light", lambda n: [])
    qtbot.addWidget(card)
    card.update_snapshot(_snap(name="light", state=ServerState.READY, pid=9, restarts=1,
                               last_exit="was killed by SIGKILL (possibly the out-of-memory killer)",
                               last_exit_log=("slot update_slots: id  0 | task 12 | prompt done",
                                              "ggml_abort: out of memory")))
    assert "restarted 1×" in card.message.text() and "killed by SIGKILL" in card.message.text()
    assert "ggml_abort: out of memory" in card.badge.toolTip() and "Last exit" in card.message.toolTip()
    assert "Ready" in card.badge.toolTip()  # the state's own tooltip from the table comes first
    card.update_snapshot(_snap(name="light", state=ServerState.STOPPED))
    assert not card.message.isVisible() and "Last exit" not in card.badge.toolTip()


def test_a_config_that_names_the_demo_file_is_not_called_missing(qtbot, aloop, demo_model):
    class Server:
        model = str(demo_model)

    class Cfg:
        def server(self, name):
            return Server()

    card = ServerCard("heavy", lambda n: [])
    qtbot.addWidget(card)
    card.config = Cfg()
    card.update_snapshot(_snap(state=ServerState.READY, pid=77, using_demo_model=True, model_path=str(demo_model)))
    card.show()
    assert card.demo.isVisible() and card.demo.text().startswith("Demo model (SmolLM2-135M). Point [servers.heavy]")
    assert "not found" not in card.demo.text()
