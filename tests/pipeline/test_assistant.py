"""The turn pipeline against real llama-servers (demo model): route → answer → history, with the
fallbacks a user meets when a server is stopped or dies mid-answer."""
from __future__ import annotations

import asyncio
import os
import signal

import pytest

from bestbox.pipeline.assistant import Assistant, run_text_turn
from bestbox.pipeline.history import History


class Only:
    """The running servers, as seen when some of them are stopped."""

    def __init__(self, rs, *names):
        self.rs, self.names = rs, names

    def client(self, name):
        return self.rs.client(name) if name in self.names else None


@pytest.fixture
def assistant_for(running_servers, tmp_path, monkeypatch):
    monkeypatch.setenv("BESTBOX_DATA_DIR", str(tmp_path / "data"))
    made = []

    def make(*names):
        a = Assistant(running_servers.config, Only(running_servers, *names), history=History(tmp_path / "h.sqlite"))
        made.append(a)
        return a

    yield make
    for a in made:
        a.history.close()


def collect(assistant, text, **kw):
    async def go():
        return [ev async for ev in assistant.run_turn(text, **kw)]
    return asyncio.run(go())


def test_erp_question_routes_to_heavy_runs_a_tool_and_streams(assistant_for):
    a = assistant_for("heavy", "light")
    result = asyncio.run(run_text_turn("show me the top five vendors by spend this quarter",
                                       config=a.config, assistant=a))
    assert result["route"]["agent"] == "erp" and result["route"]["tier"] == "heavy"
    assert result["model"] == "heavy"
    assert result["tool_calls"], "the ERP agent must call a tool"
    assert result["tool_calls"][0]["name"] == "top_vendors_by_spend"
    assert all(c["error"] is None for c in result["tool_calls"])
    assert any((c["rows"] or 0) > 0 for c in result["tool_calls"])
    assert result["answer"].strip()
    t = result["timings"]
    assert t["route_ms"] is not None and t["ttft_ms"] is not None and t["total_ms"] >= t["ttft_ms"]
    assert t["tokens_per_s"] and t["tokens_per_s"] > 0
    # Everything is in history.
    conv = a.history.list_conversations()[0]["id"]
    msgs = a.history.load(conv)
    assert [m["role"] for m in msgs] == ["user", "assistant"]
    assert not msgs[1]["partial"] and msgs[1]["meta"]["route"]["agent"] == "erp"


def test_chit_chat_goes_to_the_light_model_without_tools(assistant_for):
    a = assistant_for("heavy", "light")
    events = collect(a, "thanks, that's all")
    route = next(e for e in events if e.kind == "route").data["decision"]
    assert route["agent"] == "general" and route["tier"] == "light"
    done = events[-1]
    assert done.kind == "done" and done.data["model"] == "light" and not done.data["tool_calls"]
    assert any(e.kind == "token" for e in events)


def test_heavy_down_light_answers_with_a_visible_note(assistant_for):
    a = assistant_for("light")
    events = collect(a, "analyze Q1 procurement trends")
    assert any(e.kind == "note" and "small" in e.data["text"] for e in events)
    assert events[-1].kind == "done" and events[-1].data["model"] == "light"


def test_light_down_fast_path_routes_and_heavy_answers(assistant_for):
    a = assistant_for("heavy")
    events = collect(a, "how many open incidents does the network team have")
    route = next(e for e in events if e.kind == "route").data["decision"]
    assert route["decided_by"] in ("fast", "fallback", "correction")
    assert events[-1].kind == "done" and events[-1].data["model"] == "heavy"


def test_both_down_is_a_clear_message(assistant_for):
    a = assistant_for()
    events = collect(a, "hello")
    assert events[-1].kind == "error" and events[-1].data["both_down"]
    assert "Start them" in events[-1].data["message"]


def test_cancel_mid_answer_keeps_the_partial_answer(assistant_for):
    a = assistant_for("heavy", "light")

    async def go():
        got = []

        async def consume():
            # Chat, not a data question: an answer about company data only streams once a tool found
            # data (prose without data is held back and replaced), so a story is what streams at once.
            async for ev in a.run_turn("tell me a very long story about office chairs"):
                got.append(ev)

        task = asyncio.create_task(consume())
        while not any(e.kind == "token" for e in got):
            await asyncio.sleep(0.01)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        return got

    got = asyncio.run(go())
    conv = got[0].data["conversation_id"]
    last = a.history.load(conv)[-1]
    assert last["role"] == "assistant" and last["partial"] and last["meta"].get("error") == "stopped"


def test_server_dying_mid_answer_is_a_readable_error_and_nothing_is_lost(tmp_config, tmp_path):
    from bestbox.servers import ServerManager

    async def go():
        tmp_config.servers.light.max_restarts = 0
        mgr = ServerManager(tmp_config, state_dir=tmp_path / "run")
        await mgr.start("light")
        a = Assistant(tmp_config, mgr, history=History(tmp_path / "h2.sqlite"))
        events = []
        try:
            async for ev in a.run_turn("tell me a very long story about office chairs"):
                events.append(ev)
                if ev.kind == "token" and sum(e.kind == "token" for e in events) == 3:
                    os.kill(mgr.snapshot("light").pid, signal.SIGKILL)
        finally:
            await mgr.shutdown()
        return a, events

    a, events = asyncio.run(go())
    assert events[-1].kind == "error"
    assert "connection" in events[-1].data["message"].lower() or "error" in events[-1].data["message"].lower()
    conv = events[0].data["conversation_id"]
    last = a.history.load(conv)[-1]
    assert last["partial"] and last["text"] == events[-1].data["partial_answer"] != ""
    a.history.close()
