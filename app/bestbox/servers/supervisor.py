"""One Supervisor per llama-server. ONE asyncio task owns the state (llama-swap's lesson).

Public async methods (start/stop/restart/sweep/observe) put a command on the task's queue and await
its reply; everyone else reads `snapshot()` or subscribes. Slow I/O that must not delay a Stop (the
one-token readiness completion) runs in a helper task that posts its result back to the queue.

This module holds the owner task, its commands, the state changes (checked against the table in
`state`) and the crash / stop decisions. The mechanics live beside it: `start` (spawn, wait until
ready), `ports` (who holds the port), `adopt` (our servers from earlier runs, through PID records),
`monitor` (HTTP and process probing), `metrics` (folds that into stats), `launch` (spawn, signal,
reap), `logs` (log file, tail, readable reasons), `load_history`, `procs` (ports, PID files).
"""
from __future__ import annotations

import asyncio
import logging
import time
from pathlib import Path
from typing import Any, Callable

from .. import paths
from ..config import ServerConfig
from . import adopt, launch, procs
from .command import ServerCommand, build_command
from .events import SnapshotFeed, end_task
from .launch import ServerProcess
from .load_history import LoadHistory
from .logs import LogTail
from .monitor import Monitor
from .ports import check_port
from .restarts import Restarts
from .serving import ServingWatch
from .start import StartWatch, spawn_server
from .state import SETTLED, ServerSnapshot, ServerState, ServerStats, check_transition, info

log = logging.getLogger(__name__)
S = ServerState


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
        self.backoff_s = backoff_s        # the first automatic restart's delay (doubling after each)
        self.log_path = self.state_dir / f"{name}.log"
        self.logs = LogTail(self.log_path)
        self._load_history = LoadHistory(self.state_dir)
        self._queue: asyncio.Queue | None = None
        self._task: asyncio.Task | None = None
        self._get: asyncio.Future | None = None
        self._cmd: ServerCommand = self._build()
        # --- everything below is written by the owner task only ---
        self._state = S.STOPPED
        self._message = ""
        self._p: ServerProcess | None = None   # the process we watch
        self._watch: StartWatch | None = None  # while starting / loading
        self._gen = 0                          # events from an earlier process are ignored
        self._restarts = Restarts(backoff_s)
        self._serving: ServingWatch | None = None  # the health and numbers of a serving process
        self._mon = Monitor()  # its HTTP client lives as long as the owner task
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
        """Stop what is ours (SIGTERM group, grace, SIGKILL group, reap), also a server of ours that
        only its PID record still names. Idempotent. An external server is only no longer watched."""
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
        await end_task(self._task)
        self._task = None
        self._feed.release_waiters()  # nobody waits forever on a closed supervisor

    # ------------------------------------------------------------------ the owner task ----------
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
            if self._watch:
                self._watch.cancel()
            await self._mon.aclose()

    def _tick_interval(self) -> float:
        if self._state is S.CRASHED:
            return self._restarts.wait_s()
        return info(self._state).tick_s

    async def _command(self, kind: str, fut: asyncio.Future, args: tuple) -> None:
        result: Any = None
        here = info(self._state)
        if kind == "start":
            await self._do_start()
        elif kind == "stop":
            await self._do_stop()
        elif kind == "sweep":
            result = await self._do_sweep()
        elif kind == "observe":
            if here.no_process or self._state is S.EXTERNAL:
                await self._check_port(spawn=False)
        elif kind == "configure":
            self._pending = args
            if here.no_process:
                self._apply_pending()
                self._set(message=self._message)
        elif kind == "refuse":
            if here.can_start:  # a start refused before it began
                self._set(S.FAILED, args[0])
        if not fut.done():
            fut.set_result(result)

    async def _event(self, item: tuple) -> None:
        kind, gen = item[0], item[1]
        if gen != self._gen or self._watch is None:
            return  # from an earlier run
        if kind == "probe":
            ok, detail, _timings = item[2:]
            verdict = self._watch.probe_done(ok)
            if verdict == "ready":
                await self._on_ready()
            elif verdict == "fail":
                await self._fail_start(f"/health says OK but a one-token completion failed: {detail}")

    # ------------------------------------------------------------------ state --------------------
    def _build_snapshot(self) -> ServerSnapshot:
        st, cmd, p = (self._serving.stats if self._serving else ServerStats()), self._cmd, self._p
        here = info(self._state)
        alive = p is not None and p.pid is not None
        uptime = (time.time() - p.started_wall) if (p is not None and p.started_wall) else None
        return ServerSnapshot(
            name=self.name, state=self._state, pid=p.pid if p else None, host=cmd.host, port=cmd.port,
            base_url=cmd.base_url, model_path=str(cmd.model_path or cmd.configured_model or ""),
            model_name=st.model_name or (cmd.model_path.name if cmd.model_path else ""),
            using_demo_model=cmd.using_demo_model, ctx_size=self.cfg.ctx_size, ctx_per_slot=st.ctx_per_slot,
            uptime_s=round(uptime, 1) if uptime is not None else None,
            tokens_per_s=st.tokens_per_s if here.serving else None,
            requests_total=st.requests_total if here.serving else None,
            requests_processing=st.requests_processing if here.serving else None,
            busy_slots=st.busy_slots if here.serving else None, total_slots=st.total_slots,
            rss_bytes=st.rss_bytes if alive else None, cpu_percent=st.cpu_percent if alive else None,
            vram_bytes=st.vram_bytes if alive else None,
            load_progress=(self._watch.progress.value if self._watch else 1.0 if self._state is S.READY else None),
            message=self._message, restarts=self._restarts.count, last_exit=self._restarts.last_exit,
            last_exit_log=self._restarts.last_exit_log, owned=bool(p and p.owned), adopted=bool(p and p.adopted),
            custom_command=cmd.custom, log_path=str(self.log_path),
        )

    def _set(self, state: ServerState | None = None, message: str | None = None) -> None:
        """The one place the state changes (checked against the table), then everyone hears of it."""
        if state is not None and state is not self._state:
            check_transition(self._state, state)
            log.info("server %s: %s -> %s %s", self.name, self._state.value, state.value, message or "")
            self._state = state
            if self._serving:
                self._serving.restart_count()
        if message is not None:
            self._message = message
        self._feed.publish(self._build_snapshot())

    def _note(self, text: str) -> None:
        self.logs.append(f"[bestbox] {text}")

    def _auth(self) -> dict:
        return {"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}

    # ------------------------------------------------------------------ start -------------------
    def _build(self) -> ServerCommand:
        return build_command(self.name, self.cfg, api_key=self.api_key, server_binary=self.server_binary,
                             allow_demo=self.allow_demo)

    def _apply_pending(self) -> None:
        if self._pending is not None:
            cfg, api_key, binary = self._pending
            self._pending = None
            self.cfg = cfg
            self.api_key = self.api_key if api_key is None else api_key
            self.server_binary = self.server_binary if binary is None else binary
        self._cmd = self._build()

    async def _do_start(self) -> None:
        if not info(self._state).can_start:
            return  # already on its way, running, or not ours to start
        self._restarts.reset()
        await self._start_now()

    async def _start_now(self) -> None:
        self._apply_pending()
        if not self._cmd.ok:
            self._note(self._cmd.error)
            self._set(S.FAILED, self._cmd.error)
            return
        await self._check_port(spawn=True)

    async def _check_port(self, spawn: bool) -> None:
        v = await check_port(self.name, self.cfg.host, self.cfg.port, state_dir=self.state_dir, mon=self._mon,
                             base_url=self._cmd.base_url, headers=self._auth())
        if v.kind == "free":
            if spawn:
                self._spawn()
            elif self._state is not S.FAILED:
                self._set(S.STOPPED, f"port {self.cfg.port} is free")
        elif v.kind == "ours":
            self._adopt(v.record)
        elif v.kind == "external":
            self._watch_process(ServerProcess("external", v.pid))
            self._set(S.EXTERNAL, v.message)
        else:
            self._set(S.PORT_CONFLICT, v.message)

    def _watch_process(self, p: ServerProcess) -> None:
        """From now on we watch `p` (fresh numbers, a new generation of events)."""
        self._gen += 1
        self._p = p
        self._serving = ServingWatch(self._mon, self._cmd.base_url, self._auth(), p.pid)
        self._mon.track(p.pid)

    def _spawn(self) -> None:
        self.logs.restart()
        try:
            p = spawn_server(self.name, self._cmd, log_path=self.log_path, api_key=self.api_key,
                             detached=self.detached, state_dir=self.state_dir)
        except OSError as e:
            msg = launch.spawn_error(self.name, self._cmd.argv[0], e)
            self._note(msg)
            self._set(S.FAILED, msg)
            return
        self._watch_process(p)
        self._watch = self._start_watch(p)
        what = "restarting" if self._restarts.count else "starting"
        demo = " with the bundled demo model" if self._cmd.using_demo_model else ""
        self._set(S.STARTING, f"{what} on port {self.cfg.port}{demo}")

    def _adopt(self, rec: procs.PidRecord) -> None:
        self._watch_process(adopt.adopted(rec))
        self.logs.start_at_end()
        self._watch = self._start_watch(self._p)
        self._note(f"adopted {self.name} (PID {rec.pid}) started earlier by PID {rec.app_pid}")
        self._set(S.STARTING, f"adopting our server from an earlier run (PID {rec.pid})")

    def _start_watch(self, p: ServerProcess) -> StartWatch:
        gen = self._gen

        async def post(ok: bool, detail: str, timings: dict) -> None:  # from the probe's helper task
            if self._queue is not None:
                await self._queue.put(("probe", gen, ok, detail, timings))
        prev = self._load_history.get(str(self._cmd.model_path)) if p.owned else None
        return StartWatch(p, self.log_path, self.cfg.start_timeout_s, mon=self._mon, base_url=self._cmd.base_url,
                          headers=self._auth(), post=post, prev_load_s=prev)

    async def _tick_starting(self, new_lines: list[str]) -> None:
        step = await self._watch.step(new_lines, self.logs.partial)
        if step == "exited":
            reason = self._remember_exit(self._watch.returncode)
            self._forget_process()
            self._note(reason)
            self._set(S.FAILED, reason)
        elif step == "timeout":
            await self._fail_start(self._watch.timeout_message(self.logs.tail(5)))
        elif step == "loading" and self._state is S.STARTING:
            self._set(S.LOADING, "loading the model")
        elif step == "probing":
            self._set(S.LOADING, "model loaded; checking that it can generate")
        else:
            self._set()

    async def _on_ready(self) -> None:
        self._watch = None
        # The numbers' baseline before anyone gets a client: the first answer counts as a request.
        await self._serving.baseline()
        p = self._p
        if p is not None and p.owned and p.spawned_mono:
            self._load_history.remember(str(self._cmd.model_path), time.monotonic() - p.spawned_mono)
        note = "; ".join(self._cmd.notes)
        self._set(S.READY, ("adopted our server from an earlier run" if p and p.adopted else "ready")
                  + (f" ({note})" if note else ""))

    async def _fail_start(self, reason: str) -> None:
        if self._p is not None and self._p.ours:
            # Ours (spawned, or adopted through its PID record) but unusable: stop it, so that it
            # neither holds the port nor outlives its PID record.
            await launch.terminate(self._p.pid, self._p.pgid, self._p.popen)
        self._forget_process()
        self._note(reason)
        self._set(S.FAILED, reason)

    # ------------------------------------------------------------------ ticks -------------------
    async def _tick(self) -> None:
        new = self.logs.read_new()
        if info(self._state).loading:
            await self._tick_starting(new)
        elif self._state is S.EXTERNAL:
            await self._tick_external()
        elif info(self._state).serving:
            await self._tick_ready()
        elif self._state is S.CRASHED and self._restarts.due():
            await self._start_now()

    async def _tick_ready(self) -> None:
        exited, rc = self._p.exit_status()
        if exited:
            self._on_crash(rc)
            return
        checked = await self._serving.tick_ours()
        if checked is None:
            return
        healthy, problem = checked
        if not healthy:
            self._set(S.DEGRADED, problem)
        elif self._state is S.DEGRADED and not problem:
            self._set(S.READY, "ready again")
        else:
            self._set()

    async def _tick_external(self) -> None:
        if await self._serving.tick_external():
            self._set()
            return
        self._forget_process()
        self._set(S.STOPPED, f"the external server on port {self.cfg.port} stopped answering")

    # ------------------------------------------------------------------ crash / stop -----------
    def _remember_exit(self, rc: int | None) -> str:
        self.logs.read_new()
        return self._restarts.record_exit(self.logs.tail(60), port=self.cfg.port, returncode=rc,
                                          model=str(self._cmd.model_path or self.cfg.model))

    def _on_crash(self, rc: int | None) -> None:
        again, msg = self._restarts.after_crash(self._remember_exit(rc), self.cfg.max_restarts)
        self._forget_process()
        self._note(msg)
        self._set(S.CRASHED if again else S.FAILED, msg)

    def _forget_process(self) -> None:
        if self._watch:
            self._watch.cancel()
            self._watch = None
        p, self._p = self._p, None
        if p is not None and p.ours and p.pid is not None:
            procs.remove_pid(self.state_dir, self.name, p.pid)
        if p is not None:
            launch.reap(p.popen, timeout=0.5)
        self._gen += 1
        self._mon.track(None)
        self._serving = None  # a stopped server has no speed and no request count

    async def _do_stop(self) -> None:
        if self._state is S.EXTERNAL:
            self._forget_process()
            self._set(S.STOPPED, f"no longer watching the external server on port {self.cfg.port} "
                                 "(it keeps running: it is not ours)")
            return
        p = self._p
        if p is None or not p.ours:
            rec = adopt.live_record(self.state_dir, self.name) if p is None else None
            if rec is not None:  # ours by its PID record, whatever the config says now
                how = await adopt.stop_recorded(self.state_dir, self.name, rec)
                self._note(f"stopped our {self.name} (PID {rec.pid}) on port {rec.port} ({how})")
            if self._state is not S.STOPPED or rec is not None:
                self._forget_process()
                self._set(S.STOPPED, "stopped")
            return
        self._set(S.STOPPING, f"stopping (PID {p.pid})")
        how = await launch.terminate(p.pid, p.pgid, p.popen)
        self._forget_process()
        self._note(f"stopped ({how})")
        self._set(S.STOPPED, "stopped")

    async def _do_sweep(self) -> str:
        action, rec = adopt.plan_sweep(self.state_dir, self.name, watched_pid=self._p.pid if self._p else None,
                                       port=self.cfg.port)
        if action == "stale":
            return f"removed a stale PID file of {self.name} (PID {rec.pid} is gone)"
        if not action or not info(self._state).no_process:
            return ""
        if action == "adopt":
            self._adopt(rec)
            return f"adopted {self.name} (PID {rec.pid}) on port {rec.port}"
        await adopt.stop_recorded(self.state_dir, self.name, rec)  # ours, from a config that no longer applies
        return f"stopped our leftover {self.name} (PID {rec.pid}) on old port {rec.port}"
