"""One Supervisor per llama-server. ONE asyncio task owns the state (llama-swap's lesson).

Public async methods (start/stop/restart/sweep/observe) put a command on the task's queue and await
its reply; everyone else reads `snapshot()` or subscribes. Slow I/O that must not delay a Stop (the
one-token readiness completion) runs in a helper task that posts its result back to the queue.

This module holds the owner task, its commands, the state transitions and the start / stop / crash
decisions. The mechanics live beside it: `monitor` (HTTP and process probing, returns data),
`metrics` (folds that data into stats), `launch` (spawn, signal, reap), `logs` (log file, tail,
readable reasons), `load_history` (previous load times), `procs` (ports, PID files).
"""
from __future__ import annotations

import asyncio
import logging
import os
import subprocess
import time
from pathlib import Path
from typing import Any, Callable

from .. import paths
from ..config import ServerConfig
from . import launch, logs, procs
from .command import ServerCommand, build_command
from .events import SnapshotFeed
from .load_history import LoadHistory
from .logs import LoadProgress, LogTail, exit_description, readable_reason
from .metrics import apply_sample
from .monitor import Monitor
from .state import SETTLED, ServerSnapshot, ServerState, _Stats

log = logging.getLogger(__name__)
S = ServerState

PROBE_ATTEMPTS = 3  # failed one-token completions (after /health 200) before a start fails


class Supervisor:
    def __init__(self, name: str, cfg: ServerConfig, *, api_key: str = "", server_binary: str = "",
                 state_dir: Path | None = None, detached: bool = False, allow_demo: bool = True,
                 backoff_s: float = 0.5) -> None:
        self.name = name
        self.cfg = cfg
        self.api_key = api_key
        self.server_binary = server_binary
        self.state_dir = Path(state_dir) if state_dir else paths.state_dir()
        self.state_dir.mkdir(parents=True, exist_ok=True)
        self.detached = detached          # no parent-death signal: the server outlives this process
        self.allow_demo = allow_demo
        self.backoff_s = backoff_s
        self.log_path = self.state_dir / f"{name}.log"
        self.logs = LogTail(self.log_path)
        self._load_history = LoadHistory(self.state_dir)
        self._queue: asyncio.Queue | None = None
        self._task: asyncio.Task | None = None
        self._get: asyncio.Future | None = None
        self._cmd: ServerCommand = build_command(name, cfg, api_key=api_key, server_binary=server_binary,
                                                 allow_demo=allow_demo)
        # --- everything below is written by the owner task only ---
        self._state = S.STOPPED
        self._message = ""
        self._proc: subprocess.Popen | None = None
        self._pid: int | None = None
        self._pgid: int | None = None
        self._owned = False
        self._adopted = False
        self._gen = 0
        self._started_wall: float | None = None
        self._deadline = 0.0
        self._last_log_size = 0
        self._probe: asyncio.Task | None = None
        self._probe_failures = 0
        self._restarts = 0
        self._restart_at = 0.0
        self._health_bad = 0
        self._tick_n = 0
        self._need_props = True
        self._stats = _Stats()
        self._mon = Monitor()  # its HTTP client lives as long as the owner task
        self._progress = LoadProgress()
        self._spawned_mono: float | None = None
        self._prev_load_s: float | None = None
        self._pending: tuple | None = None
        self._feed = SnapshotFeed(name, self._build_snapshot())  # the snapshot everyone reads

    # ------------------------------------------------------------------ public (any task) -------
    def snapshot(self) -> ServerSnapshot:
        return self._feed.current

    def subscribe(self, cb: Callable[[ServerSnapshot], Any]) -> Callable[[], None]:
        """cb(snapshot) on the event loop after every change. Exceptions are logged, never raised."""
        return self._feed.subscribe(cb)

    def subscribe_logs(self, cb: Callable[[list[str]], Any]) -> Callable[[], None]:
        return self.logs.subscribe(cb)

    def log_lines(self, n: int = 200) -> list[str]:
        return self.logs.tail(n)

    @property
    def command(self) -> ServerCommand:
        return self._cmd

    async def start(self, wait: bool = True, timeout: float | None = None) -> ServerSnapshot:
        """Start (or adopt, or recognise an external server). With wait, return once settled:
        ready, external, failed, port_conflict or stopped."""
        await self._call("start")
        return await self.wait_settled(timeout) if wait else self._feed.current

    async def stop(self) -> ServerSnapshot:
        """Stop what we own (SIGTERM group, grace, SIGKILL group, reap). Idempotent. An external
        server is only no longer watched."""
        await self._call("stop")
        return self._feed.current

    async def restart(self, wait: bool = True, timeout: float | None = None) -> ServerSnapshot:
        await self._call("stop")
        return await self.start(wait, timeout)

    async def sweep(self) -> str:
        """Find our leftover from a PID file: adopt it (same port), stop it (old config), or remove
        a stale file. Returns what was done, in words ('' when nothing)."""
        return await self._call("sweep")

    async def observe(self) -> ServerSnapshot:
        """While stopped: look at the port without starting anything (external / port_conflict)."""
        await self._call("observe")
        return self._feed.current

    async def configure(self, cfg: ServerConfig, api_key: str | None = None,
                        server_binary: str | None = None) -> ServerSnapshot:
        """New settings: applied now when nothing runs, else at the next (re)start."""
        await self._call("configure", cfg, api_key, server_binary)
        return self._feed.current

    async def refuse(self, message: str) -> ServerSnapshot:
        await self._call("refuse", message)
        return self._feed.current

    async def wait_for(self, pred: Callable[[ServerSnapshot], bool], timeout: float | None = None) -> ServerSnapshot:
        return await self._feed.wait_for(pred, timeout)

    async def wait_settled(self, timeout: float | None = None) -> ServerSnapshot:
        return await self.wait_for(lambda s: s.state in SETTLED, timeout)

    async def close(self) -> None:
        """End the owner task (does not stop the server: call stop() first for that)."""
        if self._task and not self._task.done():
            self._task.cancel()
            try:
                await self._task
            except (asyncio.CancelledError, Exception):
                pass
        self._task = None
        self._feed.release_waiters()  # nobody waits forever on a closed supervisor

    # ------------------------------------------------------------------ plumbing -------------
    def _ensure_task(self) -> None:
        if self._task is None or self._task.done():
            self._queue = asyncio.Queue()
            self._get = None
            self._task = asyncio.get_running_loop().create_task(self._run(), name=f"supervisor-{self.name}")

    async def _call(self, kind: str, *args) -> Any:
        self._ensure_task()
        fut = asyncio.get_running_loop().create_future()
        await self._queue.put(("cmd", kind, fut, args))
        return await fut

    async def _run(self) -> None:
        self._mon.open()
        try:
            while True:
                if self._get is None:
                    self._get = asyncio.ensure_future(self._queue.get())
                done, _ = await asyncio.wait({self._get}, timeout=self._tick_interval())
                item = self._get.result() if done else None
                if done:
                    self._get = None
                try:
                    if item is None:
                        await self._tick()
                    elif item[0] == "cmd":
                        await self._command(*item[1:])
                    else:
                        await self._event(item)
                except asyncio.CancelledError:
                    raise
                except Exception as e:  # never let one bad step kill supervision
                    log.exception("supervisor %s: step failed", self.name)
                    if item and item[0] == "cmd" and not item[2].done():
                        item[2].set_exception(e)
        finally:
            if self._get is not None:
                self._get.cancel()
            if self._probe:
                self._probe.cancel()
            await self._mon.aclose()

    def _tick_interval(self) -> float:
        if self._state in (S.STARTING, S.LOADING):
            return 0.25
        if self._state in (S.READY, S.DEGRADED):
            return 0.5
        if self._state is S.CRASHED:
            return max(0.05, min(0.5, self._restart_at - time.monotonic()))
        return 1.0

    async def _command(self, kind: str, fut: asyncio.Future, args: tuple) -> None:
        result: Any = None
        if kind == "start":
            await self._do_start()
        elif kind == "stop":
            await self._do_stop()
        elif kind == "sweep":
            result = await self._do_sweep()
        elif kind == "observe":
            if self._state in (S.STOPPED, S.PORT_CONFLICT, S.FAILED, S.EXTERNAL):
                await self._check_port(spawn=False)
        elif kind == "configure":
            self._pending = args
            if self._state in (S.STOPPED, S.FAILED, S.PORT_CONFLICT):
                self._apply_pending()
                self._set(message=self._message)
        elif kind == "refuse":
            if self._state not in (S.READY, S.DEGRADED, S.STARTING, S.LOADING, S.EXTERNAL):
                self._set(S.FAILED, args[0])
        if not fut.done():
            fut.set_result(result)

    async def _event(self, item: tuple) -> None:
        kind, gen = item[0], item[1]
        if gen != self._gen:
            return  # from an earlier run
        if kind == "probe":
            self._probe = None
            ok, detail, timings = item[2:]
            if ok:
                self._probe_failures = 0
                self._progress.value = 1.0
                if self._owned and self._spawned_mono:
                    self._load_history.remember(str(self._cmd.model_path), time.monotonic() - self._spawned_mono)
                note = "; ".join(self._cmd.notes)
                self._set(S.READY, ("adopted our server from an earlier run" if self._adopted else "ready")
                          + (f" ({note})" if note else ""))
            elif self._state in (S.STARTING, S.LOADING):
                self._probe_failures += 1
                if self._probe_failures >= PROBE_ATTEMPTS:
                    await self._fail_start(f"/health says OK but a one-token completion failed: {detail}")

    # ------------------------------------------------------------------ state --------------------
    def _build_snapshot(self) -> ServerSnapshot:
        st, cmd = self._stats, self._cmd
        serving = self._state in (S.READY, S.DEGRADED, S.EXTERNAL)
        uptime = (time.time() - self._started_wall) if (self._started_wall and self._state not in
                                                        (S.STOPPED, S.FAILED, S.PORT_CONFLICT, S.CRASHED)) else None
        return ServerSnapshot(
            name=self.name, state=self._state, pid=self._pid, host=cmd.host, port=cmd.port,
            base_url=cmd.base_url, model_path=str(cmd.model_path or cmd.configured_model or ""),
            model_name=st.model_name or (cmd.model_path.name if cmd.model_path else ""),
            using_demo_model=cmd.using_demo_model, ctx_size=self.cfg.ctx_size, ctx_per_slot=st.ctx_per_slot,
            uptime_s=round(uptime, 1) if uptime is not None else None,
            tokens_per_s=st.tokens_per_s, requests_total=st.requests_total,
            requests_processing=st.requests_processing if serving else None,
            busy_slots=st.busy_slots if serving else None, total_slots=st.total_slots,
            rss_bytes=st.rss_bytes if self._pid else None, cpu_percent=st.cpu_percent if self._pid else None,
            vram_bytes=st.vram_bytes if self._pid else None,
            load_progress=self._progress.value if self._state in (S.STARTING, S.LOADING, S.READY) else None,
            message=self._message, restarts=self._restarts, owned=self._owned, adopted=self._adopted,
            custom_command=cmd.custom, log_path=str(self.log_path),
        )

    def _set(self, state: ServerState | None = None, message: str | None = None) -> None:
        if state is not None and state is not self._state:
            log.info("server %s: %s -> %s %s", self.name, self._state.value, state.value, message or "")
            self._state = state
            self._tick_n = 0
        if message is not None:
            self._message = message
        self._publish()

    def _publish(self) -> None:
        self._feed.publish(self._build_snapshot())

    def _note(self, text: str) -> None:
        self.logs.append(f"[bestbox] {text}")

    # ------------------------------------------------------------------ start -------------------
    def _apply_pending(self) -> None:
        if self._pending is None:
            return
        cfg, api_key, binary = self._pending
        self._pending = None
        self.cfg = cfg
        if api_key is not None:
            self.api_key = api_key
        if binary is not None:
            self.server_binary = binary
        self._cmd = build_command(self.name, self.cfg, api_key=self.api_key, server_binary=self.server_binary,
                                  allow_demo=self.allow_demo)

    async def _do_start(self, restart: bool = False) -> None:
        if self._state in (S.STARTING, S.LOADING, S.READY, S.DEGRADED, S.EXTERNAL):
            return
        self._apply_pending()
        if not restart:
            self._restarts = 0
        self._cmd = build_command(self.name, self.cfg, api_key=self.api_key, server_binary=self.server_binary,
                                  allow_demo=self.allow_demo)
        if not self._cmd.ok:
            self._note(self._cmd.error)
            self._set(S.FAILED, self._cmd.error)
            return
        await self._check_port(spawn=True)

    async def _check_port(self, spawn: bool) -> None:
        host, port = self.cfg.host, self.cfg.port
        loop = asyncio.get_running_loop()
        if await loop.run_in_executor(None, procs.port_is_free, host, port):
            if spawn:
                self._spawn()
            elif self._state is not S.FAILED:
                self._set(S.STOPPED, f"port {port} is free")
            return
        rec = procs.read_pid(self.state_dir, self.name)
        if rec and rec.port == port:
            p = procs.record_alive(rec)
            if p is not None:
                self._adopt(rec)
                return
        holder = await loop.run_in_executor(None, procs.port_holder, port)
        if holder.is_llama_server or await self._mon.looks_like_llama(self._cmd.base_url):
            self._pid, self._owned, self._adopted = holder.pid, False, False
            self._need_props = True
            who = f" (PID {holder.pid})" if holder.pid else ""
            if not await self._mon.accepts_key(self._cmd.base_url, self._auth()):
                # Watching it would show "external" while every request fails with 401.
                self._pid = None
                self._set(S.PORT_CONFLICT, f"a llama-server we did not start{who} holds port {port} and rejects "
                                           f"our API key. Stop it, set [llama] api_key to its key, or give "
                                           f"[servers.{self.name}] another port.")
                return
            self._set(S.EXTERNAL, f"a llama-server we did not start{who} already listens on port {port}: "
                                  "monitoring it, never stopping it")
            return
        self._pid = None
        self._set(S.PORT_CONFLICT, f"{holder.describe()}. Stop that process or give "
                                   f"[servers.{self.name}] another port.")

    def _spawn(self) -> None:
        argv = self._cmd.argv
        logs.rotate(self.log_path)
        masked = [("***" if self.api_key and a == self.api_key else a) for a in argv]
        self.logs.restart()
        self._progress.reset()
        try:
            self._proc = launch.spawn(argv, self.log_path, f"[bestbox] starting {self.name}: {' '.join(masked)}\n",
                                      detached=self.detached)
        except OSError as e:
            msg = launch.spawn_error(self.name, argv[0], e)
            self._note(msg)
            self._set(S.FAILED, msg)
            return
        self._gen += 1
        self._pid = self._pgid = self._proc.pid
        self._owned, self._adopted = True, False
        self._started_wall = time.time()
        self._spawned_mono = time.monotonic()
        self._prev_load_s = self._load_history.get(str(self._cmd.model_path))
        self._deadline = time.monotonic() + self.cfg.start_timeout_s
        self._last_log_size = 0
        self._probe_failures = 0
        self._health_bad = 0
        self._need_props = True
        self._stats = _Stats()
        self._mon.track(self._pid)
        procs.write_pid(self.state_dir, procs.PidRecord(
            name=self.name, pid=self._pid, port=self.cfg.port, host=self.cfg.host,
            model=str(self._cmd.model_path or ""), started_at=self._started_wall, app_pid=os.getpid(),
            detached=self.detached, create_time=launch.create_time(self._pid), log=str(self.log_path),
            argv=masked))
        what = "restarting" if self._restarts else "starting"
        demo = " with the bundled demo model" if self._cmd.using_demo_model else ""
        self._set(S.STARTING, f"{what} on port {self.cfg.port}{demo}")

    def _adopt(self, rec: procs.PidRecord) -> None:
        self._gen += 1
        self._proc = None
        self._pid = rec.pid
        self._pgid = launch.own_group(rec.pid)
        self._owned, self._adopted = False, True
        self._started_wall = rec.started_at
        self._deadline = time.monotonic() + self.cfg.start_timeout_s
        self._probe_failures = 0
        self._health_bad = 0
        self._need_props = True
        self._stats = _Stats()
        self._mon.track(rec.pid)
        self.logs.start_at_end()
        self._last_log_size = logs.file_size(self.log_path)
        self._note(f"adopted {self.name} (PID {rec.pid}) started earlier by PID {rec.app_pid}")
        self._set(S.STARTING, f"adopting our server from an earlier run (PID {rec.pid})")

    # ------------------------------------------------------------------ ticks -------------------
    async def _tick(self) -> None:
        new = self.logs.read_new()
        if self._state in (S.STARTING, S.LOADING):
            for ln in new:
                self._progress.feed(ln)
            self._progress.feed(self.logs.partial)
            if self._owned and self._spawned_mono:
                self._progress.estimate_from_time(time.monotonic() - self._spawned_mono, self._prev_load_s)
            await self._tick_starting()
        elif self._state in (S.READY, S.DEGRADED):
            await self._tick_ready()
        elif self._state is S.EXTERNAL:
            await self._tick_external()
        elif self._state is S.CRASHED and time.monotonic() >= self._restart_at:
            self._apply_pending()
            self._cmd = build_command(self.name, self.cfg, api_key=self.api_key,
                                      server_binary=self.server_binary, allow_demo=self.allow_demo)
            if not self._cmd.ok:
                self._set(S.FAILED, self._cmd.error)
                return
            await self._check_port(spawn=True)

    def _exit_code(self) -> tuple[bool, int | None]:
        if self._proc is not None:
            rc = self._proc.poll()
            return rc is not None, rc
        if self._pid is not None and self._adopted:
            return procs.pid_gone(self._pid), None
        return False, None

    async def _tick_starting(self) -> None:
        exited, rc = self._exit_code()
        if exited:
            self.logs.read_new()
            reason = readable_reason(self.logs.tail(60), port=self.cfg.port,
                                     model=str(self._cmd.model_path or self.cfg.model), returncode=rc)
            self._forget_process()
            self._note(reason)
            self._set(S.FAILED, reason)
            return
        now = time.monotonic()
        size = logs.file_size(self.log_path)
        if size != self._last_log_size:  # the log moves: loading progresses, give it more time
            self._last_log_size = size
            self._deadline = max(self._deadline, now + self.cfg.start_timeout_s)
        if now > self._deadline:
            await self._fail_start(f"not ready after {self.cfg.start_timeout_s:.0f} s without progress in its log; "
                                   f"last log line: {next(iter(reversed(self.logs.tail(5))), '(none)')}")
            return
        if self._probe is not None:
            self._set()
            return
        code = await self._mon.health_code(self._cmd.base_url)
        if code == 503:
            if self._state is S.STARTING:
                self._set(S.LOADING, "loading the model")
            else:
                self._set()
        elif code == 200:
            self._probe = asyncio.ensure_future(self._run_probe(self._gen))
            self._set(S.LOADING, "model loaded; checking that it can generate")
        else:
            self._set()

    async def _fail_start(self, reason: str) -> None:
        if self._owned:
            await self._terminate()
        self._forget_process()
        self._note(reason)
        self._set(S.FAILED, reason)

    async def _tick_ready(self) -> None:
        exited, rc = self._exit_code()
        if exited:
            self._on_crash(rc)
            return
        self._tick_n += 1
        if self._tick_n % 2:
            return
        health = await self._mon.health(self._cmd.base_url)
        if health.ok:
            self._health_bad = 0
            if self._state is S.DEGRADED:
                self._set(S.READY, "ready again")
        else:
            self._health_bad += 1
            if self._health_bad >= 2:
                self._set(S.DEGRADED, health.problem)
        await self._collect_stats()
        self._set()

    async def _tick_external(self) -> None:
        self._tick_n += 1
        code = await self._mon.health_code(self._cmd.base_url)
        if code is None:
            self._health_bad += 1
            if self._health_bad >= 3:
                self._pid = None
                self._set(S.STOPPED, f"the external server on port {self.cfg.port} stopped answering")
            return
        self._health_bad = 0
        if self._tick_n % 2 == 0:
            await self._collect_stats()
        self._set()

    async def _run_probe(self, gen: int) -> None:
        """Helper task: the one-token completion, its result posted back to the owner's queue."""
        try:
            ok, detail, timings = await self._mon.readiness(self._cmd.base_url, self._auth())
        except asyncio.CancelledError:
            return
        if self._queue is not None:
            await self._queue.put(("probe", gen, ok, detail, timings))

    def _auth(self) -> dict:
        return {"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}

    async def _collect_stats(self) -> None:
        sample = await self._mon.collect(self._cmd.base_url, self._auth(), pid=self._pid,
                                         props=self._need_props, vram=self._tick_n % 10 == 0)
        if sample.props_read:
            self._need_props = False
        apply_sample(self._stats, sample)

    # ------------------------------------------------------------------ crash / stop -----------
    def _on_crash(self, rc: int | None) -> None:
        self.logs.read_new()
        reason = readable_reason(self.logs.tail(40), port=self.cfg.port, model=str(self._cmd.model_path),
                                 returncode=rc)
        if rc is not None and rc < 0:
            reason = f"llama-server {exit_description(rc)}"
        elif rc is None:
            reason = "llama-server exited (it was not our child, so its exit code is unknown)"
        self._forget_process()
        if self._restarts < self.cfg.max_restarts:
            delay = self.backoff_s * (2 ** self._restarts)
            self._restarts += 1
            self._restart_at = time.monotonic() + delay
            msg = f"{reason}; restarting in {delay:.1f} s (attempt {self._restarts} of {self.cfg.max_restarts})"
            self._note(msg)
            self._set(S.CRASHED, msg)
        else:
            msg = f"{reason}; gave up after {self.cfg.max_restarts} automatic restarts"
            self._note(msg)
            self._set(S.FAILED, msg)

    def _forget_process(self) -> None:
        if self._probe:
            self._probe.cancel()
            self._probe = None
        if self._pid is not None and (self._owned or self._adopted):
            procs.remove_pid(self.state_dir, self.name, self._pid)
        launch.reap(self._proc, timeout=0.5)
        self._gen += 1
        self._proc = None
        self._pid = self._pgid = None
        self._mon.track(None)
        self._owned = self._adopted = False
        self._started_wall = None

    async def _do_stop(self) -> None:
        if self._state is S.EXTERNAL:
            self._pid = None
            self._set(S.STOPPED, f"no longer watching the external server on port {self.cfg.port} "
                                 "(it keeps running: it is not ours)")
            return
        if self._pid is None or not (self._owned or self._adopted):
            if self._state is not S.STOPPED:
                self._forget_process()
                self._set(S.STOPPED, "stopped")
            return
        self._set(S.STOPPING, f"stopping (PID {self._pid})")
        how = await self._terminate()
        self._forget_process()
        self._note(f"stopped ({how})")
        self._set(S.STOPPED, "stopped")

    async def _terminate(self) -> str:
        """SIGTERM to the group, grace period, SIGKILL to the group, reap. Returns what it took."""
        return await launch.terminate(self._pid, self._pgid, self._proc)

    # ------------------------------------------------------------------ sweep -------------------
    async def _do_sweep(self) -> str:
        rec = procs.read_pid(self.state_dir, self.name)
        if rec is None:
            return ""
        if self._pid is not None and rec.pid == self._pid:
            return ""  # that is the one we watch
        if procs.record_alive(rec) is None:
            procs.remove_pid(self.state_dir, self.name, rec.pid)
            return f"removed a stale PID file of {self.name} (PID {rec.pid} is gone)"
        if self._state not in (S.STOPPED, S.FAILED, S.PORT_CONFLICT):
            return ""
        if rec.port == self.cfg.port:
            self._adopt(rec)
            return f"adopted {self.name} (PID {rec.pid}) on port {rec.port}"
        # Ours, but from a config that no longer applies: clean it up.
        self._pid, self._pgid, self._adopted = rec.pid, launch.own_group(rec.pid), True
        await self._terminate()
        self._forget_process()
        procs.remove_pid(self.state_dir, self.name)
        return f"stopped our leftover {self.name} (PID {rec.pid}) on old port {rec.port}"
