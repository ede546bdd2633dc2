"""trace.TurnTrace: the one record of a turn (stages, marks, values) and the numbers read from it."""
from __future__ import annotations

import time

from bestbox.trace import TurnTrace, now_ms


def test_stages_marks_and_values_become_flat_timings():
    tr = TurnTrace()
    with tr.stage("route", decided_by="fast_path") as st:
        time.sleep(0.01)
    assert st.ms is not None and st.ms >= 10 and st.detail == {"decided_by": "fast_path"}
    first = tr.mark("first_token")
    assert tr.mark("first_token") == first  # the first occurrence wins
    tr.values["tokens_per_s"] = 41.4
    tr.mark("done")
    t = tr.timings()
    assert t["route_ms"] == round(tr.stage_ms("route"), 2)
    assert t["ttft_ms"] == round(first, 2) and t["total_ms"] >= t["ttft_ms"]
    assert t["tokens_per_s"] == 41.4
    assert "asr_ms" not in t and "speech_end_to_first_token_ms" not in t  # not a voice turn
    d = tr.to_dict()
    assert d["timings"] == t and d["stages"][0]["name"] == "route" and d["stages"][0]["detail"]


def test_add_stage_and_mark_take_absolute_times():
    t0 = now_ms()
    tr = TurnTrace(t0_ms=t0)
    st = tr.add_stage("asr", t0 - 300.0, t0 + 200.0, speculative=True)  # began before the end of speech
    assert st.start_ms == -300.0 and st.end_ms == 200.0 and st.ms == 500.0
    assert tr.mark("vad_end", at_ms=t0 + 700.0) == 700.0
    assert tr.stage_ms("asr") == 500.0
    tr.add_stage("asr", t0 + 1000.0, t0 + 1100.0)  # a stage that happens twice adds up
    assert tr.stage_ms("asr") == 600.0


def test_a_voice_turn_reads_its_numbers_from_marks_and_stages():
    t0 = now_ms()
    tr = TurnTrace(t0_ms=t0)
    tr.mark("vad_end", at_ms=t0 + 700.0)
    tr.add_stage("asr", t0 + 650.0, t0 + 900.0)
    tr.mark("transcript", at_ms=t0 + 905.0)
    tr.values["speculation_reused"] = True
    t = tr.timings()
    assert t["asr_ms"] == 250.0 and t["vad_wait_ms"] == 700.0 and t["speech_end_to_transcript_ms"] == 905.0
    assert t["cleanup_ms"] is None and t["speech_end_to_first_token_ms"] is None  # keys kept, not invented
    assert t["speculation_reused"] is True
    tr.mark("first_token", at_ms=t0 + 1300.0)
    tr.add_stage("cleanup", t0 + 1400.0, t0 + 1650.0)
    t = tr.timings()
    assert t["speech_end_to_first_token_ms"] == t["ttft_ms"] == 1300.0 and t["cleanup_ms"] == 250.0


def test_a_file_turn_has_no_vad_wait():
    tr = TurnTrace()
    tr.mark("transcript")
    assert "vad_wait_ms" not in tr.timings()
