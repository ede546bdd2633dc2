"""The shell launchers: valid scripts, and start-llm*.sh start a server from the app's own config."""
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("name", ["bestbox", "test", "start-llm.sh", "start-llm-light.sh", "lib/bootstrap.sh"])
def test_launcher_is_valid_bash(name):
    subprocess.run(["bash", "-n", str(ROOT / "launchers" / name)], check=True)


def test_ci_calls_the_readme_test_command():
    readme_cmds = [ln.split("#")[0].strip() for ln in (ROOT / "README.md").read_text().splitlines()[:6]
                   if ln.startswith("launchers/")]
    assert readme_cmds == ["launchers/bestbox", "launchers/test"]
    assert "exec launchers/test" in (ROOT / ".ci" / "run").read_text()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize("script,server", [("start-llm.sh", "heavy"), ("start-llm-light.sh", "light")])
def test_start_llm_scripts_start_the_configured_server(tmp_path, script, server):
    hp, lp = _free_port(), _free_port()
    cfg = tmp_path / "config.toml"
    cfg.write_text(f'[llama]\napi_key = "k"\n[servers.heavy]\nport = {hp}\nctx_size = 1024\n'
                   f'[servers.light]\nport = {lp}\nctx_size = 1024\n')
    env = {**os.environ, "BESTBOX_CONFIG": str(cfg), "BESTBOX_DATA_DIR": str(tmp_path / "data")}
    p = subprocess.Popen(["bash", str(ROOT / "launchers" / script)], env=env, stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, text=True, start_new_session=True)
    port = hp if server == "heavy" else lp
    try:
        deadline = time.monotonic() + 60
        ok = False
        while time.monotonic() < deadline and p.poll() is None:
            try:
                ok = httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200
            except httpx.HTTPError:
                pass
            if ok:
                break
            time.sleep(0.3)
        assert ok, p.stdout.read() if p.poll() is not None else "no /health 200"
        # It is a real llama-server with the app's API key.
        r = httpx.get(f"http://127.0.0.1:{port}/v1/models", headers={"Authorization": "Bearer wrong"}, timeout=5)
        assert r.status_code == 401
    finally:
        os.killpg(p.pid, signal.SIGTERM)
        p.wait(15)


def test_no_display_is_a_clear_message_not_a_qt_abort(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    env.update(BESTBOX_CONFIG=str(tmp_path / "c.toml"), BESTBOX_DATA_DIR=str(tmp_path / "d"))
    r = subprocess.run([sys.executable, "-m", "bestbox"], env=env, capture_output=True, text=True, timeout=60)
    assert r.returncode == 2
    assert "No display" in r.stderr and "bestbox ask" in r.stderr
