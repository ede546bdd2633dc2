"""The UI's handle on `bestbox.servers.ServerManager`: snapshots arrive as a Qt signal, and
Start/Stop/Restart run as asyncio tasks (they never block the window)."""
from __future__ import annotations

import asyncio
import logging

from PySide6.QtCore import QObject, Signal

from ..servers.state import info as state_info
from .theme import state_name

log = logging.getLogger(__name__)

NAMES = ("heavy", "light")


class ServerBridge(QObject):
    changed = Signal(object)          # a ServerSnapshot
    log_lines = Signal(str, list)     # server name, new lines
    action_failed = Signal(str, str)  # server name, readable message
    stand_in_changed = Signal(object)  # a remote server's local stand-in (ServerSnapshot named "heavy-local")

    attached = Signal()

    def __init__(self, manager=None, parent: QObject | None = None):
        """manager may come later (`attach`), so the window can show before the servers package
        is imported."""
        super().__init__(parent)
        self.manager = None
        self.snapshots: dict[str, object] = {}
        self._tasks: set[asyncio.Task] = set()
        self._unsubs: list = []
        if manager is not None:
            self.attach(manager)

    def attach(self, manager) -> None:
        self.manager = manager
        for n in NAMES:
            try:
                self.snapshots[n] = manager.snapshot(n)
            except Exception:  # noqa: BLE001
                pass
        self._unsubs = [manager.subscribe(self._on_snapshot)]
        if hasattr(manager, "subscribe_logs"):
            self._unsubs.append(manager.subscribe_logs(lambda name, lines: self.log_lines.emit(name, list(lines))))
        self.attached.emit()
        for snap in list(self.snapshots.values()):
            self.changed.emit(snap)

    def close(self) -> None:
        for u in self._unsubs:
            try:
                u()
            except Exception:  # noqa: BLE001
                pass
        self._unsubs.clear()

    def _on_snapshot(self, snap) -> None:
        if snap.name not in NAMES:   # a local stand-in: shown on its tier's card, not a third server
            self.stand_in_changed.emit(snap)
            return
        self.snapshots[snap.name] = snap
        self.changed.emit(snap)

    # -- reading ---------------------------------------------------------------------------------
    def state(self, name: str) -> str:
        s = self.snapshots.get(name)
        return state_name(getattr(s, "state", "stopped")) if s is not None else "stopped"

    def enabled(self, name: str) -> bool:
        if self.manager is None:
            return True
        try:
            return bool(self.manager.config.server(name).enabled)
        except Exception:  # noqa: BLE001
            return True

    def is_serving(self, name: str) -> bool:
        return state_info(self.state(name)).serving

    def is_running(self, name: str) -> bool:
        return state_info(self.state(name)).running

    def overall(self) -> str:
        """'serving', 'starting' or 'down' for the pair."""
        rows = [state_info(self.state(n)) for n in NAMES]
        if any(r.serving for r in rows):
            return "serving"
        if any(r.on_its_way for r in rows):  # crashed counts: a restart with backoff is pending
            return "starting"
        return "down"

    def logs(self, name: str, n: int = 1000) -> list[str]:
        if self.manager is None:
            return []
        try:
            return list(self.manager.logs(name, n))
        except Exception:  # noqa: BLE001
            return []

    async def memory_check(self) -> str | None:
        """Reads GGUF headers and may run nvidia-smi: off the UI thread."""
        if self.manager is None:
            return None
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(None, self.manager.memory_check)
        except Exception as e:  # noqa: BLE001
            log.debug("memory check failed: %s", e)
            return None

    async def prepare(self, start: bool) -> list[str]:
        """At launch: adopt our leftovers (PID files), then start both servers, or only look at
        their ports (an external server shows as such). Returns what the sweep did, in words."""
        notes: list[str] = []
        try:
            notes = list(await self.manager.sweep())
        except Exception as e:  # noqa: BLE001
            log.warning("start-up sweep failed: %s", e)
        if start:
            self.start("all")
        else:
            try:
                await self.manager.observe("all")
            except Exception as e:  # noqa: BLE001
                log.debug("observe failed: %s", e)
        return notes

    # -- acting ----------------------------------------------------------------------------------
    def _spawn(self, name: str, coro) -> asyncio.Task:
        if self.manager is None:
            coro.close()
            raise RuntimeError("the server manager is not ready yet")
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)

        def done(t: asyncio.Task) -> None:
            self._tasks.discard(t)
            if t.cancelled():
                return
            e = t.exception()
            if e is not None:
                log.warning("server action on %s failed: %s", name, e)
                self.action_failed.emit(name, str(e) or type(e).__name__)

        task.add_done_callback(done)
        return task

    def start(self, name: str = "all") -> asyncio.Task | None:
        if self.manager is None:
            return None
        return self._spawn(name, self.manager.start(name))

    def stop(self, name: str = "all") -> asyncio.Task | None:
        if self.manager is None:
            return None
        if name == "all":
            async def both():
                await asyncio.gather(*(self.manager.stop(n) for n in NAMES))
            return self._spawn(name, both())
        return self._spawn(name, self.manager.stop(name))

    def restart(self, name: str) -> asyncio.Task | None:
        if self.manager is None:
            return None
        return self._spawn(name, self.manager.restart(name))

    def toggle(self, name: str) -> asyncio.Task:
        names = NAMES if name == "all" else (name,)
        if any(self.is_running(n) for n in names):
            return self.stop(name)
        return self.start(name)

    async def shutdown(self, timeout_s: float = 15.0) -> None:
        self.close()
        for t in list(self._tasks):
            t.cancel()
        if self.manager is None:
            return
        try:
            await asyncio.wait_for(self.manager.shutdown(), timeout_s)
        except asyncio.TimeoutError:
            log.warning("server shutdown took longer than %.0f s", timeout_s)
