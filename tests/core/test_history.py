import pytest

from bestbox.pipeline.history import History


def test_conversations_round_trip_and_partial_answers_survive_reopen(tmp_path):
    h = History(tmp_path / "h.sqlite")
    cid = h.ensure(None, "show me the top five vendors by spend this quarter")
    h.add_message(cid, "user", "show me the top five vendors", turn_id="t1")
    mid = h.add_message(cid, "assistant", "", turn_id="t1", partial=True)
    h.update_message(mid, text="The top vendor is", partial=True, meta={"route": {"agent": "erp"}})
    h.close()

    h2 = History(tmp_path / "h.sqlite")  # as after a crash and restart
    convs = h2.list_conversations()
    assert convs[0]["id"] == cid and convs[0]["title"].startswith("show me the top five vendors")
    msgs = h2.load(cid)
    assert [m["role"] for m in msgs] == ["user", "assistant"]
    assert msgs[1]["partial"] and msgs[1]["text"] == "The top vendor is"
    assert msgs[1]["meta"]["route"]["agent"] == "erp"
    assert h2.context(cid) == [{"role": "user", "content": "show me the top five vendors"},
                               {"role": "assistant", "content": "The top vendor is"}]
    h2.delete(cid)
    assert h2.list_conversations() == []


def test_rename_search_and_truncate(tmp_path):
    """What the window's rename, search, regenerate and edit-and-resend need of History."""
    h = History(tmp_path / "h.sqlite")
    a = h.new_conversation("Top vendors")
    b = h.new_conversation("VPN trouble")
    h.add_message(b, "user", "my laptop can't connect to the VPN", turn_id="t1")
    h.add_message(b, "assistant", "I opened ticket 42_100%", turn_id="t1")
    h.add_message(b, "user", "and the printer?", turn_id="t2")
    h.add_message(b, "assistant", "Printer ticket opened", turn_id="t2")
    h.rename(a, "  Vendors   this quarter ")
    assert {c["id"]: c["title"] for c in h.list_conversations()}[a] == "Vendors this quarter"
    with pytest.raises(ValueError):
        h.rename(a, "   ")
    assert [c["id"] for c in h.search("vendors")] == [a]        # by title, any case
    assert [c["id"] for c in h.search("LAPTOP")] == [b]         # by message text
    assert [c["id"] for c in h.search("42_100%")] == [b]        # LIKE wildcards taken literally
    assert h.search("42x100") == []
    assert len(h.search("")) == 2
    assert h.truncate_from_turn(b, "t2") == 2
    assert [m["text"] for m in h.load(b)] == ["my laptop can't connect to the VPN", "I opened ticket 42_100%"]
    assert h.truncate_from_turn(b, "nope") == 0
    assert h.truncate_from_turn(b, "t1") == 2 and h.load(b) == []
