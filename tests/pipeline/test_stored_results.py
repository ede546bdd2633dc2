"""A turn keeps its tool results (bounded) in history, so a reopened conversation shows the same
table; a real Assistant turn with a scripted model (no servers needed)."""
from __future__ import annotations

import asyncio
from datetime import date

from bestbox.agents.data import generate
from bestbox.config import Config
from bestbox.llm.client import Completion, StreamEvent
from bestbox.pipeline import stored_results
from bestbox.pipeline.assistant import Assistant
from bestbox.pipeline.history import History


class Scripted:
    base_url, api_key, name, remote = "http://scripted", "none", "heavy", False

    def __init__(self, completions, streams):
        self.completions, self.streams = list(completions), list(streams)

    async def complete(self, messages, **kw):
        return Completion(text=self.completions.pop(0) if self.completions else "", timings={}, finish_reason="stop")

    async def stream(self, messages, **kw):
        for tok in (self.streams.pop(0) if self.streams else ["ok"]):
            yield StreamEvent("token", text=tok)
        yield StreamEvent("done", timings={}, finish_reason="stop", tool_calls=[])


class Endpoints:
    def __init__(self, client):
        self.c = client

    def client(self, name):
        return self.c


def test_a_turn_keeps_its_tool_rows_after_a_restart(tmp_path, monkeypatch):
    monkeypatch.setenv("BESTBOX_DATA_DIR", str(tmp_path / "data"))
    db = tmp_path / "demo.sqlite"
    generate(db, seed=7, today=date.today())
    cfg = Config()
    cfg.servers.heavy.tools_mode = cfg.servers.light.tools_mode = "schema"
    client = Scripted(['{"tool": "top_vendors_by_spend", "arguments": {"period": "last_12_months", "limit": 5}}'],
                      [["Falwood leads."]])
    h = History(tmp_path / "h.sqlite")
    a = Assistant(cfg, Endpoints(client), history=h, db_path=db)

    async def go():
        return [ev async for ev in a.run_turn("show me the top five vendors", None, auto_confirm=False)]

    events = asyncio.run(go())
    live = next(e.data for e in events if e.kind == "tool_result")
    assert live["result"]["rows"], live
    conv = events[-1].data["conversation_id"]
    h.close()
    again = History(tmp_path / "h.sqlite")
    call = again.load(conv)[1]["meta"]["tool_calls"][0]
    assert call["name"] == "top_vendors_by_spend" and call["summary"] == live["summary"]
    assert call["result"]["rows"] == live["result"]["rows"] and call["result"]["currency"] == "EUR"
    assert "result" not in events[-1].data["tool_calls"][0]      # `bestbox ask --json` stays small
    again.close()


def test_stored_results_are_bounded():
    big = {"rows": [{"i": i, "text": "x" * 500} for i in range(1000)], "row_count": 1000}
    kept = stored_results.bounded(big)
    assert len(kept["rows"]) == kept["rows_kept"] < 200 and kept["row_count"] == 1000
    assert len(str(kept)) < stored_results.MAX_CHARS * 1.2
    small = {"rows": [{"i": 1}], "row_count": 1}
    assert stored_results.bounded(small) == small and stored_results.bounded("nope") is None
    calls = stored_results.attach([{"name": "a"}, {"name": "b"}], [("a", small, "1 row"), ("x", small, "")])
    assert calls[0]["result"] == small and calls[0]["summary"] == "1 row" and "result" not in calls[1]
