"""Spoken replies in the window (scripted turns, real espeak-ng synthesis): off for typed turns by
default, on when configured; each answer's Speak button reads it and a second click stops; one mute
state for the status bar button, the tray menu and the config file."""
from __future__ import annotations

import asyncio

import pytest

from bestbox.pipeline.history import History
from bestbox.ui.main_window import MainWindow
from bestbox.ui.speak_controller import SpeakController
from bestbox.ui.speak_widgets import add_tray_mute
from bestbox.ui.tray import Tray
from bestbox.ui.voice_adapter import VoiceController

from test_main_window import FakeBridge, HistorySource, _Loaded, _snaps
from ui_helpers import save_shot


@pytest.fixture(scope="module", autouse=True)
def _speakers():
    """Play into the test's PulseAudio null sink (PortAudio reads XDG_RUNTIME_DIR when it starts)."""
    import os
    import sys

    pulse = os.environ.get("BESTBOX_TEST_PULSE_RUNTIME")
    if pulse and "sounddevice" not in sys.modules:
        os.environ["XDG_RUNTIME_DIR"] = pulse
    yield


@pytest.fixture
def speaking_window(qtbot, aloop, tmp_path):
    loaded = _Loaded(tmp_path / "config.toml")
    loaded.path.write_text("[voice_out]\nmuted = false\n", encoding="utf-8")
    vo = loaded.config.voice_out
    vo.engine = "espeak"  # fast on this CPU; the Piper voice has its own tests
    vo.rate = 2.0
    src = HistorySource(History(tmp_path / "h.sqlite"))
    bridge = FakeBridge(_snaps())
    w = MainWindow(bridge, src, VoiceController(None), loaded)
    speak = SpeakController(vo, loaded.path, w)
    w.set_speak(speak)
    tray = Tray(w, bridge)
    add_tray_mute(tray, speak)
    qtbot.addWidget(w)
    w.show()
    qtbot.waitExposed(w)
    yield w, speak, tray, loaded
    closing = asyncio.ensure_future(speak.aclose())
    qtbot.waitUntil(closing.done, timeout=20_000)


def test_typed_answers_are_silent_by_default_then_spoken_when_configured(qtbot, speaking_window):
    w, speak, _tray, _ = speaking_window
    w.chat.send("show me the top five vendors by spend this quarter")
    qtbot.waitUntil(lambda: not w.chat.running, timeout=10_000)
    assert speak.reply is None  # speak_typed is off by default
    speak.cfg.speak_typed = True
    states = []
    speak.speaking_changed.connect(lambda b, on: states.append(on))
    w.chat.send("and last quarter?")
    qtbot.waitUntil(lambda: states[-1:] == [False], timeout=60_000)
    assert states[0] is True
    queued = speak.reply.speaker.state.queued
    assert queued[0] == "Here are the top five vendors by spend this quarter:"
    assert queued[1].startswith("A table of 5 rows with columns Vendor, Spend, POs.")
    assert not any("|" in s or "**" in s for s in queued)


def test_speak_button_reads_an_answer_and_stops_on_second_click(qtbot, speaking_window, shots):
    w, speak, _tray, _ = speaking_window
    w.chat.send("show me the top five vendors by spend this quarter")
    qtbot.waitUntil(lambda: not w.chat.running, timeout=10_000)
    bubble = w.chat.answers[-1]
    btn = bubble.actions.speak_btn
    qtbot.waitUntil(btn.isVisible, timeout=5_000)
    btn.click()
    qtbot.waitUntil(lambda: "Stop" in btn.text(), timeout=5_000)
    qtbot.waitUntil(lambda: bool(speak.reply.speaker.state.heard), timeout=30_000)  # sound is coming out
    save_shot(w, shots / "speak_button_speaking.png")
    if speak.reply.speaker.output_error:
        pytest.skip(f"no speakers in this process: {speak.reply.speaker.output_error}")
    btn.click()  # stop
    qtbot.waitUntil(lambda: "Speak" in btn.text(), timeout=10_000)
    assert speak.reply.speaker.stopped.is_set()
    assert speak.reply.spoken_text.endswith("…")  # cut in the middle


def test_mute_is_one_state_for_window_tray_and_config(qtbot, speaking_window, shots):
    w, speak, tray, loaded = speaking_window
    assert "Voice on" in w.mute_button.text() and not tray.actions["mute"].isChecked()
    w.mute_button.click()
    assert speak.muted and tray.actions["mute"].isChecked() and "muted" in w.mute_button.text()
    assert "muted = true" in loaded.path.read_text()
    speak.cfg.speak_typed = True
    w.chat.send("show me the top five vendors by spend this quarter")
    qtbot.waitUntil(lambda: not w.chat.running, timeout=10_000)
    assert speak.reply is None  # muted: nothing spoken
    save_shot(w, shots / "speak_muted.png")
    tray.actions["mute"].trigger()  # unmute from the tray
    assert not speak.muted and not w.mute_button.isChecked() and "Voice on" in w.mute_button.text()
    assert "muted = false" in loaded.path.read_text()


def test_talking_over_a_spoken_answer_stops_it_and_hands_the_request_on(qtbot, speaking_window, tmp_path):
    """The answer to a spoken question plays into the null sink, whose monitor is the microphone; a
    person's request is played into the same sink two seconds in."""
    import os
    import subprocess

    from bestbox.pipeline.events import TurnEvent

    w, speak, _tray, _ = speaking_window
    pulse = os.environ.get("BESTBOX_TEST_PULSE_RUNTIME")
    if not pulse:
        pytest.skip("needs the PulseAudio virtual microphone (wt-test)")
    speak.cfg.volume = 0.3  # the echo reaches a microphone ~10 dB below a person talking to it
    speak.cfg.rate = 1.0
    hits = []
    speak.barged_in.connect(hits.append)
    bubble = w.chat._new_answer("voice")
    w.chat.apply_event(bubble, TurnEvent("route", {"decision": {}, "turn_id": "t9"}))
    assert speak.monitor is not None
    long = " ".join(["Acme billed five thousand dollars in March across twelve invoices."] * 6)
    w.chat.apply_event(bubble, TurnEvent("token", {"text": long}))
    w.chat.apply_event(bubble, TurnEvent("done", {"answer": long}))
    qtbot.waitUntil(lambda: bool(speak.reply.speaker.state.heard), timeout=30_000)
    if speak.reply.speaker.output_error:
        pytest.skip(f"no speakers in this process: {speak.reply.speaker.output_error}")
    req = tmp_path / "req.wav"
    subprocess.run(["espeak-ng", "-a", "160", "-w", str(req), "open a ticket because the VPN is down"], check=True)
    qtbot.wait(2000)
    subprocess.Popen(["paplay", str(req)], env={**os.environ, "XDG_RUNTIME_DIR": pulse})
    qtbot.waitUntil(lambda: bool(hits), timeout=20_000)
    assert speak.reply.speaker.stopped.is_set()
    assert hits[0].spoken_text.endswith("…") and len(hits[0].audio) > 16000  # a second or more of request
