"""The frozen one-folder app builds and runs: --version and doctor from dist/bestbox/bestbox."""
import json
import os
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
