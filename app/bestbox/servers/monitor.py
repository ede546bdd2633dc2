"""Looking at a running llama-server: /health, the one-token readiness probe, /metrics, /slots,
/props, the process tree's RSS and CPU, and VRAM.

Everything here returns data and changes no server state: the supervisor's owner task calls it and
folds the results into its own state (see `metrics.apply_sample`).
"""
from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Any

import httpx

from . import procs

HEALTH_TIMEOUT_S = 1.0
SLOW_HEALTH_S = 1.5      # a ready server answering /health slower than this counts as unhealthy
PROBE_TIMEOUT_S = 120.0  # the one-token completion (a first request can be slow on a cold machine)
STATS_TIMEOUT_S = 1.5


@dataclass(frozen=True)
class HealthCheck:
    """One timed /health request of a ready server."""

    code: int | None  # HTTP status, None when the request failed
    error: str        # the exception's class name when it failed
    took: float       # seconds

    @property
    def ok(self) -> bool:
        return self.code == 200 and self.took <= SLOW_HEALTH_S

    @property
    def problem(self) -> str:
        """Why it is not ok, in words."""
        if self.code and self.code != 200:
            return f"health check answered {self.code}"
        if self.error:
            return f"health check failed ({self.error})"
        return f"health check slow ({self.took:.1f} s)"


@dataclass
class StatsSample:
    """What one round of stats collection saw; None / False where nothing was read."""

    metrics: str | None = None                              # /metrics (Prometheus text)
    slots: Any = None                                       # /slots (JSON)
    props: Any = None                                       # /props (JSON), only when asked for
    props_read: bool = False
    process: tuple[int | None, float | None] | None = None  # (RSS bytes, CPU %) of the process tree
    vram_read: bool = False
    vram_bytes: int | None = None


class Monitor:
    """HTTP and OS probing of one server. Holds only what probing needs between calls: the HTTP
    client (open() / aclose() by the owner task) and the process tree being sampled (CPU % is a
    difference between samples)."""

    def __init__(self) -> None:
        self._http: httpx.AsyncClient | None = None
        self._tree: procs.TreeStats | None = None

    def open(self) -> None:
        self._http = httpx.AsyncClient(timeout=httpx.Timeout(HEALTH_TIMEOUT_S, connect=0.5), trust_env=False)

    async def aclose(self) -> None:
        if self._http is not None:
            await self._http.aclose()

    def track(self, pid: int | None) -> None:
        """Sample the process tree of `pid` from now on (None: no process)."""
        self._tree = procs.TreeStats(pid) if pid else None

    # ------------------------------------------------------------------ health ------------------
    async def health_code(self, base_url: str) -> int | None:
        try:
            r = await self._http.get(f"{base_url}/health")
            return r.status_code
        except httpx.HTTPError:
            return None

    async def health(self, base_url: str) -> HealthCheck:
        t0 = time.monotonic()
        code, err = None, ""
        try:
            r = await self._http.get(f"{base_url}/health", timeout=SLOW_HEALTH_S + 0.5)
            code = r.status_code
        except httpx.HTTPError as e:
            err = type(e).__name__
        return HealthCheck(code, err, time.monotonic() - t0)

    async def looks_like_llama(self, base_url: str) -> bool:
        """Does whatever holds the port answer /health the way llama-server does (ok, or loading)?"""
        try:
            r = await self._http.get(f"{base_url}/health")
            data = r.json()
        except (httpx.HTTPError, ValueError):
            return False
        if r.status_code == 200 and isinstance(data, dict) and data.get("status") == "ok":
            return True
        err = data.get("error") if isinstance(data, dict) else None
        return r.status_code == 503 and isinstance(err, dict) and "Loading model" in str(err.get("message"))

    async def accepts_key(self, base_url: str, headers: dict) -> bool:
        """Does a server we did not start accept our API key? (/v1/models needs it when it has one.)"""
        try:
            r = await self._http.get(f"{base_url}/v1/models", headers=headers)
        except httpx.HTTPError:
            return True  # unreachable is another problem, reported by the health checks
        return r.status_code not in (401, 403)

    async def readiness(self, base_url: str, headers: dict) -> tuple[bool, str, dict]:
        """A one-token completion (/health 200 alone does not prove the server can generate).
        Returns (ok, what went wrong, the server's timings)."""
        ok, detail, timings = False, "", {}
        try:
            r = await self._http.post(
                f"{base_url}/v1/chat/completions", headers=headers, timeout=PROBE_TIMEOUT_S,
                json={"messages": [{"role": "user", "content": "Hi"}], "max_tokens": 1, "temperature": 0})
            if r.status_code == 200:
                ok, timings = True, (r.json().get("timings") or {})
            else:
                detail = f"HTTP {r.status_code}: {r.text[:200]}"
        except (httpx.HTTPError, ValueError) as e:
            detail = f"{type(e).__name__}: {e}" if str(e) else type(e).__name__
        return ok, detail, timings

    # ------------------------------------------------------------------ stats -------------------
    async def collect(self, base_url: str, headers: dict, *, pid: int | None, props: bool,
                      vram: bool) -> StatsSample:
        """/metrics and /slots (and /props when asked), the process tree of `pid`, and its VRAM
        when asked (nvidia-smi / rocm-smi, in an executor)."""
        async def get(path: str):
            try:
                r = await self._http.get(base_url + path, headers=headers, timeout=STATS_TIMEOUT_S)
                return r if r.status_code == 200 else None
            except httpx.HTTPError:
                return None
        reqs = [get("/metrics"), get("/slots")]
        if props:
            reqs.append(get("/props"))
        res = await asyncio.gather(*reqs)
        sample = StatsSample()
        if res[0] is not None:
            sample.metrics = res[0].text
        if res[1] is not None:
            try:
                sample.slots = res[1].json()
            except ValueError:
                pass
        if len(res) > 2 and res[2] is not None:
            try:
                sample.props, sample.props_read = res[2].json(), True
            except ValueError:
                pass
        if pid and self._tree is None or (self._tree and self._tree.pid != pid):
            self._tree = procs.TreeStats(pid) if pid else None
        if self._tree:
            sample.process = self._tree.sample()
        if pid and vram:
            by_pid = await asyncio.get_running_loop().run_in_executor(None, procs.vram_by_pid)
            sample.vram_read, sample.vram_bytes = True, (by_pid.get(pid) if by_pid else None)
        return sample
