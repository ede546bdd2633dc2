"""`bestbox doctor` names the speech engine a reply will use and the wake word's state, as a user runs it."""
from __future__ import annotations

import json
import os
import subprocess
import sys


def doctor(tmp_path, toml: str, *args: str) -> subprocess.CompletedProcess:
    cfg = tmp_path / "config.toml"
    cfg.write_text(toml, encoding="utf-8")
    env = {**os.environ, "BESTBOX_CONFIG": str(cfg), "BESTBOX_DATA_DIR": str(tmp_path / "data")}
    env.pop("DISPLAY", None)  # the display checks are not under test here (and start Qt)
    env.pop("WAYLAND_DISPLAY", None)
    return subprocess.run([sys.executable, "-m", "bestbox", "doctor", *args], capture_output=True, text=True,
                          env=env, timeout=120)


def test_doctor_names_piper_and_wake_word_off(tmp_path):
    r = doctor(tmp_path, "[voice_out]\nspeak_typed = true\n", "--json")
    checks = {c["name"]: c for c in json.loads(r.stdout)["checks"]}
    vo, wake = checks["voice out"], checks["wake word"]
    assert vo["ok"] and vo["data"]["engine"] == "piper" and vo["data"]["model"].endswith("en_US-joe-medium.onnx")
    assert "typed turns: yes" in vo["detail"] and "spoken turns: yes" in vo["detail"]
    assert wake["ok"] and wake["data"] == {"state": "off"} and wake["detail"].startswith("off")


def test_doctor_names_the_espeak_fallback_and_the_wake_model(tmp_path):
    toml = ('[voice_out]\nvoice = "/nowhere/my-voice.onnx"\n\n'
            '[voice_in]\nwake_word = "hey_jarvis"\nwake_cutoff = 0.9\n')
    r = doctor(tmp_path, toml, "--json")
    checks = {c["name"]: c for c in json.loads(r.stdout)["checks"]}
    vo, wake, mic = checks["voice out"], checks["wake word"], checks["microphones"]
    assert not vo["ok"] and vo["data"]["engine"] == "espeak"
    assert "/nowhere/my-voice.onnx" in vo["data"]["fallback_reason"] and vo["fix"]
    assert wake["data"]["model"] == "hey_jarvis" and wake["data"]["cutoff"] == 0.9
    assert wake["data"]["model_file"].endswith("hey_jarvis.tflite") and wake["data"]["licence"].endswith("LICENSE")
    assert wake["data"]["microphone"] == mic["ok"] and wake["ok"] == mic["ok"]
    assert "Hey Jarvis" in wake["detail"] and "cutoff 0.9" in wake["detail"]
    text = doctor(tmp_path, toml).stdout  # the same, as a person reads it
    assert "voice out" in text and "espeak-ng fallback" in text and "wake word" in text and "hey_jarvis" in text
