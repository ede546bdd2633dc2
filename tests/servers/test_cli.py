"""`bestbox servers ...` and `bestbox doctor` as a user runs them: real subprocesses."""
from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys

import psutil

from bestbox.servers import ServerManager, ServerState
from servers_testutil import reaper, run, wait_until, write_config  # noqa: F401



def bestbox(*args, timeout=120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "bestbox", *args], capture_output=True, text=True,
                          timeout=timeout, env=os.environ.copy())


def _gone(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def test_servers_command_prints_the_shell_line(tmp_config):
    r = bestbox("servers", "command", "heavy")
    assert r.returncode == 0, r.stderr
    argv = shlex.split(r.stdout.strip())
    h = tmp_config.servers.heavy
    assert argv[0] == tmp_config.llama.server_binary
    for flag, val in [("-m", h.model), ("--port", str(h.port)), ("--ctx-size", str(h.ctx_size)), ("--parallel", "1"),
                      ("--api-key", tmp_config.llama.api_key), ("--threads", "1")]:
        assert argv[argv.index(flag) + 1] == val
    assert {"--metrics", "--slots", "--jinja"} <= set(argv)


def test_servers_command_reports_demo_fallback_and_custom_command(tmp_config, tmp_path):
    cfg = tmp_config.model_copy(deep=True)
    cfg.servers.heavy.model = "~/models/does-not-exist.gguf"
    cfg.servers.light.command = ["docker", "run", "-p", "{port}:{port}", "img", "-m", "{model}",
                                 "--api-key", "{api_key}", "-c", "{ctx_size}", "--host", "{host}"]
    write_config(cfg, tmp_path / "config" / "config.toml")
    r = bestbox("servers", "command", "all", "--json")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["heavy"]["using_demo_model"] and "demo model" in r.stderr
    light = out["light"]["argv"]
    assert light[:4] == ["docker", "run", "-p", f"{cfg.servers.light.port}:{cfg.servers.light.port}"]
    assert cfg.llama.api_key in light and str(cfg.servers.light.ctx_size) in light and out["light"]["custom"]


def test_detached_start_status_adopt_stop(tmp_config, tmp_path):
    r = bestbox("servers", "start", "all", "--json")
    assert r.returncode == 0, r.stdout + r.stderr
    started = json.loads(r.stdout)["servers"]
    pids = {n: s["pid"] for n, s in started.items()}
    assert all(s["state"] == "ready" for s in started.values())
    try:
        # the CLI has exited; the servers live on (detached) with PID files
        assert all(psutil.pid_exists(p) and not _gone(p) for p in pids.values())
        r = bestbox("servers", "status", "--json")
        assert r.returncode == 0, r.stderr
        status = json.loads(r.stdout)["servers"]
        for n in ("heavy", "light"):
            assert status[n]["state"] == "ready" and status[n]["adopted"] and status[n]["pid"] == pids[n]
            assert status[n]["rss_bytes"] > 0

        # the GUI does the same: sweep adopts, shutdown leaves adopted servers alone by default
        async def gui():
            mgr = ServerManager(tmp_config)
            notes = await mgr.sweep()
            assert len(notes) == 2 and all("adopted" in m for m in notes)
            snap = await mgr.supervisors["heavy"].wait_settled(timeout=20)
            assert snap.state is ServerState.READY and snap.adopted and not snap.owned
            assert any("starting heavy" in ln for ln in mgr.logs("heavy")), "the log is tailed on adoption"
            await mgr.shutdown()
        run(gui())
        assert all(not _gone(p) for p in pids.values())

        r = bestbox("servers", "logs", "heavy", "-n", "5")
        assert r.returncode == 0 and "heavy" in r.stdout
    finally:
        r = bestbox("servers", "stop", "--json")
    assert r.returncode == 0, r.stdout + r.stderr
    stopped = json.loads(r.stdout)["servers"]
    assert all(s["state"] == "stopped" for s in stopped.values())
    assert wait_until(lambda: all(_gone(p) for p in pids.values()), timeout=5)
    r = bestbox("servers", "status", "--json")
    assert all(s["state"] == "stopped" for s in json.loads(r.stdout)["servers"].values())


def test_start_failure_exits_nonzero_with_the_reason(tmp_config, tmp_path):
    bad = tmp_path / "bad.gguf"
    bad.write_bytes(b"GGUF" + b"\0" * 64)
    cfg = tmp_config.model_copy(deep=True)
    cfg.servers.light.model = str(bad)
    write_config(cfg, tmp_path / "config" / "config.toml")
    r = bestbox("servers", "start", "light")
    assert r.returncode == 1
    assert "could not load the model" in r.stdout and "Traceback" not in r.stdout + r.stderr


def test_doctor_json_reports_every_field(tmp_config):
    r = bestbox("doctor", "--json")
    data = json.loads(r.stdout)
    checks = {c["name"]: c for c in data["checks"]}
    assert {"config", "llama-server", "model.heavy", "model.light", "port.heavy", "port.light", "microphones",
            "whisper", "display", "tray"} <= set(checks)
    assert checks["llama-server"]["ok"] and "version" in checks["llama-server"]["detail"]
    assert checks["model.heavy"]["ok"] and checks["port.heavy"]["data"]["holder"] == "free"
    assert all("fix" in c and "detail" in c for c in checks.values())
    assert r.returncode == (0 if data["ok"] else 1) and data["ok"], r.stdout


def test_doctor_fails_on_missing_binary_and_names_a_port_holder(tmp_config, tmp_path):
    cfg = tmp_config.model_copy(deep=True)
    cfg.llama.server_binary = str(tmp_path / "nope")
    write_config(cfg, tmp_path / "config" / "config.toml")
    port = cfg.servers.light.port
    holder = subprocess.Popen([sys.executable, "-c", (
        f"import socket,time;s=socket.socket();s.bind(('127.0.0.1',{port}));s.listen();print(1,flush=True);"
        "time.sleep(60)")], stdout=subprocess.PIPE, text=True)
    try:
        holder.stdout.readline()
        r = bestbox("doctor", "--json")
    finally:
        holder.kill()
        holder.wait()
    assert r.returncode == 1
    checks = {c["name"]: c for c in json.loads(r.stdout)["checks"]}
    assert not checks["llama-server"]["ok"] and checks["llama-server"]["fix"]
    assert checks["port.light"]["data"]["pid"] == holder.pid and not checks["port.light"]["ok"]
    text = bestbox("doctor").stdout
    assert "FAIL" in text and "fix:" in text


def test_logs_follow_prints_new_lines_through_a_restart(tmp_config):
    """`servers logs -f`: the tail, then what the server writes next, also after a restart starts
    a new (shorter) log; Ctrl+C ends it cleanly."""
    import signal
    import time

    from bestbox import paths

    heavy, light = paths.state_dir() / "heavy.log", paths.state_dir() / "light.log"
    heavy.write_text("old line 1\nold line 2\n")
    light.write_text("light line\n")
    def as_in_a_terminal() -> None:
        # Ctrl+C reaches the command as in a terminal: a test run started in the background of a
        # non-interactive shell ignores SIGINT, and Python children inherit that (seen in a full run)
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})

    proc = subprocess.Popen([sys.executable, "-m", "bestbox", "servers", "logs", "all", "-f", "-n", "1"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=os.environ.copy(),
                            preexec_fn=as_in_a_terminal)
    got: list[str] = []

    def read_until(needle: str) -> None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            got.append(line.rstrip("\n"))
            if needle in line:
                return
        raise AssertionError(f"{needle!r} never came: {got}")

    try:
        read_until("light line")
        with open(heavy, "a") as f:
            f.write("model loaded\n")
        read_until("[heavy] model loaded")
        heavy.write_text("restarted\n")  # a restart truncates the log
        read_until("[heavy] restarted")
        proc.send_signal(signal.SIGINT)
        assert proc.wait(15) == 0, proc.stderr.read()
    finally:
        if proc.poll() is None:
            proc.kill()
    assert "old line 2" in got and "old line 1" not in got  # -n 1: the last line of the tail


def test_servers_started_before_the_config_broke_are_still_stopped(tmp_config, tmp_path):
    """A config that breaks after `servers start` (an invalid value, the key line gone) keeps the
    ports but used to hand each command a fresh random API key: the servers rejected it and
    `servers stop all` left them running. The remembered key and the PID records keep them ours."""
    r = bestbox("servers", "start", "light", "--json")
    assert r.returncode == 0, r.stdout + r.stderr
    pid = json.loads(r.stdout)["servers"]["light"]["pid"]
    cfg_path = tmp_path / "config" / "config.toml"
    text = cfg_path.read_text()
    text = "\n".join(ln for ln in text.splitlines() if not ln.startswith("api_key"))
    cfg_path.write_text(text.replace('mode = "hybrid"', 'mode = "no-such-mode"'))
    try:
        r = bestbox("servers", "status", "light", "--json")
        assert "routing.mode" in r.stderr  # the broken value is reported...
        status = json.loads(r.stdout)["servers"]["light"]
        assert status["state"] == "ready" and status["pid"] == pid  # ...and our server is still ours
        r = bestbox("servers", "stop", "all", "--json")
        assert r.returncode == 0, r.stdout + r.stderr
        assert wait_until(lambda: _gone(pid), timeout=10), "the server outlived `servers stop all`"
    finally:
        if not _gone(pid):
            os.kill(pid, 9)


def test_stop_finds_our_server_by_its_pid_record_whatever_the_key(tmp_config, tmp_path):
    """A supervisor that was handed another key (and so cannot talk to the server) still stops the
    server its PID record names; adopting it fails and stops it instead of orphaning it."""
    from bestbox.servers import Supervisor

    def sup(key):
        return Supervisor("light", tmp_config.servers.light, api_key=key, server_binary=tmp_config.llama.server_binary,
                          state_dir=tmp_path / "run", detached=True)

    async def main():
        first = sup(tmp_config.llama.api_key)
        snap = await first.start()
        await first.close()  # detached: the server stays
        assert snap.state is ServerState.READY
        other = sup("a-different-key")
        try:
            stopped = await other.stop()
            assert stopped.state is ServerState.STOPPED and _gone(snap.pid)
            third = sup(tmp_config.llama.api_key)
            again = await third.start()
            await third.close()
            assert again.state is ServerState.READY
            adopted = await other.start(timeout=60)
            assert adopted.state is ServerState.FAILED and "completion failed" in adopted.message
            assert wait_until(lambda: _gone(again.pid), timeout=10), "an unusable server of ours is stopped"
        finally:
            await other.close()
        return snap.pid
    run(main(), timeout=150)
