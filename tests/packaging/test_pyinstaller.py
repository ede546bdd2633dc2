"""The frozen one-folder app builds and runs: --version, doctor, and a spoken WAV transcribed by the
bundled Whisper (ctranslate2) after Silero VAD (onnxruntime) — the native libraries PyInstaller
bundles miss (Buzz #157)."""
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_pyinstaller_one_folder_app_runs(tmp_path):
    dist, work = tmp_path / "dist", tmp_path / "build"
    build = subprocess.run(
        [sys.executable, "-m", "PyInstaller", "--noconfirm", "--log-level", "WARN",
         "--distpath", str(dist), "--workpath", str(work), str(ROOT / "bestbox.spec")],
        cwd=ROOT, capture_output=True, text=True, timeout=880)
    assert build.returncode == 0, build.stderr[-4000:]
    exe = dist / "bestbox" / "bestbox"
    assert exe.is_file()

    env = {**os.environ, "BESTBOX_CONFIG": str(tmp_path / "cfg.toml"), "BESTBOX_DATA_DIR": str(tmp_path / "data")}
    v = subprocess.run([str(exe), "--version"], capture_output=True, text=True, timeout=60, env=env)
    assert v.returncode == 0 and v.stdout.startswith("bestbox "), v.stderr

    d = subprocess.run([str(exe), "doctor", "--json"], capture_output=True, text=True, timeout=120, env=env)
    report = json.loads(d.stdout)
    assert report, d.stderr
    # The bundle carries its Whisper runtime: ctranslate2 loads inside the frozen app.
    text = json.dumps(report).lower()
    assert "whisper" in text

    if not shutil.which("espeak-ng"):
        pytest.skip("espeak-ng is not installed: the frozen app's transcription is not checked")
    wav = tmp_path / "q.wav"
    subprocess.run(["espeak-ng", "-w", str(wav), "show me the top vendors by spend"], check=True, capture_output=True)
    t = subprocess.run([str(exe), "voice", "--wav", str(wav), "--no-answer", "--no-cleanup", "--json"],
                       capture_output=True, text=True, timeout=300, env=env)
    assert t.returncode == 0, (t.stdout[-2000:], t.stderr[-3000:])
    out = json.loads(t.stdout)
    assert "vendor" in out["transcript_raw"].lower(), out
