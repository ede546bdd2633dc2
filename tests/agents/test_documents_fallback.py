"""A domain agent whose own data gives no result falls back to the user's documents when they
answer the request (issue 8): scripted model output, a real document index, keyword search."""
from __future__ import annotations

import asyncio
import os
from pathlib import Path

from bestbox.agents.loop import AgentRunner, DoneEvent, ToolCallEvent, ToolResultEvent
from bestbox.agents.tools.documents import citations_of

WIFI = [{"role": "user", "content": "What is the guest wifi password?"}]   # only in it/wifi.txt


def _docs(tmp_config, tmp_path):
    from bestbox.bench import retrieval_set
    from bestbox.config import set_value
    from bestbox.data.documents import Indexer

    docs = retrieval_set.write_set(tmp_path / "docs")
    cfg = Path(os.environ["BESTBOX_CONFIG"])
    set_value(cfg, ("data", "documents"), [str(docs)])
    set_value(cfg, ("data", "documents_embed"), False)
    Indexer([str(docs)], embed=False).sync()


def _collect(runner, agent, messages):
    async def go():
        return [ev async for ev in runner.run(agent, messages)]
    return asyncio.run(go())


def test_no_usable_call_then_the_documents_answer(tmp_config, tmp_path, shared_db, scripted):
    _docs(tmp_config, tmp_path)
    client = scripted(["lol not json", '{"tool": "nope"}'], [["The guest password is on the sheet [1]."]])
    evs = _collect(AgentRunner(client, shared_db, "schema"), "it_ops", WIFI)
    assert [e.name for e in evs if isinstance(e, ToolCallEvent)] == ["search_my_files"]
    res = next(e for e in evs if isinstance(e, ToolResultEvent))
    cites, note = citations_of(res.name, res.result)
    assert cites and cites[0]["path"].endswith("wifi.txt") and note is None
    done = evs[-1]
    assert isinstance(done, DoneEvent) and done.mode.endswith("+documents") and not done.unverified
    assert done.text == "The guest password is on the sheet [1]."


def test_without_documents_it_still_says_nothing_was_looked_up(tmp_config, shared_db, scripted):
    client = scripted(["lol not json", '{"tool": "nope"}'], [["invented"]])
    done = _collect(AgentRunner(client, shared_db, "schema"), "it_ops", WIFI)[-1]
    assert done.text.startswith("Nothing was looked up") and done.unverified
