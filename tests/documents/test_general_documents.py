"""Questions the general agent gets (no tools of its own) reach the user's documents: the request is
looked up in code before answering, and only a look-up that answers is used (issue 8)."""
from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bestbox.agents import doc_lookup
from bestbox.agents.loop import AgentRunner, DoneEvent, ToolCallEvent, ToolResultEvent
from bestbox.agents.tools.documents import citations_of
from bestbox.llm.client import LLMClient

FORKLIFT = "Who may drive a forklift?"     # only in safety/warehouse-safety.html of the test set


@pytest.fixture
def docs_config(tmp_config, labelled_docs):
    from bestbox.config import set_value
    from bestbox.data.documents import Indexer

    set_value(Path(os.environ["BESTBOX_CONFIG"]), ("data", "documents"), [str(labelled_docs)])
    Indexer([str(labelled_docs)]).sync()
    return tmp_config


def test_the_routing_table_says_who_reads_documents():
    assert all(doc_lookup.reads_documents(a) for a in ("general", "oa", "erp", "crm", "it_ops"))
    assert not doc_lookup.reads_documents("nobody")


def test_no_folders_means_no_look_up(tmp_config):
    assert doc_lookup.look_up(FORKLIFT) is None


def test_look_up_only_when_the_documents_answer(docs_config):
    assert doc_lookup.look_up(FORKLIFT) == {"query": FORKLIFT}
    assert doc_lookup.look_up("hello there, how are you?") is None
    assert doc_lookup.look_up("parking!") is None          # one word that a passage holds is not a question


def _run(url, messages, db):
    async def go():
        client = LLMClient(url, timeout=300)
        try:
            runner = AgentRunner(client, db, "auto", answer_max_tokens=40)   # the demo db: never read here
            return [ev async for ev in runner.run("general", messages)]
        finally:
            await client.close()
    return asyncio.run(go())


@pytest.mark.slow
def test_general_agent_cites_a_document_with_the_demo_model(docs_config, spawn_llama_server, tmp_path):
    url = spawn_llama_server("--ctx-size", "2048")
    evs = _run(url, [{"role": "user", "content": FORKLIFT}], tmp_path / "demo.sqlite")
    assert [e.name for e in evs if isinstance(e, ToolCallEvent)] == ["search_my_files"]
    result = next(e for e in evs if isinstance(e, ToolResultEvent))
    cites, note = citations_of(result.name, result.result)
    assert cites and cites[0]["path"].endswith("warehouse-safety.html") and note is None, result.result
    done = evs[-1]
    assert isinstance(done, DoneEvent) and done.mode == "documents" and done.text.strip()

    small_talk = _run(url, [{"role": "user", "content": "hello there, how are you?"}], tmp_path / "demo.sqlite")
    assert not [e for e in small_talk if isinstance(e, ToolCallEvent)]
    assert small_talk[-1].mode == "none" and small_talk[-1].text.strip()


@pytest.mark.slow
def test_ask_json_routed_to_general_gets_a_citation(docs_config):
    p = subprocess.run([sys.executable, "-m", "bestbox", "ask", "--json", FORKLIFT], capture_output=True,
                       text=True, env=dict(os.environ), timeout=300)
    assert p.returncode == 0, p.stderr[-2000:]
    out = json.loads(p.stdout)
    assert out["route"]["agent"] == "general", out["route"]
    assert [c["name"] for c in out["tool_calls"]] == ["search_my_files"], out["tool_calls"]
    assert out["citations"] and out["citations"][0]["path"].endswith("warehouse-safety.html"), out["citations"]
