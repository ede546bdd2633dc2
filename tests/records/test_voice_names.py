"""The user's names, heard: espeak-ng asks about a vendor that exists only in the PostgreSQL test
database; after `bestbox data sync` the name is in the glossary, `bestbox voice --wav --json` hears it,
and the ERP tool answers from the synced records."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest

from bestbox import paths
from bestbox.agents.tools import get_tool
from bestbox.data.records.sync import snapshot_path, sync
from bestbox.speech.glossary import Glossary

from .conftest import free_port

QUESTION = "What are the lead times of our vendor Wood Corner?"


def test_synced_names_feed_the_glossary(records_config):
    before = Glossary.from_config(records_config)
    assert "Wood Corner" not in before.names  # nothing synced yet: no names (and no demo names either)
    assert sync(records_config)["ok"]
    g = Glossary.from_config(records_config)
    for name in ("Wood Corner", "Azure Interior", "Deco Addict", "Large Cabinet", "Marc Demo"):
        assert name in g.names, name
    assert "Wood Corner" in g.for_cleanup("what are the lead times of our vendor wood corna")
    # Whisper's first hint (no conversation yet) carries some of the user's names; the demo's never do.
    assert g.own_names and "Wood Corner" in g.for_whisper()
    assert len(g.for_whisper()) == 10 and "vendors" in g.for_whisper()
    demo = Glossary(names=["Some Demo Vendor GmbH"])
    assert "Some Demo Vendor GmbH" not in demo.for_whisper()


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_spoken_question_about_a_postgres_vendor(records_config, tmp_path):
    if not shutil.which("espeak-ng"):
        pytest.skip("espeak-ng is not installed (apt install espeak-ng)")
    assert sync(records_config)["ok"]
    wav = tmp_path / "q.wav"
    subprocess.run(["espeak-ng", "-s", "150", "-w", str(wav), QUESTION], check=True, capture_output=True)
    model = paths.demo_llm_model()
    lines = ["[data]", f'source = "{records_config.data.source}"', f'mapping = "{records_config.data.mapping}"']
    for name in ("heavy", "light"):
        # schema: the tool call is grammar-forced, so even the 135M demo model calls one
        lines += [f"[servers.{name}]", f'model = "{model}"', f"port = {free_port()}", "ctx_size = 2048",
                  "start_timeout_s = 90", 'tools_mode = "schema"']
    (tmp_path / "config.toml").write_text("\n".join(lines) + "\n")
    env = dict(os.environ, BESTBOX_CONFIG=str(tmp_path / "config.toml"))
    env.pop("PULSE_SERVER", None)
    p = subprocess.run([sys.executable, "-m", "bestbox", "voice", "--wav", str(wav), "--json"], env=env,
                       capture_output=True, text=True, timeout=840)
    assert "Traceback" not in p.stderr, p.stderr[-3000:]
    out = json.loads(p.stdout)
    print("\nvoice:", json.dumps({k: out.get(k) for k in ("transcript_raw", "transcript_clean", "route",
                                                           "tool_calls", "answer", "notes", "error")}, default=str)[:2000])
    assert "wood corner" in out["transcript_raw"].lower(), out["transcript_raw"]
    assert out["route"]["agent"] == "erp", out["route"]
    calls = [c for c in out["tool_calls"] if c["name"] == "vendor_lead_times" and not c.get("error")]
    assert calls, out["tool_calls"]
    # The tool's answer comes from the synced PostgreSQL records: Wood Corner quotes 8 days there.
    again = get_tool("vendor_lead_times").run(snapshot_path(), **calls[0]["arguments"])
    assert any(r["vendor"] == "Wood Corner" and r["quoted_days"] == 8 for r in again["rows"]), again


def test_fast_path_routes_questions_that_only_name_the_users_records(records_config):
    from bestbox.routing.router import Router

    assert sync(records_config)["ok"]
    fast = Router(records_config).fast
    assert fast.entity_names["deco addict"] == "customer" and fast.entity_names["wood corner"] == "vendor"
    cases = {"what is going on with Deco Addict": "crm", "anything new from Wood Corner": "erp",
             "status of Gemini Furniture": "erp", "how is Ready Mat doing": "crm"}
    for text, agent in cases.items():
        assert fast.classify(text).agent == agent, text
    # Without the user's names, none of these had the right domain (the demo's examples never saw them).
    plain = Router(records_config.routing).fast
    assert not plain.entity_names
    assert sum(plain.classify(t).agent == a for t, a in cases.items()) < len(cases)
