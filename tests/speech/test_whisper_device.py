"""Where Whisper runs and in what precision (speech.transcriber.resolve_device), and what doctor says."""
from __future__ import annotations

import json
import os
import subprocess
import sys

from bestbox.config import SpeechConfig
from bestbox.speech.transcriber import resolve_device


def test_auto_picks_the_cpu_and_int8_without_a_gpu():
    device, ctype, why = resolve_device(SpeechConfig())
    assert (device, ctype) == ("cpu", "int8")  # this machine has no CUDA GPU
    assert why == "cpu (no CUDA GPU found), int8 (fastest measured on the CPU)"


def test_a_configured_device_and_type_win():
    assert resolve_device(SpeechConfig(device="cuda"))[:2] == ("cuda", "float16")
    device, ctype, why = resolve_device(SpeechConfig(device="cpu", compute_type="float32"))
    assert (device, ctype) == ("cpu", "float32") and "configured" in why


def test_doctor_says_where_whisper_runs_and_why(tmp_path):
    cfg = tmp_path / "config.toml"
    cfg.write_text('[speech]\ndevice = "cuda"\ncompute_type = "int8"\n')
    env = {**os.environ, "BESTBOX_CONFIG": str(cfg)}
    p = subprocess.run([sys.executable, "-m", "bestbox", "doctor", "--json"], capture_output=True, text=True,
                       env=env, timeout=120)
    checks = {c["name"]: c for c in json.loads(p.stdout)["checks"]}
    w = checks["whisper"]
    assert w["data"]["device"] == "cuda" and w["data"]["compute_type"] == "int8" and w["data"]["window"] == "short"
    assert "cuda (configured), int8 (configured)" in w["detail"] and 'compute_type = "auto"' in w["detail"]
