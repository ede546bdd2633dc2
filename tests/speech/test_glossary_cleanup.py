"""One glossary for Whisper and cleanup; cleanup against a real llama-server (SmolLM2-135M): the
tiny model cleans badly, so these tests check the mechanism — text always comes back, garbage,
timeouts and a dead server fall back to the raw transcript."""
from __future__ import annotations

import asyncio
import re
import sqlite3


from bestbox.config import Config
from bestbox.llm.client import Completion, LLMClient
from bestbox.speech.cleanup import clean_transcript, judge
from bestbox.speech.glossary import BUILTIN_TERMS, Glossary

from .conftest import free_port


def test_glossary_merges_builtin_database_and_user_terms(tmp_path, monkeypatch):
    db = tmp_path / "demo_company.sqlite"
    con = sqlite3.connect(db)
    con.execute("CREATE TABLE vendors (id INTEGER PRIMARY KEY, name TEXT)")
    con.execute("CREATE TABLE customers (id INTEGER PRIMARY KEY, company_name TEXT)")
    con.execute("CREATE TABLE invoices (id INTEGER PRIMARY KEY, name TEXT)")  # not a name table
    con.executemany("INSERT INTO vendors(name) VALUES (?)", [("Northwind Traders",), ("Acme Supplies",)])
    con.execute("INSERT INTO customers(company_name) VALUES ('Globex')")
    con.execute("INSERT INTO invoices(name) VALUES ('INV-0001')")
    con.commit()
    con.close()
    monkeypatch.setenv("BESTBOX_DATA_DIR", str(tmp_path))
    cfg = Config()
    cfg.speech.glossary_extra = ["Contoso", "vendors"]
    g = Glossary.from_config(cfg)
    terms = g.for_cleanup()
    for t in ("Contoso", "Northwind Traders", "Acme Supplies", "Globex", "purchase order", "VPN"):
        assert t in terms
    assert "INV-0001" not in terms
    assert [t.lower() for t in terms].count("vendors") == 1
    assert len(terms) >= len(BUILTIN_TERMS)
    top = g.for_whisper()
    assert len(top) == 10 and top[0] == "Contoso"
    hinted = g.for_whisper("what do we owe northwind and the menders", n=5)
    assert "Northwind Traders" in hinted and "vendors" in hinted
    assert g.whisper_prompt(["vendors", "VPN"]) == "Office requests about vendors and VPN."
    assert ("menders", "vendors") in g.near_misses("show me the top menders")
    assert g.near_misses("show me the top vendors") == []


def test_glossary_without_database(tmp_path, monkeypatch):
    monkeypatch.setenv("BESTBOX_DATA_DIR", str(tmp_path))
    g = Glossary.from_config(Config())
    assert g.names == [] and "invoices" in g.for_cleanup()


def test_judge_rejects_answers_additions_and_drops():
    g = Glossary()
    assert judge("show me the top menders", "Show me the top vendors.", g) == ""
    assert judge("list on paid invoices from last month", "List unpaid invoices from last month.", g) == ""
    assert judge("book a room at ten", "Book a room at 10.", g) == ""
    assert "adds" in judge("how many days of leave do i have", "How many days of leave do I have: 12.", g)
    assert "drops" in judge("open a ticket because the vpn is down", "Open a ticket: the VPN is down.", g)
    assert judge("show me the top vendors", "The top vendors in the industry are e-commerce companies "
                                            "and retail chains across Europe.", g)
    assert judge("show me the top vendors", "", g) == "empty output"


class Scripted:
    """A stand-in client that returns fixed text (a garbage-producing model)."""

    def __init__(self, text, delay=0.0):
        self.text, self.delay = text, delay

    async def complete(self, messages, **kw):
        await asyncio.sleep(self.delay)
        return Completion(text=self.text, finish_reason="stop")


def test_cleanup_falls_back_on_garbage_and_accepts_a_good_fix():
    g = Glossary()
    r = asyncio.run(clean_transcript("show me the top menders", Scripted("\x00\x01 <|im_end|> ###"), g))
    assert r.text == "show me the top menders" and not r.cleaned and r.reason
    r = asyncio.run(clean_transcript("show me the top menders", Scripted("Corrected: \"Show me the top vendors.\""), g))
    assert r.cleaned and r.text == "Show me the top vendors." and r.changed


def test_cleanup_with_real_server_returns_text(llama_server):
    async def go():
        c = LLMClient(llama_server, timeout=30)
        out = []
        for raw in ("show me the top menders", "open a ticket because the vpn is down",
                    "list unpaid invoices from last month"):
            out.append(await clean_transcript(raw, c, Glossary(), timeout_s=20))
        await c.close()
        return out

    for r in asyncio.run(go()):
        assert r.text.strip()
        assert r.cleanup_ms > 0
        if r.cleaned:  # whatever the tiny model did, it passed the judge: same words, give or take a fix
            assert judge(r.raw, r.text, Glossary()) == ""
        else:
            assert r.text == r.raw and r.reason
        assert r.timings or not r.cleaned  # llama-server's own timings come back
        # the grammar let the model write only the transcript's words and glossary terms
        allowed = set(re.findall(r"[a-z0-9']+", r.raw.lower()))
        for t in Glossary().for_cleanup(r.raw):
            allowed |= set(re.findall(r"[a-z0-9']+", t.lower()))
        assert set(re.findall(r"[a-z0-9']+", r.model_output.lower())) <= allowed, r.model_output


def test_cleanup_timeout_and_dead_server_keep_raw(llama_server):
    async def go():
        c = LLMClient(llama_server, timeout=30)
        slow = await clean_transcript("show me the top menders", c, Glossary(), timeout_s=0.001)
        await c.close()
        dead = LLMClient(f"http://127.0.0.1:{free_port()}", timeout=5)
        down = await clean_transcript("show me the top menders", dead, Glossary())
        await dead.close()
        return slow, down

    slow, down = asyncio.run(go())
    assert slow.text == "show me the top menders" and "timed out" in slow.reason
    assert down.text == "show me the top menders" and "unavailable" in down.reason


def test_cleanup_glossary_fits_the_light_servers_slot_with_a_big_company():
    from bestbox.speech.cleanup import SYSTEM, estimate_tokens

    names = [f"Vendor{i} Holdings GmbH" for i in range(600)] + ["Falwood GmbH"]
    g = Glossary(names=names)
    terms = g.for_cleanup("what do we owe falwood this month")
    assert "Falwood GmbH" in terms and "invoices" in terms
    assert len(terms) <= len(g.builtin) + 30
    # The default light slot is 2,048 tokens (ctx 4096 / parallel 2); the prompt must leave room.
    assert estimate_tokens(SYSTEM.format(terms=", ".join(terms))) < 1000
