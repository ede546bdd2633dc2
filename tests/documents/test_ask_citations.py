"""`bestbox ask --json` over the user's documents with the demo model (SmolLM2-135M, real servers):
citations come from the tool's result, in code; a question the documents do not answer says so."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest


@pytest.fixture
def docs_config(tmp_config, labelled_docs):
    from bestbox.config import set_value
    from bestbox.data.documents import Indexer

    set_value(Path(os.environ["BESTBOX_CONFIG"]), ("data", "documents"), [str(labelled_docs)])
    Indexer([str(labelled_docs)]).sync()          # into $BESTBOX_DATA_DIR, as `bestbox docs index` would
    return tmp_config


def _ask(text: str) -> dict:
    p = subprocess.run([sys.executable, "-m", "bestbox", "ask", "--json", text], capture_output=True, text=True,
                       env=dict(os.environ), timeout=300)
    assert p.returncode == 0, p.stderr[-2000:]
    return json.loads(p.stdout)


@pytest.mark.slow
def test_ask_json_cites_the_documents(docs_config):
    out = _ask("Search my files: is parking free for employees?")
    assert out["route"]["agent"] == "oa", out["route"]
    assert [c["name"] for c in out["tool_calls"]] == ["search_my_files"], out["tool_calls"]
    assert out["citations"], out
    first = out["citations"][0]
    assert {"path", "page", "snippet"} <= set(first)
    assert first["path"].endswith("parking.html") and first["page"] is None and "P2 garage" in first["snippet"]


@pytest.mark.slow
def test_ask_json_says_when_the_documents_do_not_answer(docs_config):
    out = _ask("Search my files: what does the employee handbook say about pets in the office?")
    assert out["route"]["agent"] == "oa", out["route"]
    assert out["tool_calls"] and out["tool_calls"][0]["name"] == "search_my_files", out["tool_calls"]
    assert out["citations"] == [], out["citations"]
    assert any("do not answer" in n for n in out["notes"]), out["notes"]
