"""`bestbox voice --wav q.wav --speak --json`: a spoken question answered out loud (real servers with
the demo model, real Whisper, espeak-ng voice into the PulseAudio null sink)."""
from __future__ import annotations

import json
import subprocess
import sys
import wave

import numpy as np
import pytest

from .conftest import demo_cli_env


@pytest.mark.slow
def test_voice_wav_speak_json(virtual_mic, tmp_path):
    q = tmp_path / "q.wav"
    subprocess.run(["espeak-ng", "-w", str(q), "hello, what can you do for me"], check=True)
    env = demo_cli_env(tmp_path, virtual_mic, "[voice_out]", 'engine = "espeak"')
    reply = tmp_path / "reply.wav"
    p = subprocess.run([sys.executable, "-m", "bestbox", "voice", "--wav", str(q), "--speak", "--json",
                        "--reply-wav", str(reply)], env=env, capture_output=True, text=True, timeout=600)
    assert p.returncode == 0, p.stderr[-3000:]
    out = json.loads(p.stdout)
    assert out["reply_audio"] == str(reply)
    assert out["timings"]["first_audio_ms"] > out["timings"]["speech_end_to_first_token_ms"]
    assert out["timings"]["first_audio_ahead"] in (True, False)  # whether it was the clause made ahead
    assert "speak_note" not in out  # the null sink is a real output
    assert out["spoken"] and out["answer"]
    with wave.open(str(reply)) as w:
        a = np.frombuffer(w.readframes(w.getnframes()), "<i2").astype(np.float32) / 32768
        assert w.getnframes() / w.getframerate() > 0.5
    assert float(np.sqrt(np.mean(a ** 2))) > 0.01
    print("\nvoice --speak:", json.dumps({k: out.get(k) for k in ("answer", "spoken", "reply_audio")}),
          json.dumps(out["timings"]))
