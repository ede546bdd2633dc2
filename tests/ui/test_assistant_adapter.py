"""The window's assistant adapter with turns on the pipeline thread: a speculative transcript
routed from the UI loop is decided on the pipeline thread's loop, and the turn there takes it."""
from __future__ import annotations

import asyncio

from bestbox.config import Config
from bestbox.llm.client import Completion
from bestbox.pipeline.assistant import Assistant
from bestbox.pipeline.history import History
from bestbox.routing.router import Router
from bestbox.ui.assistant_adapter import AssistantAdapter


class Light:
    """A light server that labels everything crm, slowly (the silence window hides it)."""

    def __init__(self):
        self.calls = 0
        self.threads: set[str] = set()

    async def complete(self, messages, **kw):
        import threading

        self.calls += 1
        self.threads.add(threading.current_thread().name)
        await asyncio.sleep(0.05)
        return Completion(text="crm", timings={"predicted_n": 2, "prompt_n": 5, "cache_n": 250})


class Endpoints:
    def __init__(self, light):
        self.light = light

    def client(self, name):
        return self.light if name == "light" else None


def test_preroute_from_the_ui_loop_is_taken_on_the_pipeline_thread(qtbot, aloop, tmp_path):
    cfg = Config()
    cfg.routing.mode = "llm"
    light = Light()
    assistant = Assistant(cfg, Endpoints(light), history=History(tmp_path / "h.sqlite"),
                          router=Router(cfg.routing))
    adapter = AssistantAdapter(assistant, isolate=True)
    try:
        adapter.preroute("Reset my password.")  # the voice session does this during the silence
        qtbot.waitUntil(lambda: light.calls == 1, timeout=10_000)
        fut = asyncio.ensure_future(adapter.call_async(
            lambda: assistant.router.route("reset my password", light, None)))
        qtbot.waitUntil(fut.done, timeout=10_000)
        d = fut.result()
    finally:
        adapter.close()
    assert d.agent == "crm" and "speculative" in d.detail
    assert light.calls == 1  # decided once, in the silence window
    assert light.threads == {"bestbox-pipeline"}, light.threads  # on the loop the turns run on
