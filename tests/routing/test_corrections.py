"""Corrections: stored with the turn, effective at once, surviving a restart; export, reset, report."""
import asyncio
import json
import sqlite3
from contextlib import closing

import pytest

from bestbox import paths
from bestbox.config import Config
from bestbox.routing.corrections import CorrectionStore
from bestbox.routing.router import Router

TEXT = "book a rum for 3pm"   # the fast path sends this to oa


def _route(router, text, **kw):
    return asyncio.run(router.route(text, None, mode="fast", **kw))


def test_store_lives_in_the_data_dir_with_wal():
    store = CorrectionStore()
    assert store.path == paths.data_dir() / "routing.sqlite"
    with closing(sqlite3.connect(store.path)) as db:  # WAL is a property of the file
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    store.close()


def test_correction_changes_the_next_decision_and_survives_a_restart():
    store = CorrectionStore()
    router = Router(Config(), store)
    before = _route(router, TEXT, turn_id="t1")
    assert before.agent == "oa"
    out = store.correct("t1", "crm")
    assert out == {"turn_id": "t1", "text": TEXT, "agent": "crm", "previous_agent": "oa"}
    again = _route(router, TEXT)
    assert (again.agent, again.decided_by) == ("crm", "correction")
    similar = _route(router, "Book a rum for 4 pm, please")
    assert similar.agent == "crm"
    store.close()

    store2 = CorrectionStore()   # a new process: the fast path is rebuilt from the store
    router2 = Router(Config(), store2)
    d = _route(router2, TEXT)
    assert (d.agent, d.decided_by) == ("crm", "correction")
    # unrelated requests are untouched
    assert _route(router2, "how many vacation days do I have left").agent == "oa"
    store2.close()


def test_correct_by_text_without_a_recorded_turn():
    store = CorrectionStore()
    router = Router(Config(), store)
    out = store.correct("the shredder is jammed", "it_ops")
    assert out["turn_id"] is None
    assert _route(router, "the shredder is jammed").agent == "it_ops"
    store.close()


def test_last_correction_wins():
    store = CorrectionStore()
    router = Router(Config(), store)
    store.correct("quarterly numbers", "crm")
    store.correct("quarterly numbers", "erp")
    assert _route(router, "quarterly numbers").agent == "erp"
    store.close()
    router2 = Router(Config(), CorrectionStore())
    assert _route(router2, "quarterly numbers").agent == "erp"


def test_export_and_reset(tmp_path):
    store = CorrectionStore()
    router = Router(Config(), store)
    _route(router, TEXT, turn_id="t1")
    store.correct("t1", "crm")
    store.correct("the shredder is jammed", "it_ops")
    out = tmp_path / "corr.jsonl"
    assert store.export(out) == 2
    lines = [json.loads(x) for x in out.read_text().splitlines()]
    assert [(x["text"], x["agent"]) for x in lines] == [(TEXT, "crm"), ("the shredder is jammed", "it_ops")]
    assert lines[0]["previous_agent"] == "oa"
    store.reset()
    assert store.corrections() == []
    assert _route(router, TEXT).agent == "oa"          # the live fast path forgot too
    assert Router(Config(), CorrectionStore()).fast.n_corrections == 0


def test_report_accuracy_agreement_and_times():
    store = CorrectionStore()
    router = Router(Config(), store)
    for i, text in enumerate(["show me the top vendors", "reset my password", TEXT, "thanks"]):
        _route(router, text, turn_id=f"t{i}")
    store.correct("t2", "crm")
    store.record_shadow("t0", "show me the top vendors", "erp", "erp", 120.0)
    store.record_shadow("t1", "reset my password", "it_ops", "crm", 130.0)
    store.record_shadow("t3", "thanks", "general", None, 5.0, error="timeout")
    r = store.report()
    assert r["decisions"] == 4 and r["corrections"] == 1 and r["corrected_decisions"] == 1
    assert r["accuracy"] == 0.75
    assert r["accuracy_by_decided_by"]["fast"]["accuracy"] == 0.75
    assert r["shadow"] == {"checks": 3, "answered": 2, "agreement": 0.5,
                           "heavy_ms": {"n": 2, "p50_ms": 125.0, "p90_ms": 129.0, "max_ms": 130.0}}
    assert r["route_ms_by_mode"]["fast"]["n"] == 4
    assert r["route_ms_by_decided_by"]["fast"]["p50_ms"] is not None
    store.reset(everything=True)
    assert store.report()["decisions"] == 0


def test_unknown_agent_is_refused():
    store = CorrectionStore()
    with pytest.raises(ValueError):
        store.correct("x", "hr")
    store.close()
