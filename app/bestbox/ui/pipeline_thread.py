"""A second asyncio loop, in its own thread, where turns run.

The pipeline does small synchronous things on its loop — SQLite commits for the history, building
an SSL context for a new HTTP client, the fast-path classifier — that each cost 5–60 ms, and far
more when the machine is busy (measured: 330–630 ms stalls of the UI loop in the first streamed
answer). On this loop they can never freeze the window. Events come back to the Qt loop through a
queue (`call_soon_threadsafe`); cancelling the consumer cancels the turn here, which closes the
HTTP stream so the server stops generating."""
from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import threading
from typing import Any, AsyncIterator, Callable

log = logging.getLogger(__name__)
_DONE = object()


class _Failure:
    def __init__(self, exc: BaseException):
        self.exc = exc


class PipelineThread:
    def __init__(self, name: str = "bestbox-pipeline"):
        self.loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self.thread = threading.Thread(target=self._run, name=name, daemon=True)
        self.thread.start()
        self._ready.wait(5)

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.call_soon(self._ready.set)
        self.loop.run_forever()
        try:
            pending = [t for t in asyncio.all_tasks(self.loop) if not t.done()]
            for t in pending:
                t.cancel()
            if pending:
                self.loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
            self.loop.run_until_complete(self.loop.shutdown_asyncgens())
        finally:
            self.loop.close()

    @property
    def alive(self) -> bool:
        return self.thread.is_alive() and not self.loop.is_closed()

    def submit(self, coro) -> concurrent.futures.Future:
        return asyncio.run_coroutine_threadsafe(coro, self.loop)

    def call(self, fn: Callable, *args) -> concurrent.futures.Future:
        """Run a plain function on this loop's thread (serialised with the turns)."""
        fut: concurrent.futures.Future = concurrent.futures.Future()

        def run() -> None:
            try:
                fut.set_result(fn(*args))
            except BaseException as e:  # noqa: BLE001
                fut.set_exception(e)

        self.loop.call_soon_threadsafe(run)
        return fut

    async def stream(self, agen_factory: Callable[[], AsyncIterator[Any]]) -> AsyncIterator[Any]:
        """Iterate, on the calling (Qt) loop, an async iterator that runs on this thread's loop.
        `confirm` events get a reply future of the calling loop that is forwarded here."""
        ui_loop = asyncio.get_running_loop()
        q: asyncio.Queue = asyncio.Queue()

        def put(item) -> None:
            ui_loop.call_soon_threadsafe(q.put_nowait, item)

        async def pump() -> None:
            try:
                async for ev in agen_factory():
                    put(ev)
            except asyncio.CancelledError:
                raise
            except BaseException as e:  # noqa: BLE001 - re-raised on the Qt side
                put(_Failure(e))
            finally:
                put(_DONE)

        cf = self.submit(pump())
        try:
            while True:
                item = await q.get()
                if item is _DONE:
                    break
                if isinstance(item, _Failure):
                    raise item.exc
                reply = getattr(item, "reply", None)
                if reply is not None and isinstance(reply, asyncio.Future) and reply.get_loop() is self.loop:
                    item.reply = self._bridge_future(reply, ui_loop)
                yield item
        finally:
            if not cf.done():
                cf.cancel()  # cancels the turn on its loop: the HTTP stream closes there

    def _bridge_future(self, theirs: asyncio.Future, ui_loop) -> asyncio.Future:
        """A future of the Qt loop whose result is passed on to `theirs` (and that is cancelled
        when `theirs` is, e.g. because the turn was stopped)."""
        ours = ui_loop.create_future()

        def forward(f: asyncio.Future) -> None:
            def apply() -> None:
                if theirs.done():
                    return
                if f.cancelled():
                    theirs.cancel()
                else:
                    theirs.set_result(f.result())
            self.loop.call_soon_threadsafe(apply)

        def back(f: asyncio.Future) -> None:
            if f.cancelled():
                ui_loop.call_soon_threadsafe(lambda: ours.cancel() if not ours.done() else None)

        ours.add_done_callback(forward)
        self.loop.call_soon_threadsafe(theirs.add_done_callback, back)
        return ours

    def stop(self, timeout: float = 5.0) -> None:
        if self.alive:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(timeout)
