"""A remote (shared team) server: the same interface as `Supervisor`, but nothing to start or stop.

llama-swap's peers, with health: ONE asyncio task owns the state and checks the server in the
background (`remote_probe.check`, short timeouts, never on the UI thread), every `tick_s` of its
state's row, or at once when poked (`observe()`, a failed request through `suspect()`). Everyone
else reads `snapshot()` or subscribes. `start`, `stop`, `restart` and `sweep` never touch a
process: BestBox did not start this server and never signals it.
"""
from __future__ import annotations

import asyncio
import collections
import logging
import time
from pathlib import Path
from typing import Any, Callable

import httpx

from .events import SnapshotFeed, end_task
from .remote_key import find_key
from .remote_probe import RemoteCheck, check, origin, tls_verify
from .state import SETTLED, ServerSnapshot, ServerState, check_transition, info

log = logging.getLogger(__name__)
S = ServerState
FIRST_TOKEN_EVERY_S = 30.0   # a one-token completion at most this often (it costs the shared server)
LOG_LINES = 200


class RemoteSupervisor:
    remote = True

    def __init__(self, name: str, cfg, *, state_dir: Path | None = None, backoff_s: float = 0.5, **_ignored) -> None:
        self.name = name
        self.cfg = cfg
        self.backoff_s = backoff_s  # read by the bench; nothing restarts here
        self.api_key, self.key_from = find_key(name, cfg)
        self._lines: collections.deque[str] = collections.deque(maxlen=LOG_LINES)
        self._log_subs: list[Callable[[list[str]], Any]] = []
        self._task: asyncio.Task | None = None
        self._poke: asyncio.Event | None = None
        self._checked: asyncio.Condition | None = None
        # --- written by the owner task only ---
        self._state = S.STOPPED
        self._last: RemoteCheck | None = None
        self._models: tuple[str, ...] = ()   # the last list seen: kept while unreachable
        self._first_token_at = 0.0
        self._down_since: float | None = None
        self._checks = 0
        self._feed = SnapshotFeed(name, self._build_snapshot(""))

    # ------------------------------------------------------------------ public -------------------
    def snapshot(self) -> ServerSnapshot:
        return self._feed.current

    def subscribe(self, cb: Callable[[ServerSnapshot], Any]) -> Callable[[], None]:
        return self._feed.subscribe(cb)

    def subscribe_logs(self, cb: Callable[[list[str]], Any]) -> Callable[[], None]:
        self._log_subs.append(cb)
        return lambda: self._log_subs.remove(cb) if cb in self._log_subs else None

    def log_lines(self, n: int = 200) -> list[str]:
        return list(self._lines)[-n:]

    @property
    def base_url(self) -> str:
        return origin(self.cfg.url)

    async def start(self, wait: bool = True, timeout: float | None = None) -> ServerSnapshot:
        """Start watching (nothing is started on the remote machine); with wait, until the first check."""
        self._ensure_task()
        if wait:
            return await self.wait_settled(timeout)
        return self.snapshot()

    async def stop(self) -> ServerSnapshot:
        """Never stops a remote server: it is not ours. Keeps watching it."""
        self._note(f"{self.name} is remote ({self.base_url}): not ours to stop; left running")
        return self.snapshot()

    async def restart(self, wait: bool = True, timeout: float | None = None) -> ServerSnapshot:
        return await self.observe()

    async def sweep(self) -> str:
        return ""  # no PID records for a remote server

    async def observe(self) -> ServerSnapshot:
        """Check now and return the fresh snapshot."""
        self._ensure_task()
        async with self._checked:
            n = self._checks
            self._poke.set()
            await self._checked.wait_for(lambda: self._checks > n)
        return self.snapshot()

    def suspect(self) -> None:
        """A request to it just failed: check now instead of at the next tick. Thread-safe (the
        window's turns run on another thread's loop)."""
        if self._poke is None or self._task is None:
            return
        loop = self._task.get_loop()
        try:
            same = asyncio.get_running_loop() is loop
        except RuntimeError:
            same = False
        if same:
            self._poke.set()
        elif not loop.is_closed():
            loop.call_soon_threadsafe(self._poke.set)

    async def configure(self, cfg, api_key: str | None = None, server_binary: str | None = None) -> ServerSnapshot:
        self.cfg = cfg
        self.api_key, self.key_from = find_key(self.name, cfg)
        self._models = ()
        return await self.observe()

    async def refuse(self, message: str) -> ServerSnapshot:
        return self.snapshot()

    async def wait_for(self, pred: Callable[[ServerSnapshot], bool], timeout: float | None = None) -> ServerSnapshot:
        return await self._feed.wait_for(pred, timeout)

    async def wait_settled(self, timeout: float | None = None) -> ServerSnapshot:
        self._ensure_task()  # settled means checked once: the watching must run
        return await self.wait_for(lambda s: s.state in SETTLED and s.info.remote, timeout)  # checked once

    async def close(self) -> None:
        await end_task(self._task)
        self._task = None
        self._feed.release_waiters()

    def make_client(self, snap: ServerSnapshot | None = None):
        """An LLMClient for this server: its key, the model it offers, its CA and connect timeout
        (the manager hands these to the pipeline; the team bench drives the same one)."""
        from ..llm.client import LLMClient

        snap = snap or self.snapshot()
        return LLMClient(snap.base_url or self.base_url, self.api_key, name=self.name, model=snap.model_name,
                         ca_bundle=self.cfg.ca_bundle, connect_timeout=self.cfg.connect_timeout_s, remote=True)

    def headers(self) -> dict:
        return {"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}

    # ------------------------------------------------------------------ the owner task ----------
    def _ensure_task(self) -> None:
        if self._task is None or self._task.done():
            self._poke = asyncio.Event()
            self._checked = asyncio.Condition()
            self._task = asyncio.get_running_loop().create_task(self._run(), name=f"remote-{self.name}")

    def _http(self) -> httpx.AsyncClient:
        c = self.cfg
        t = httpx.Timeout(max(2.0, c.slow_ms * 3 / 1000), connect=c.connect_timeout_s)
        return httpx.AsyncClient(timeout=t, verify=tls_verify(c.url, c.ca_bundle))

    async def _run(self) -> None:
        self._set(S.CONNECTING, f"checking {self.base_url}")
        cfg = None
        http: httpx.AsyncClient | None = None
        try:
            while True:
                if cfg is not self.cfg:  # a new config: new TLS settings and timeouts
                    if http is not None:
                        await http.aclose()
                    cfg, http = self.cfg, self._http()
                try:
                    await self._check_once(http)
                except asyncio.CancelledError:
                    raise
                except Exception as e:  # never let one bad check end the watching
                    log.exception("remote %s: check failed", self.name)
                    self._set(S.UNREACHABLE, f"check failed: {type(e).__name__}: {e}")
                async with self._checked:
                    self._checks += 1
                    self._checked.notify_all()
                self._poke.clear()
                try:
                    await asyncio.wait_for(self._poke.wait(), info(self._state).tick_s)
                except asyncio.TimeoutError:
                    pass
        finally:
            if http is not None:
                await http.aclose()

    async def _check_once(self, http: httpx.AsyncClient) -> None:
        c = self.cfg
        now = time.monotonic()
        was_serving = info(self._state).serving
        # The one-token probe: first contact, coming back, and then every FIRST_TOKEN_EVERY_S.
        first = not was_serving or now - self._first_token_at > FIRST_TOKEN_EVERY_S
        # A trickling answer resets httpx's read timeout at every chunk: the whole check has a deadline too.
        deadline = c.connect_timeout_s + 4 * c.slow_ms / 1000 + 5
        try:
            res = await asyncio.wait_for(check(http, c.url, self.headers(), want_model=c.remote_model.strip(),
                                               slow_ms=c.slow_ms, key_from=self.key_from, first_token=first,
                                               timeout_s=c.connect_timeout_s), deadline)
        except asyncio.TimeoutError:
            res = RemoteCheck(S.UNREACHABLE, f"no complete answer from {self.base_url} within {deadline:.0f} s")
        if res.first_token_ms is not None:
            self._first_token_at = now
        elif self._last is not None and info(res.state).serving:
            res.first_token_ms = self._last.first_token_ms  # the last one measured still describes it
        if res.models:
            self._models = res.models
        message = res.message
        if info(res.state).serving:
            if self._down_since is not None:
                message += f" — back at {time.strftime('%H:%M:%S')} (away {now - self._down_since:.0f} s)"
                self._down_since = None
        elif self._down_since is None and self._state is not S.CONNECTING:
            self._down_since = now
        if res.state is not self._state or message != self._feed.current.message:
            self._note(f"{res.state.value}: {message}")
        self._last = res
        self._set(res.state, message)

    # ------------------------------------------------------------------ state --------------------
    def _set(self, state: ServerState, message: str) -> None:
        if state is not self._state:
            check_transition(self._state, state)
            log.info("remote %s: %s -> %s %s", self.name, self._state.value, state.value, message)
            self._state = state
        self._feed.publish(self._build_snapshot(message))

    def _build_snapshot(self, message: str) -> ServerSnapshot:
        r = self._last
        serving = info(self._state).serving
        return ServerSnapshot(
            name=self.name, state=self._state, host=httpx.URL(self.base_url).host if self.cfg.url else "",
            port=httpx.URL(self.base_url).port or 0 if self.cfg.url else 0, base_url=self.base_url,
            model_name=(r.model if r else "") or self.cfg.remote_model, message=message,
            busy_slots=r.busy_slots if r and serving else None, total_slots=r.total_slots if r else None,
            requests_processing=r.processing if r and serving else None,
            remote=True, url=self.cfg.url, server_kind=r.kind if r else "", models=self._models,
            round_trip_ms=r.round_trip_ms if r else None, first_token_ms=r.first_token_ms if r else None,
            queued=r.queued if r and serving else None,
        )

    def _note(self, text: str) -> None:
        line = f"[bestbox] {time.strftime('%H:%M:%S')} {text}"
        self._lines.append(line)
        for cb in list(self._log_subs):
            try:
                cb([line])
            except Exception:
                log.exception("log subscriber of %s failed", self.name)
