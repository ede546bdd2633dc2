"""The one place the UI meets the turn pipeline (`bestbox.pipeline.Assistant`).

The Assistant is built off the UI thread (it opens or generates the demo database and loads the
router), so the window never waits for it; a turn sent before it is ready waits for it here, and
a turn sent while the servers are still loading waits for one of them (Stop cancels both waits)."""
from __future__ import annotations

import asyncio
import inspect
import logging
from typing import AsyncIterator, Callable

from PySide6.QtCore import QObject, Signal

from ..pipeline.events import TurnEvent

log = logging.getLogger(__name__)


async def _maybe(v):
    return await v if inspect.isawaitable(v) else v


class AssistantAdapter(QObject):
    ready = Signal()
    failed = Signal(str)

    def __init__(self, assistant=None, servers=None, parent: QObject | None = None, *, isolate: bool = False):
        """servers: a ServerBridge-like object with `overall()` (optional). isolate: run turns on
        a pipeline thread with its own loop (see pipeline_thread), not on the Qt loop."""
        super().__init__(parent)
        self.assistant = assistant
        self.servers = servers
        self.worker = None
        if isolate:
            from .pipeline_thread import PipelineThread

            self.worker = PipelineThread()
        self.error: str | None = None
        self._ready = asyncio.Event() if assistant is None else None

    # -- building --------------------------------------------------------------------------------
    async def build(self, factory: Callable[[], object]) -> None:
        """Run `factory` (which returns an Assistant) in a worker thread."""
        self._factory = factory
        loop = asyncio.get_running_loop()
        try:
            self.assistant = await loop.run_in_executor(None, factory)
            self.error = None
        except Exception as e:  # noqa: BLE001 - shown to the user
            log.exception("assistant failed to start")
            self.error = f"The assistant could not start: {e}"
            self.failed.emit(self.error)
        else:
            self.ready.emit()
        finally:
            if self._ready is not None:
                self._ready.set()

    async def wait_ready(self) -> bool:
        if self.assistant is None and self._ready is not None:
            await self._ready.wait()
        return self.assistant is not None

    # -- servers ---------------------------------------------------------------------------------
    def server_state(self) -> str:
        """'serving' (at least one answers), 'starting' (none yet, one on its way) or 'down'."""
        if self.servers is None:
            return "serving"
        return self.servers.overall()

    async def wait_for_servers(self, timeout_s: float = 600.0) -> str:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        while self.server_state() == "starting" and loop.time() < deadline:
            await asyncio.sleep(0.1)
        return self.server_state()

    # -- a turn ----------------------------------------------------------------------------------
    async def run_turn(self, text: str, conversation_id: str | None = None, *, source: str = "typed",
                       meta: dict | None = None, trace=None,
                       auto_confirm: bool | None = None) -> AsyncIterator[TurnEvent]:
        if self.assistant is None and self.error and getattr(self, "_factory", None) is not None:
            await self.build(self._factory)  # it failed before: try once more
        if not await self.wait_ready():
            yield TurnEvent("error", {"message": self.error or "The assistant is not available."})
            return
        kw: dict = {"source": source}
        if meta:
            kw["meta"] = meta
        if trace is not None:
            kw["trace"] = trace
        if auto_confirm is not None:
            kw["auto_confirm"] = auto_confirm
        if self.worker is None:
            async for ev in self.assistant.run_turn(text, conversation_id, **kw):
                yield ev
            return
        async for ev in self.worker.stream(lambda: self.assistant.run_turn(text, conversation_id, **kw)):
            yield ev

    async def submit_tool(self, tool: str, arguments: dict, conversation_id: str | None = None,
                          **kw) -> AsyncIterator[TurnEvent]:
        """Run a filled tool form (see the "needs_input" event) on the pipeline thread."""
        if not await self.wait_ready():
            yield TurnEvent("error", {"message": self.error or "The assistant is not available."})
            return
        if not hasattr(self.assistant, "submit_tool"):
            yield TurnEvent("error", {"message": "This version of the assistant cannot run forms."})
            return
        if self.worker is None:
            async for ev in self.assistant.submit_tool(tool, arguments, conversation_id, **kw):
                yield ev
            return
        async for ev in self.worker.stream(lambda: self.assistant.submit_tool(tool, arguments, conversation_id, **kw)):
            yield ev

    # -- history and routing ---------------------------------------------------------------------
    @property
    def history(self):
        return getattr(self.assistant, "history", None)

    def list_conversations(self) -> list[dict]:
        h = self.history
        return h.list_conversations() if h is not None else []

    def load(self, conversation_id: str) -> list[dict]:
        h = self.history
        return h.load(conversation_id) if h is not None else []

    def delete(self, conversation_id: str) -> None:
        if self.history is not None:
            self.history.delete(conversation_id)

    def rename(self, conversation_id: str, title: str) -> None:
        if self.history is not None:
            self.history.rename(conversation_id, title)

    def search_conversations(self, query: str) -> list[dict]:
        h = self.history
        return h.search(query) if h is not None else []

    def truncate_from_turn(self, conversation_id: str, turn_id: str) -> int:
        h = self.history
        return h.truncate_from_turn(conversation_id, turn_id) if h is not None else 0

    def correct_route(self, turn_id: str, agent: str) -> None:
        if self.assistant is None or not turn_id:
            return
        # On the pipeline thread: the router reloads its examples between turns, never during one.
        self._on_pipeline(self.assistant.correct_route, turn_id, agent, failed="route correction failed")

    def add_timings(self, turn_id: str, timings: dict) -> None:
        """Keep numbers measured after the turn's answer was kept (a spoken reply's first audio) with
        it, on the thread its turns run on (fire and forget)."""
        h = self.history
        if h is None or not turn_id or not hasattr(h, "add_timings"):
            return
        self._on_pipeline(lambda: h.add_timings(turn_id, **timings), failed="could not keep timings")

    def preroute(self, text: str, conversation_id: str | None = None) -> None:
        """Start routing a speculative transcript on the loop the turns run on (fire and forget)."""
        a = self.assistant
        if a is None or not hasattr(a, "preroute"):
            return
        self._on_pipeline(a.preroute, text, conversation_id, failed="preroute failed", level=logging.DEBUG)

    def drop_ahead(self) -> None:
        """Speech resumed: drop the tool choice started on the last speculative transcript."""
        a = self.assistant
        if a is None or not hasattr(a, "drop_ahead"):
            return
        self._on_pipeline(a.drop_ahead, failed="drop_ahead failed", level=logging.DEBUG)

    def _on_pipeline(self, fn, *args, failed: str, level: int = logging.WARNING) -> None:
        """Run `fn(*args)` on the thread the turns run on (here when there is none), fire and forget;
        a failure is logged as `failed`."""
        if self.worker is None:
            fn(*args)
            return
        fut = self.worker.call(fn, *args)
        fut.add_done_callback(lambda f: f.exception() and log.log(level, "%s: %s", failed, f.exception()))

    async def call_async(self, coro_fn):
        """Await a coroutine of the assistant on the loop its turns run on."""
        if self.worker is None:
            return await coro_fn()
        return await asyncio.wrap_future(self.worker.submit(coro_fn()))

    def close(self) -> None:
        if self.worker is not None:
            self.worker.stop()

    def export_corrections(self, path) -> int:
        return self.assistant.export_corrections(path) if self.assistant is not None else 0

    def reset_corrections(self) -> None:
        if self.assistant is None:
            return
        if self.worker is None:
            self.assistant.reset_corrections()
        else:  # serialised with the turns: the fast path is never changed mid-decision
            self.worker.call(self.assistant.reset_corrections).result(10)

    def routing_report(self) -> dict:
        if self.assistant is None:
            return {}
        try:
            return self.assistant.routing_report() or {}
        except Exception as e:  # noqa: BLE001
            return {"error": str(e)}
