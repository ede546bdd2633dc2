"""Starting and ending one llama-server process: spawn it in its own session writing into its log
file, and end its whole process group (SIGTERM, grace period, SIGKILL, reap).

Mechanics only: when to start or stop, and what the user is told, is the supervisor's business.
"""
from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import psutil

from . import procs

STOP_GRACE_S = 5.0


@dataclass
class ServerProcess:
    """The process a supervisor watches: spawned by us, ours from an earlier run (adopted through
    its PID record), or a llama-server somebody else started (external, never stopped)."""

    kind: str                              # spawned | adopted | external
    pid: int | None
    pgid: int | None = None                # its own process group (we spawn it as a session leader)
    popen: subprocess.Popen | None = None  # only for our own child: its exit code is ours to read
    started_wall: float | None = None
    spawned_mono: float | None = None      # when we spawned it (load-time history)

    @property
    def owned(self) -> bool:
        return self.kind == "spawned"

    @property
    def adopted(self) -> bool:
        return self.kind == "adopted"

    @property
    def ours(self) -> bool:
        return self.kind in ("spawned", "adopted")

    def exit_status(self) -> tuple[bool, int | None]:
        """(exited, return code): the code only for our own child; an external server's end is seen
        by its health checks instead."""
        if self.popen is not None:
            rc = self.popen.poll()
            return rc is not None, rc
        if self.pid is not None and self.adopted:
            return procs.pid_gone(self.pid), None
        return False, None


def spawn(argv: list[str], log_path: Path, header: str, *, detached: bool) -> subprocess.Popen:
    """Start `argv` as a session (and group) leader, stdout and stderr appended to `log_path` after
    `header`. Unless detached, it gets SIGTERM when this process dies. Raises OSError when it
    cannot start (see spawn_error)."""
    with open(log_path, "ab") as out:
        out.write(header.encode())
        out.flush()
        return subprocess.Popen(
            argv, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT, close_fds=True,
            start_new_session=True,
            preexec_fn=None if detached else procs.pdeathsig_preexec(signal.SIGTERM))


def spawn_error(name: str, binary: str, e: OSError) -> str:
    """Why spawn() failed, in words a user can act on."""
    if isinstance(e, FileNotFoundError):
        return (f"cannot start {name}: {binary} does not exist. "
                "Set [llama] server_binary to your llama-server, or install the 'server' extra.")
    if isinstance(e, PermissionError):
        return f"cannot start {name}: {binary} is not executable (chmod +x it)"
    return f"cannot start {name}: {binary}: {e.strerror or e}"


def create_time(pid: int) -> float:
    """The process's start time (a PID record uses it to tell a reused PID), 0.0 if unknown."""
    try:
        return psutil.Process(pid).create_time()
    except psutil.Error:
        return 0.0


def own_group(pid: int) -> int | None:
    """`pid` when it leads its own process group (we spawn that way), else None."""
    try:
        return pid if os.getpgid(pid) == pid else None
    except OSError:
        return None


async def terminate(pid: int | None, pgid: int | None, proc: subprocess.Popen | None) -> str:
    """SIGTERM to the group, grace period, SIGKILL to the group, reap. Returns what it took."""
    if pid is None:
        return "nothing to stop"

    def gone() -> bool:
        if proc is not None:
            return proc.poll() is not None
        return procs.pid_gone(pid)

    send(pid, pgid, signal.SIGTERM)
    end = time.monotonic() + STOP_GRACE_S
    while time.monotonic() < end and not gone():
        await asyncio.sleep(0.05)
    how = "SIGTERM"
    if not gone():
        how = f"SIGKILL after {STOP_GRACE_S:.0f} s"
        send(pid, pgid, signal.SIGKILL)
        end = time.monotonic() + 5.0
        while time.monotonic() < end and not gone():
            await asyncio.sleep(0.05)
    if pgid is not None:  # anything left in the group (custom commands) goes too
        try:
            os.killpg(pgid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
    if proc is not None:
        try:
            proc.wait(timeout=1.0)
        except subprocess.TimeoutExpired:
            pass
    return how


def send(pid: int, pgid: int | None, sig: int) -> None:
    try:
        if pgid is not None:
            os.killpg(pgid, sig)
        else:
            procs.signal_tree(pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def reap(proc: subprocess.Popen | None, timeout: float = 0.5) -> None:
    """Collect an exited child's status (no zombie left behind)."""
    if proc is not None:
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            pass
