"""The pair of supervised servers (heavy, light) as one object for the UI and the CLI."""
from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any, Callable

import psutil

from ..config import Config
from . import procs
from .command import build_command
from .gguf import kv_cache_bytes, model_bytes, read_metadata
from .state import ServerSnapshot, ServerState, info
from .local_fallback import LocalFallbacks
from .remote import RemoteSupervisor
from .supervisor import Supervisor

log = logging.getLogger(__name__)
NAMES = ("heavy", "light")
GIB = 1024 ** 3
COMPUTE_OVERHEAD = 300 * 1024 ** 2  # compute buffers, scratch: a rough constant per server


def _gib(n: float) -> str:
    return f"{n / GIB:.1f} GiB"


class ServerManager:
    def __init__(self, config: Config, *, state_dir: Path | None = None, detached: bool = False,
                 allow_demo: bool = True, backoff_s: float = 0.5) -> None:
        self.config = config
        self.memory_warning: str | None = None
        self._sup_args = dict(state_dir=state_dir, detached=detached, allow_demo=allow_demo, backoff_s=backoff_s)
        self.supervisors: dict[str, Supervisor | RemoteSupervisor] = {n: self._make(n, config) for n in NAMES}
        self._clients: dict[tuple, Any] = {}
        self.local = LocalFallbacks(self._sup_args)  # local stand-ins of remote servers (fallback = "local")
        self.local.update(config, self.supervisors)

    def _make(self, name: str, config: Config):
        """A local process's Supervisor, or a RemoteSupervisor for a server with a `url` (never started)."""
        cfg = config.server(name)
        if cfg.remote:
            return RemoteSupervisor(name, cfg, **self._sup_args)
        return Supervisor(name, cfg, api_key=config.llama.api_key, server_binary=config.llama.server_binary,
                          **self._sup_args)

    async def reconfigure(self, config: Config) -> None:
        """Take a new config (e.g. after the settings dialog). Running servers keep their settings
        until they are restarted; stopped ones take them at once."""
        self.config = config
        await self.local.close(self.local.prune(config))  # before a local server may want its port
        for n, sup in list(self.supervisors.items()):
            if config.server(n).remote != isinstance(sup, RemoteSupervisor):
                await self._swap(n, config)
                continue
            await sup.configure(config.server(n), config.llama.api_key, config.llama.server_binary)
        await self.local.close(self.local.update(config, self.supervisors, armed=True))

    async def _swap(self, name: str, config: Config) -> None:
        """Local <-> remote: a new supervisor that keeps the old one's subscribers. A local server we
        started is stopped first (it would hold memory for nothing); an external one is left alone."""
        old = self.supervisors[name]
        if not isinstance(old, RemoteSupervisor) and old.snapshot().owned:
            await old.stop()
        await old.close()
        new = self._make(name, config)
        new._feed._subs = old._feed._subs
        self.supervisors[name] = new
        await new.start(wait=False)

    def suspect(self, name: str) -> None:
        """A request to `name` just failed: a remote server is checked again at once."""
        sup = self.supervisors.get(name)
        if isinstance(sup, RemoteSupervisor):
            sup.suspect()

    async def stand_in(self, name: str):
        """A client for `name`'s local stand-in (a remote server with fallback = "local"), started
        and waited for when needed; None when there is none or it cannot serve."""
        return await self.local.ready_client(name)

    # ------------------------------------------------------------------ selection ---------------
    def names(self, name: str = "all") -> list[str]:
        if name in ("all", "both", "", None):
            return [n for n in NAMES if self.config.server(n).enabled]
        if name not in self.supervisors:
            raise ValueError(f"unknown server {name!r}: use heavy, light or all")
        return [name]

    def _shared_port(self, names: list[str]) -> str | None:
        h, l = self.config.servers.heavy, self.config.servers.light
        if not (h.runs_local and l.runs_local):
            return None
        if h.port == l.port and h.host == l.host:
            return (f"heavy and light are both configured for port {h.port}; give each its own port "
                    "in [servers.heavy] / [servers.light]")
        return None

    # ------------------------------------------------------------------ lifecycle ---------------
    async def start(self, name: str = "all", wait: bool = True, timeout: float | None = None
                    ) -> dict[str, ServerSnapshot]:
        names = self.names(name)
        clash = self._shared_port(names)
        if clash:
            for n in names:
                await self.supervisors[n].refuse(clash)
            return {n: self.snapshot(n) for n in names}
        if len(names) > 1:
            self.memory_warning = await asyncio.get_running_loop().run_in_executor(None, self.memory_check, names)
            if self.memory_warning:
                log.warning(self.memory_warning)
        self.local.arm(names)
        res = await asyncio.gather(*(self.supervisors[n].start(wait, timeout) for n in names))
        return dict(zip(names, res))

    async def stop(self, name: str = "all") -> dict[str, ServerSnapshot]:
        names = list(NAMES) if name in ("all", "both") else self.names(name)
        await self.local.disarm(names)
        res = await asyncio.gather(*(self.supervisors[n].stop() for n in names))
        return dict(zip(names, res))

    async def restart(self, name: str = "all", wait: bool = True) -> dict[str, ServerSnapshot]:
        names = self.names(name)
        res = await asyncio.gather(*(self.supervisors[n].restart(wait) for n in names))
        return dict(zip(names, res))

    async def sweep(self) -> list[str]:
        """Adopt our live leftovers (PID files), stop leftovers on old ports, drop stale files."""
        out = await asyncio.gather(*(s.sweep() for s in self.supervisors.values()))
        return [m for m in out if m] + await self.local.sweep()

    async def observe(self, name: str = "all") -> dict[str, ServerSnapshot]:
        names = list(NAMES) if name in ("all", "both") else self.names(name)
        res = await asyncio.gather(*(self.supervisors[n].observe() for n in names))
        return dict(zip(names, res))

    async def shutdown(self, stop_adopted: bool = False) -> None:
        """Stop the servers this process started (and adopted ones when asked); leave external
        servers alone; end the supervisor tasks."""
        await self.local.close()
        for sup in self.supervisors.values():
            snap = sup.snapshot()
            if snap.owned or (stop_adopted and snap.adopted) or snap.state is ServerState.CRASHED:
                await sup.stop()
        from ..llm.client import close_clients  # openai loads only where a client was made

        await close_clients(self._clients)
        for sup in self.supervisors.values():
            await sup.close()

    # ------------------------------------------------------------------ reading ----------------
    def snapshot(self, name: str) -> ServerSnapshot:
        return self.supervisors[name].snapshot()

    def snapshots(self) -> dict[str, ServerSnapshot]:
        return {n: s.snapshot() for n, s in self.supervisors.items()}

    def is_ready(self, name: str) -> bool:
        return info(self.snapshot(name).state).healthy

    def subscribe(self, cb: Callable[[ServerSnapshot], Any]) -> Callable[[], None]:
        """cb(snapshot) for every change of either server (snapshot.name tells which)."""
        uns = [s.subscribe(cb) for s in self.supervisors.values()] + [self.local.subscribe(cb)]

        def unsubscribe() -> None:
            for u in uns:
                u()
        return unsubscribe

    def subscribe_logs(self, cb: Callable[[str, list[str]], Any]) -> Callable[[], None]:
        """cb(name, new_lines) as lines arrive."""
        uns = [s.subscribe_logs(lambda lines, n=n: cb(n, lines)) for n, s in self.supervisors.items()]

        def unsubscribe() -> None:
            for u in uns:
                u()
        return unsubscribe

    def logs(self, name: str, n: int = 200) -> list[str]:
        return self.supervisors[name].log_lines(n)

    def client(self, name: str):
        """An LLMClient for a ready/external server, else None. One per server and event loop."""
        snap = self.snapshot(name)
        # Degraded (slow health checks) still answers: better a slow answer than none.
        if not snap.serving:
            return None
        from ..llm.client import LLMClient

        try:
            loop_id = id(asyncio.get_running_loop())
        except RuntimeError:
            loop_id = 0
        sup = self.supervisors[name]
        if isinstance(sup, RemoteSupervisor):
            cfg = self.config.server(name)
            key = (name, snap.base_url, loop_id, sup.api_key, snap.model_name, cfg.ca_bundle)
            if key not in self._clients:
                self._clients[key] = sup.make_client(snap)
            return self._clients[key]
        key = (name, snap.base_url, loop_id)
        if key not in self._clients:
            self._clients[key] = LLMClient(snap.base_url, self.config.llama.api_key, name=name)
        return self._clients[key]

    # ------------------------------------------------------------------ memory ------------------
    def estimate(self, name: str) -> dict:
        """Memory a server needs: GGUF file + f16 KV cache for ctx_size tokens (llama-server splits
        ctx_size across its --parallel slots, so the cache does not grow with parallel) + overhead."""
        cfg = self.config.server(name)
        cmd = build_command(name, cfg, self.config)
        out = {"name": name, "model": str(cmd.model_path or cfg.model), "file_bytes": None, "kv_bytes": None,
               "kv_source": "", "total_bytes": None, "gpu": cfg.n_gpu_layers > 0}
        if cmd.custom and not cmd.model_path:
            return out
        if not cmd.model_path or not cmd.model_path.is_file():
            return out
        size = model_bytes(cmd.model_path)
        kv = None
        try:
            kv = kv_cache_bytes(read_metadata(cmd.model_path), cfg.ctx_size)
            out["kv_source"] = "GGUF header"
        except (OSError, ValueError):
            pass
        if kv is None:
            kv = int(size * 0.1 * cfg.ctx_size / 4096)  # heuristic: ~10% of the weights per 4k tokens
            out["kv_source"] = "estimate"
        out.update(file_bytes=size, kv_bytes=kv, total_bytes=size + kv + COMPUTE_OVERHEAD)
        return out

    def memory_check(self, names: list[str] | None = None) -> str | None:
        """A readable warning with numbers when the servers not yet running would not fit in free
        VRAM (when they offload to a GPU we can query) or free RAM; None when they fit."""
        names = names or self.names("all")
        todo = [n for n in names if not self.snapshot(n).serving and not self.config.server(n).remote]
        ests = [self.estimate(n) for n in todo]
        ests = [e for e in ests if e["total_bytes"]]
        if not ests:
            return None
        need = sum(e["total_bytes"] for e in ests)
        vram = procs.free_vram_bytes() if any(e["gpu"] for e in ests) else None
        if vram is not None:
            free, where = vram, "free GPU memory (VRAM)"
        else:
            free, where = psutil.virtual_memory().available, "free RAM"
        if need <= free:
            return None
        parts = [f"{e['name']} ({Path(e['model']).name}: {_gib(e['file_bytes'])} weights + "
                 f"{_gib(e['kv_bytes'])} KV cache for {self.config.server(e['name']).ctx_size} tokens)"
                 for e in ests]
        return (f"{' and '.join(parts)} need about {_gib(need)}, but only {_gib(free)} of {where} is available. "
                "Lower ctx_size, use a smaller quantization, set n_gpu_layers lower, or start one server only.")
