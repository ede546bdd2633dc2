"""The wake word in the window: while voice_in.wake_word is set the status bar shows that the
microphone listens for it; "Okay Nabu" + a question played into the PulseAudio virtual microphone
becomes a voice turn (its request audio handed to the VoiceController); one click on the indicator
turns the wake word off (microphone closed, saved to the config), the tray turns it on again."""
from __future__ import annotations

import asyncio
import os
import subprocess
import sys

import pytest

from bestbox.ui.main_window import MainWindow
from bestbox.ui.mic_indicator import MicIndicator, add_tray_wake
from bestbox.ui.tray import Tray
from bestbox.ui.voice_adapter import VoiceController
from bestbox.ui.wake_controller import WakeController

from test_main_window import FakeBridge, HistorySource, _Loaded, _snaps
from ui_helpers import save_shot

pytest.importorskip("pymicro_wakeword")


@pytest.fixture(scope="module", autouse=True)
def _microphone():
    """Listen on the PulseAudio null sink's monitor (PortAudio reads XDG_RUNTIME_DIR when it starts)."""
    pulse = os.environ.get("BESTBOX_TEST_PULSE_RUNTIME")
    if not pulse:
        pytest.skip("needs the PulseAudio virtual microphone (wt-test)")
    if "sounddevice" not in sys.modules:
        os.environ["XDG_RUNTIME_DIR"] = pulse
    yield pulse


def test_wake_word_starts_a_turn_and_one_click_turns_it_off(qtbot, aloop, tmp_path, shots, _microphone):
    from bestbox.pipeline.history import History
    from tests.speak.test_wake import wake_then_question

    loaded = _Loaded(tmp_path / "config.toml")
    loaded.path.write_text('[voice_in]\nwake_word = "okay_nabu"\n', encoding="utf-8")
    loaded.config.voice_in.wake_word = "okay_nabu"
    bridge = FakeBridge(_snaps())
    voice = VoiceController(lambda **kw: None)
    requests = []
    voice.run_audio = requests.append  # the turn itself is tested in tests/speak/test_wake.py
    w = MainWindow(bridge, HistorySource(History(tmp_path / "h.sqlite")), voice, loaded)
    wake = WakeController(loaded.config.voice_in, loaded.config.speech, voice, None, loaded.path, w)
    w.mic_indicator = MicIndicator(wake, w.status)
    w.status.addPermanentWidget(w.mic_indicator)
    tray = Tray(w, bridge)
    add_tray_wake(tray, wake)
    qtbot.addWidget(w)
    w.show()
    qtbot.waitExposed(w)
    try:
        assert not w.mic_indicator.isVisible()  # nothing open before start
        wake.start()
        qtbot.waitUntil(lambda: wake.listener_state in ("listening", "error"), timeout=20_000)
        if wake.listener_state == "error":
            pytest.skip(f"no microphone in this process: {wake.listener.error}")
        assert w.mic_indicator.isVisible() and "Okay Nabu" in w.mic_indicator.text()
        assert tray.actions["wake"].isChecked()
        save_shot(w, shots / "wake_listening.png")
        clip = wake_then_question(tmp_path / "q.wav")
        subprocess.run(["paplay", str(clip)], env={**os.environ, "XDG_RUNTIME_DIR": _microphone}, check=True,
                       timeout=60)
        qtbot.waitUntil(lambda: bool(requests), timeout=20_000)
        assert len(requests[0]) > 16000  # the question after the wake word, a second or more
        # the turn did not start (run_audio replaced), so the microphone listens again
        qtbot.waitUntil(lambda: wake.listener_state == "listening", timeout=10_000)
        w.mic_indicator.click()  # one click: off
        qtbot.waitUntil(lambda: not w.mic_indicator.isVisible(), timeout=5_000)
        assert wake.listener is None and not tray.actions["wake"].isChecked()
        assert 'wake_word = ""' in loaded.path.read_text()
        tray.actions["wake"].trigger()  # on again from the tray
        qtbot.waitUntil(lambda: wake.mic == "wake", timeout=20_000)
        assert 'wake_word = "okay_nabu"' in loaded.path.read_text()
    finally:
        closing = asyncio.ensure_future(wake.aclose())
        qtbot.waitUntil(closing.done, timeout=10_000)
