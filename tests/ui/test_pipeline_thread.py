"""Turns on the pipeline thread: events reach the Qt loop in order, a confirmation answered in the
window reaches the turn, Stop cancels the turn on its own loop, and errors come through."""
from __future__ import annotations

import asyncio
import threading

import pytest

from bestbox.pipeline.events import TurnEvent
from bestbox.ui.pipeline_thread import PipelineThread

from ui_helpers import run_async


@pytest.fixture
def worker():
    w = PipelineThread()
    yield w
    w.stop()


def test_events_confirm_and_thread(qtbot, aloop, worker):
    seen_threads = set()
    answers = []

    async def turn():
        seen_threads.add(threading.get_ident())
        yield TurnEvent("route", {"decision": {"agent": "erp"}})
        fut = asyncio.get_running_loop().create_future()
        yield TurnEvent("confirm", {"tool": "book_room", "arguments": {}, "preview": "Book room 2"}, reply=fut)
        answers.append(await fut)
        for i in range(20):
            yield TurnEvent("token", {"text": str(i)})

    async def consume():
        out = []
        async for ev in worker.stream(turn):
            if ev.kind == "confirm":
                assert ev.reply.get_loop() is asyncio.get_running_loop()  # a future of the Qt loop
                ev.reply.set_result(True)
            out.append(ev.kind)
        return out

    kinds = run_async(qtbot, aloop, consume())
    assert kinds[:2] == ["route", "confirm"] and kinds[2:] == ["token"] * 20
    assert answers == [True]
    assert seen_threads == {worker.thread.ident} != {threading.get_ident()}


def test_cancel_reaches_the_turn(qtbot, aloop, worker):
    state = {"cancelled": False, "confirm_cancelled": None}

    async def turn():
        try:
            fut = asyncio.get_running_loop().create_future()
            yield TurnEvent("confirm", {"tool": "x", "arguments": {}, "preview": "x"}, reply=fut)
            await fut
        except asyncio.CancelledError:
            state["cancelled"] = True
            raise

    ui_reply = {}

    async def consume():
        async for ev in worker.stream(turn):
            ui_reply["f"] = ev.reply
            await asyncio.sleep(10)  # the user never answers; Stop comes instead

    task = asyncio.ensure_future(consume(), loop=aloop)
    qtbot.waitUntil(lambda: "f" in ui_reply, timeout=5000)
    task.cancel()
    qtbot.waitUntil(lambda: state["cancelled"], timeout=5000)
    qtbot.waitUntil(lambda: ui_reply["f"].done(), timeout=5000)
    assert ui_reply["f"].cancelled()  # the card learns the turn was stopped


def test_errors_come_through(qtbot, aloop, worker):
    async def turn():
        yield TurnEvent("route", {"decision": {}})
        raise RuntimeError("server went away")

    async def consume():
        async for _ in worker.stream(turn):
            pass

    task = asyncio.ensure_future(consume(), loop=aloop)
    qtbot.waitUntil(task.done, timeout=5000)
    with pytest.raises(RuntimeError, match="server went away"):
        task.result()
