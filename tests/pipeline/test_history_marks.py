"""What was decided stays decided: turn marks kept in history (no servers needed)."""
from __future__ import annotations

from bestbox.pipeline.history import History


def test_annotate_turn_survives_a_restart(tmp_path):
    h = History(tmp_path / "h.sqlite")
    conv = h.new_conversation()
    h.add_message(conv, "user", "top vendors", turn_id="t1", meta={"source": "typed"})
    h.add_message(conv, "assistant", "Falwood leads.", turn_id="t1", meta={"route": {"agent": "crm"}})
    assert h.annotate_turn("t1", corrected_agent="erp") == 2
    h.close()
    h = History(tmp_path / "h.sqlite")
    msgs = h.load(conv)
    assert [m["meta"]["corrected_agent"] for m in msgs] == ["erp", "erp"]
    assert msgs[0]["meta"]["source"] == "typed" and msgs[1]["meta"]["route"] == {"agent": "crm"}
    h.close()


def test_timings_measured_after_the_answer_was_kept_join_its_timings(tmp_path):
    """A spoken reply's first audio may come after the answer was kept: it joins the answer's timings."""
    h = History(tmp_path / "h.sqlite")
    conv = h.new_conversation()
    h.add_message(conv, "user", "a joke", turn_id="t1", meta={"source": "voice"})
    h.add_message(conv, "assistant", "Ha.", turn_id="t1", meta={"timings": {"ttft_ms": 812.5, "total_ms": 990.0}})
    assert h.add_timings("t1", first_audio_ms=1204.31, first_audio_ahead=True) == 1
    user, answer = h.load(conv)
    assert answer["meta"]["timings"] == {"ttft_ms": 812.5, "total_ms": 990.0, "first_audio_ms": 1204.31,
                                         "first_audio_ahead": True}
    assert "timings" not in user["meta"] and h.add_timings("nope", first_audio_ms=1.0) == 0
    h.close()


def test_a_raw_call_kept_as_an_answer_is_not_fed_back_to_the_model(tmp_path):
    """Older versions stored a call the model wrote as the answer; the next turn's model copied its
    arguments into an unrelated call (the VPN ticket got the room booking's values)."""
    h = History(tmp_path / "h.sqlite")
    conv = h.new_conversation()
    h.add_message(conv, "user", "book a room", turn_id="a")
    h.add_message(conv, "assistant", '{"tool": "book_room", "arguments": {"room": "Cedar"}}', turn_id="a")
    h.add_message(conv, "user", "thanks", turn_id="b")
    h.add_message(conv, "assistant", "You're welcome.", turn_id="b")
    assert [m["content"] for m in h.context(conv)] == ["book a room", "thanks", "You're welcome."]
    h.close()
