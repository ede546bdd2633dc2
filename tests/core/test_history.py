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
