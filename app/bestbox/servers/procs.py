"""Operating-system helpers: who holds a port, PID files, process-tree stats, VRAM, killing groups.

Everything here is synchronous and quick (a /proc scan at worst); callers on the event loop run the
slower ones (port scan, nvidia-smi) in an executor.
"""
from __future__ import annotations

import ctypes
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import psutil

PR_SET_PDEATHSIG = 1


def pdeathsig_preexec(sig: int = signal.SIGTERM):
    """A preexec_fn: the child gets `sig` when the thread that spawned it dies (Linux only).

    Note the kernel ties this to the spawning *thread*: spawn from the event-loop thread, never from
    a short-lived worker thread."""
    if not sys.platform.startswith("linux"):
        return None
    parent = os.getpid()

    def preexec() -> None:
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(PR_SET_PDEATHSIG, int(sig), 0, 0, 0)
        except Exception:
            pass
        if os.getppid() != parent:  # the parent died before prctl took effect
            os.kill(os.getpid(), sig)
    return preexec


@dataclass
class PortHolder:
    port: int
    pid: int | None = None
    name: str = ""
    cmdline: list[str] | None = None

    @property
    def is_llama_server(self) -> bool:
        text = " ".join([self.name] + (self.cmdline or [])[:1])
        return "llama-server" in text or "llama_server" in text

    def describe(self) -> str:
        if self.pid is None:
            return f"port {self.port} is in use by a process we cannot see (another user or a container)"
        return f"port {self.port} is held by {self.name or 'an unknown process'} (PID {self.pid})"


def port_is_free(host: str, port: int) -> bool:
    """True when nothing listens: try to bind the way llama-server will."""
    fam = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(fam, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError:
            return False
    # Also refuse when something listens on the wildcard address or another local address.
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.settimeout(0.3)
        try:
            s.connect(("127.0.0.1", port))
            return False
        except OSError:
            return True


def port_holder(port: int) -> PortHolder:
    """Which process listens on `port` (PID and name where the OS lets us see it)."""
    holder = PortHolder(port)
    try:
        conns = psutil.net_connections(kind="inet")
    except (psutil.AccessDenied, OSError):
        conns = []
    for c in conns:
        if c.status == psutil.CONN_LISTEN and c.laddr and c.laddr.port == port and c.pid:
            holder.pid = c.pid
            break
    if holder.pid:
        try:
            p = psutil.Process(holder.pid)
            holder.name = p.name()
            holder.cmdline = p.cmdline()
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            pass
    return holder


# ---- PID files -------------------------------------------------------------------------------

@dataclass
class PidRecord:
    name: str
    pid: int
    port: int
    host: str
    model: str
    started_at: float
    app_pid: int
    detached: bool = False
    create_time: float = 0.0
    log: str = ""
    argv: list[str] | None = None

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=1)


def pid_file(state_dir: Path, name: str) -> Path:
    return state_dir / f"{name}.pid.json"


def write_pid(state_dir: Path, rec: PidRecord) -> None:
    path = pid_file(state_dir, rec.name)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(rec.to_json())
    os.replace(tmp, path)


def read_pid(state_dir: Path, name: str) -> PidRecord | None:
    try:
        d = json.loads(pid_file(state_dir, name).read_text())
        return PidRecord(**d)
    except (OSError, ValueError, TypeError):
        return None


def remove_pid(state_dir: Path, name: str, pid: int | None = None) -> None:
    """Remove the PID file (only if it still describes `pid`, when given)."""
    path = pid_file(state_dir, name)
    if pid is not None:
        rec = read_pid(state_dir, name)
        if rec and rec.pid != pid:
            return
    try:
        path.unlink()
    except FileNotFoundError:
        pass


def record_alive(rec: PidRecord) -> psutil.Process | None:
    """The live process a PID record describes, or None (dead, reused PID, not a server)."""
    try:
        p = psutil.Process(rec.pid)
        if p.status() == psutil.STATUS_ZOMBIE:
            return None
        if rec.create_time and abs(p.create_time() - rec.create_time) > 2.0:
            return None  # the PID was reused by another process
        return p
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return None


# ---- stats -----------------------------------------------------------------------------------

class TreeStats:
    """RSS and CPU% of a process and its children; keeps psutil objects so cpu_percent works."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self._procs: dict[int, psutil.Process] = {}

    def sample(self) -> tuple[int | None, float | None]:
        try:
            root = psutil.Process(self.pid)
            tree = [root] + root.children(recursive=True)
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            return None, None
        rss, cpu = 0, 0.0
        live = {}
        for p in tree:
            p = self._procs.get(p.pid, p)
            live[p.pid] = p
            try:
                rss += p.memory_info().rss
                cpu += p.cpu_percent(None)
            except (psutil.NoSuchProcess, psutil.AccessDenied):
                continue
        self._procs = live
        return rss, cpu


_SMI_MISSING: set[str] = set()


def vram_by_pid() -> dict[int, int]:
    """Bytes of GPU memory per PID from nvidia-smi or rocm-smi; {} when neither exists or works."""
    out: dict[int, int] = {}
    if "nvidia" not in _SMI_MISSING and shutil.which("nvidia-smi"):
        try:
            r = subprocess.run(["nvidia-smi", "--query-compute-apps=pid,used_memory",
                                "--format=csv,noheader,nounits"], capture_output=True, text=True, timeout=3)
            for line in r.stdout.splitlines():
                parts = [p.strip() for p in line.split(",")]
                if len(parts) >= 2 and parts[0].isdigit() and parts[1].isdigit():
                    out[int(parts[0])] = out.get(int(parts[0]), 0) + int(parts[1]) * 1024 * 1024
        except (OSError, subprocess.SubprocessError):
            _SMI_MISSING.add("nvidia")
    else:
        _SMI_MISSING.add("nvidia")
    if not out and "rocm" not in _SMI_MISSING and shutil.which("rocm-smi"):
        try:
            r = subprocess.run(["rocm-smi", "--showpids", "--json"], capture_output=True, text=True, timeout=3)
            data = json.loads(r.stdout or "{}")
            for key, v in data.get("system", {}).items():
                # "PID1234": "name, gpus, vram bytes, sdma, cu occupancy"
                if key.startswith("PID") and isinstance(v, str):
                    fields = [f.strip() for f in v.split(",")]
                    if len(fields) >= 3 and fields[2].isdigit():
                        out[int(key[3:])] = int(fields[2])
        except (OSError, subprocess.SubprocessError, ValueError):
            _SMI_MISSING.add("rocm")
    return out


def free_vram_bytes() -> int | None:
    """Free GPU memory summed over GPUs, or None when no GPU tool answers."""
    if shutil.which("nvidia-smi"):
        try:
            r = subprocess.run(["nvidia-smi", "--query-gpu=memory.free", "--format=csv,noheader,nounits"],
                               capture_output=True, text=True, timeout=3)
            vals = [int(x) for x in r.stdout.split() if x.strip().isdigit()]
            if vals:
                return sum(vals) * 1024 * 1024
        except (OSError, subprocess.SubprocessError):
            pass
    if shutil.which("rocm-smi"):
        try:
            r = subprocess.run(["rocm-smi", "--showmeminfo", "vram", "--json"], capture_output=True, text=True,
                               timeout=3)
            data = json.loads(r.stdout or "{}")
            free = 0
            for card in data.values():
                if isinstance(card, dict):
                    total = int(card.get("VRAM Total Memory (B)", 0))
                    used = int(card.get("VRAM Total Used Memory (B)", 0))
                    free += max(0, total - used)
            return free or None
        except (OSError, subprocess.SubprocessError, ValueError):
            pass
    return None


# ---- stopping --------------------------------------------------------------------------------

def signal_tree(pid: int, sig: int) -> None:
    """Signal the process group when `pid` leads its own group (we spawn with start_new_session),
    otherwise the process and its children."""
    try:
        if os.getpgid(pid) == pid:
            os.killpg(pid, sig)
            return
    except (ProcessLookupError, PermissionError):
        pass
    try:
        procs = [psutil.Process(pid)]
        procs += procs[0].children(recursive=True)
    except psutil.NoSuchProcess:
        return
    for p in procs:
        try:
            p.send_signal(sig)
        except psutil.NoSuchProcess:
            pass


def stop_child(proc: subprocess.Popen, grace_s: float = 10.0) -> None:
    """Stop a child we spawned: SIGTERM, `grace_s` to exit, then SIGKILL; always reaped (no zombie).
    A child already gone is only reaped. (llama-server groups go through `servers.launch.terminate`.)"""
    if proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(grace_s)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def pid_gone(pid: int) -> bool:
    try:
        p = psutil.Process(pid)
        return p.status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def wait_gone(pid: int, timeout: float) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pid_gone(pid):
            return True
        time.sleep(0.05)
    return pid_gone(pid)
