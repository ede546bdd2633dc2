"""A remote server's local stand-in (`fallback = "local"` in its config section): this tier's own
llama-server, built from the same section's model, port and ctx_size, for the time the team server
does not answer.

Started on demand, not kept warm. A desktop points its heavy tier at a team server because it lacks
the memory (VRAM) to keep the heavy model loaded beside everything else; a warm stand-in would hold
that memory all day for a rare outage, and a desktop that can afford it does not need the team
server. On demand costs one model load, and the load begins at the first failed background check
(every 2–3 s), usually before the next question; a turn that needs it at once waits for the load
(`ready_client`). The background start is armed by starting the tier (`ServerManager.start`, or
switching it to remote at run time) and disarmed by stopping it: with `start_servers_on_launch = false`
nothing loads until a turn asks. Once the remote has served again for `keep_after_back_s` (config, 60 s by
default) with nothing running on the stand-in, the stand-in is stopped: the memory goes back, the next
turns go remote anyway.

BestBox owns only what it started: the stand-in is a `Supervisor` of its own name (`heavy-local`:
its own log, its own PID record, swept like the others); the remote server is only watched.
"""
from __future__ import annotations

import asyncio
import logging
from typing import Any, Callable

from .remote import RemoteSupervisor
from .state import ServerSnapshot, ServerState
from .supervisor import Supervisor

log = logging.getLogger(__name__)
S = ServerState
SUFFIX = "-local"


def because(remote: ServerSnapshot) -> str:
    """Why a stand-in runs, from the remote's state: "team server unreachable"."""
    return "team server " + remote.state.value.replace("_", " ")


def local_config(cfg):
    """The section as a local server: the same model, port and sizes, without the remote address."""
    return cfg.model_copy(update={"url": ""})


class LocalFallback:
    def __init__(self, name: str, config, remote: RemoteSupervisor, sup_args: dict,
                 subscribers: list[Callable[[ServerSnapshot], Any]] = (), armed: bool = False) -> None:
        self.name = name
        self.remote = remote
        self.cfg = local_config(config.server(name))
        self.sup = Supervisor(name + SUFFIX, self.cfg, api_key=config.llama.api_key,
                              server_binary=config.llama.server_binary, **sup_args)
        self.keep_after_back_s = self.cfg.keep_after_back_s
        self.started_because = ""   # why this process started the stand-in (the CLI derives it instead)
        self.armed = armed   # may start in the background when the remote stops answering
        self._subs: dict[Callable, Callable[[], None]] = {}   # the manager's subscribers, to the stand-in
        for cb in subscribers:
            self.add_subscriber(cb)
        self._unwatch = remote.subscribe(self._on_remote)
        self._clients: dict[tuple, Any] = {}
        self._tasks: set[asyncio.Task] = set()
        self._stopper: asyncio.Task | None = None

    def add_subscriber(self, cb: Callable[[ServerSnapshot], Any]) -> None:
        self._subs.setdefault(cb, self.sup.subscribe(cb))

    def remove_subscriber(self, cb: Callable[[ServerSnapshot], Any]) -> None:
        unsubscribe = self._subs.pop(cb, None)
        if unsubscribe is not None:
            unsubscribe()

    def unwatch(self) -> None:
        """Stop following the remote: nothing starts or stops the stand-in from here (the CLI only looks)."""
        self._unwatch()
        self._unwatch = lambda: None

    def same(self, config, remote) -> bool:
        return remote is self.remote and local_config(config.server(self.name)) == self.cfg

    # -- the remote's state decides ---------------------------------------------------------------
    def _on_remote(self, snap: ServerSnapshot) -> None:
        row = snap.info
        if row.serving:
            if self._stopper is None and self._ours_running():
                self._stopper = self._spawn(self._stop_when_back())
        elif row.settled and snap.state is not S.STOPPED and self.armed:
            if self._stopper is not None:
                self._stopper.cancel()
                self._stopper = None
            if self.sup.snapshot().state is S.STOPPED:  # not after a failed start: a turn may retry that
                log.info("%s: remote %s (%s): starting the local stand-in", self.name, snap.state.value, snap.url)
                self.started_because = because(snap)
                self._spawn(self.sup.start(wait=False))

    def _spawn(self, coro) -> asyncio.Task:
        t = asyncio.ensure_future(coro)
        self._tasks.add(t)
        t.add_done_callback(self._tasks.discard)
        return t

    def _ours_running(self) -> bool:
        s = self.sup.snapshot()
        return s.info.running and (s.owned or s.adopted)

    async def _stop_when_back(self) -> None:
        try:
            await asyncio.sleep(self.keep_after_back_s)
            while (self.sup.snapshot().requests_processing or 0) > 0:  # a turn still answers there
                await asyncio.sleep(2.0)
            if self.remote.snapshot().info.serving and self._ours_running():
                log.info("%s: the remote is back: stopping the local stand-in", self.name)
                await self.sup.stop()
        finally:
            if self._stopper is asyncio.current_task():
                self._stopper = None

    # -- a turn asks --------------------------------------------------------------------------------
    async def ready_client(self, timeout: float | None = None):
        """An LLMClient for the stand-in, started (and waited for) when needed; None if it cannot serve.
        Callable from another event loop (the window's turns run on the pipeline thread's loop): the
        start and the wait run where the supervision lives, the client is made for the caller's loop."""
        here = asyncio.get_running_loop()
        home = self._home_loop() or here
        work = self._serving(timeout or self.cfg.start_timeout_s)
        if home is here:
            snap = await work
        else:
            snap = await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(work, home))
        if not snap.serving:
            log.warning("%s: the local stand-in cannot serve: %s", self.name, snap.message)
            return None
        from ..llm.client import LLMClient

        key = (snap.base_url, id(here))
        if key not in self._clients:
            self._clients[key] = LLMClient(snap.base_url, self.sup.api_key, name=self.name, stand_in=True)
        return self._clients[key]

    async def _serving(self, timeout: float) -> ServerSnapshot:
        snap = self.sup.snapshot()
        if snap.serving:
            return snap
        self.started_because = "a request to the team server failed"
        return await self.sup.start(wait=True, timeout=timeout)

    def describe(self) -> dict:
        """The stand-in for `servers status` (text and --json): its state, port, pid and why it runs."""
        s, remote = self.sup.snapshot(), self.remote.snapshot()
        up = s.info.running or s.serving
        why = ""
        if up:
            why = self.started_because or (because(remote) if not remote.serving else "")
            if remote.serving:
                why = (why + "; " if why else "") + (f"team server back: stopped {self.keep_after_back_s:g} s "
                                                     "after, with nothing running on it")
        return {"name": s.name, "state": s.state.value, "host": s.host, "port": s.port, "pid": s.pid,
                "owned": s.owned, "adopted": s.adopted, "model": s.model_name or s.model_path,
                "because": why, "keep_after_back_s": self.keep_after_back_s, "message": s.message,
                "when": "" if up else "starts when the team server stops answering"}

    def _home_loop(self) -> asyncio.AbstractEventLoop | None:
        """The loop the supervision runs on: the remote's watching task's (the stand-in's own after it)."""
        for sup in (self.sup, self.remote):
            task = getattr(sup, "_task", None)
            if task is not None and not task.done():
                return task.get_loop()
        return None

    async def close(self) -> None:
        """Stop the stand-in if it is ours, end its supervision; the remote is never touched."""
        self._unwatch()
        for cb in list(self._subs):
            self.remove_subscriber(cb)
        for t in list(self._tasks):
            t.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        from ..llm.client import close_clients  # openai loads only where a client was made

        await close_clients(self._clients)
        s = self.sup.snapshot()
        if s.owned or s.adopted or s.state is S.CRASHED:
            await self.sup.stop()
        await self.sup.close()


class LocalFallbacks:
    """The stand-ins of a ServerManager, one per remote server whose config asks for one."""

    def __init__(self, sup_args: dict) -> None:
        self.sup_args = sup_args
        self.by_name: dict[str, LocalFallback] = {}
        self.subscribers: list[Callable[[ServerSnapshot], Any]] = []

    @staticmethod
    def wanted(config, name: str) -> bool:
        cfg = config.server(name)
        return cfg.remote and cfg.fallback == "local"

    def prune(self, config) -> list[LocalFallback]:
        """Take out the stand-ins a new config no longer asks for, or asks for differently."""
        out = [fb for n, fb in self.by_name.items()
               if not (self.wanted(config, n) and local_config(config.server(n)) == fb.cfg)]
        for fb in out:
            del self.by_name[fb.name]
        return out

    def update(self, config, supervisors: dict, armed: bool = False) -> list[LocalFallback]:
        """Create the stand-ins the config asks for; returns the ones no longer wanted (to close)."""
        stale = []
        for name, sup in supervisors.items():
            want = isinstance(sup, RemoteSupervisor) and self.wanted(config, name)
            have = self.by_name.get(name)
            if have is not None and not (want and have.same(config, sup)):
                stale.append(self.by_name.pop(name))
                have = None
            if want and have is None:
                self.by_name[name] = LocalFallback(name, config, sup, self.sup_args, self.subscribers, armed)
        return stale

    def subscribe(self, cb: Callable[[ServerSnapshot], Any]) -> Callable[[], None]:
        """cb also hears the stand-ins made later (snapshot names end in -local)."""
        self.subscribers.append(cb)
        for fb in self.by_name.values():
            fb.add_subscriber(cb)

        def unsubscribe() -> None:
            if cb in self.subscribers:
                self.subscribers.remove(cb)
            for fb in self.by_name.values():
                fb.remove_subscriber(cb)
        return unsubscribe

    def arm(self, names: list[str]) -> None:
        for n in names:
            if n in self.by_name:
                self.by_name[n].armed = True

    async def disarm(self, names: list[str]) -> None:
        """The user stopped the tier: its stand-in stops too (if ours) and stays down until a turn asks."""
        for n in names:
            fb = self.by_name.get(n)
            if fb is not None:
                fb.armed = False
                if fb._ours_running():
                    await fb.sup.stop()

    async def ready_client(self, name: str):
        fb = self.by_name.get(name)
        return None if fb is None else await fb.ready_client()

    async def sweep(self) -> list[str]:
        return [m for m in [await fb.sup.sweep() for fb in self.by_name.values()] if m]

    async def close(self, which: list[LocalFallback] | None = None) -> None:
        for fb in (list(self.by_name.values()) if which is None else which):
            await fb.close()
        if which is None:
            self.by_name.clear()
