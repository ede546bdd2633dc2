"""The real device path: PulseAudio null sink as a microphone, sounddevice's `pulse` device,
espeak speech played with paplay; the VAD ends the turn by itself and the transcript is right."""
from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from .conftest import PHRASES, has_words

pytestmark = pytest.mark.mic


@pytest.mark.parametrize("turn_end", ["fixed", "smart"])
def test_virtual_microphone_turn_ends_by_itself(pulse_env, espeak_wavs, turn_end):
    child = subprocess.Popen([sys.executable, str(Path(__file__).with_name("mic_turn.py")), "20", turn_end],
                             env=pulse_env,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    events, result = [], None
    try:
        deadline = time.monotonic() + 120
        for line in child.stdout:
            msg = json.loads(line)
            if "result" in msg:
                result = msg["result"]
                break
            events.append(msg)
            if msg["event"] == "recording_started":
                time.sleep(0.3)
                subprocess.run(["paplay", str(espeak_wavs["vpn"])], env=pulse_env, check=True, timeout=30)
            assert time.monotonic() < deadline
        child.wait(30)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    assert result is not None, child.stderr.read()[-3000:]
    assert not result.get("error"), result
    kinds = [e["event"] for e in events]
    started = next(e for e in events if e["event"] == "recording_started")
    assert "pulse" in started["device"]
    assert "speech_started" in kinds and "silence_started" in kinds
    assert result["recording"]["reason"] == "vad_end"  # nobody pressed stop: the VAD ended it
    assert result["recording"]["audio_s"] < 15
    assert has_words(result["transcript_raw"], PHRASES["vpn"][1]), result["transcript_raw"]
    silence = result["recording"]["silence_at_end_s"]  # in audio time
    if turn_end == "fixed":
        assert 0.7 <= silence <= 0.72, result["recording"]  # the 0.7 s window
    else:  # from the finished request's 250 ms to the 1.5 s bound while Whisper has no text yet
        assert 0.25 <= silence <= 1.52, result["recording"]
    print("\nvirtual mic:", json.dumps({k: result.get(k) for k in ("transcript_raw", "recording", "timings")}))
