"""The one terminal printer of `bestbox ask` and `bestbox voice`: answer on stdout, the rest on
stderr, and a closing line that never shows a number that was not measured."""
from __future__ import annotations

import io

from bestbox.cli.turn_printer import TurnPrinter
from bestbox.pipeline.events import TurnEvent
from bestbox.speech.events import VoiceEvent


def _printer():
    out, err = io.StringIO(), io.StringIO()
    return TurnPrinter(out=out, err=err), out, err


def test_a_streamed_answer_and_its_numbers():
    p, out, err = _printer()
    p.voice_event(VoiceEvent("transcript_raw", {"text": "top vendors", "asr_ms": 812.4, "confident": True}))
    p.turn_event(TurnEvent("route", {"decision": {"agent": "erp", "tier": "heavy", "decided_by": "fast_path",
                                                  "ms": 3.2}}))
    p.turn_event(TurnEvent("tool_call", {"name": "top_vendors_by_spend", "arguments": {"limit": 5}}))
    p.turn_event(TurnEvent("token", {"text": "Here are"}))
    p.finish({"answer": "Here are", "model": "heavy",
              "timings": {"route_ms": 3.2, "ttft_ms": 412.0, "total_ms": 2310.5, "tokens_per_s": 38.6}})
    assert out.getvalue() == "Here are\n"
    lines = err.getvalue().splitlines()
    assert lines[0] == "you said: top vendors  [812 ms]"
    assert lines[1] == "[erp · heavy · fast_path]"
    assert lines[-1] == "[route 3 ms · first token 412 ms · total 2310 ms · 38.6 tok/s · heavy]"


def test_no_server_answered_says_what_happened_not_none():
    p, out, err = _printer()
    msg = "Both model servers are down. Start them from the server panel (or `bestbox servers start`)."
    p.turn_event(TurnEvent("route", {"decision": {"agent": "erp", "tier": "heavy", "decided_by": "fast_path",
                                                  "ms": 2.0}}))
    p.finish({"answer": "", "error": msg, "model": None,
              "timings": {"route_ms": 2.0, "ttft_ms": None, "total_ms": None}})
    text = err.getvalue()
    assert "None" not in text and out.getvalue() == ""
    assert f"error: {msg}" in text
    assert text.splitlines()[-1] == "[route 2 ms · no answer: both model servers are down]"


def test_voice_closing_line():
    s = TurnPrinter.summary({"answer": "ok", "model": "light", "timings": {
        "asr_ms": 812.0, "cleanup_ms": None, "speech_end_to_first_token_ms": 1304.2, "ttft_ms": 1304.2}},
        voice=True)
    assert s == "[asr 812 ms · speech end → first token 1304 ms · light]"
    s = TurnPrinter.summary({"answer": "ok", "model": "heavy", "timings": {"asr_ms": 812.0, "ttft_ms": 900.0},
                             "server": {"tier": "heavy", "where": "remote", "url": "https://gpu.team.lan:8443"}},
                            voice=True)
    assert s.endswith("· heavy @ https://gpu.team.lan:8443]"), s  # the team server that answered
    s = TurnPrinter.summary({"answer": "ok", "model": "heavy", "timings": {"asr_ms": 812.0, "ttft_ms": 900.0},
                             "server": {"tier": "heavy", "where": "local", "url": "http://127.0.0.1:8080",
                                        "stand_in": True}}, voice=True)
    assert s.endswith("· heavy · local stand-in]"), s  # issue 10: the team server's local stand-in answered
    s = TurnPrinter.summary({"timings": {"asr_ms": 500.0, "cleanup_ms": 900.0}}, voice=True, answer_asked=False)
    assert s == "[asr 500 ms · cleanup 900 ms · no answer asked]"


def test_json_mode_prints_nothing_while_running():
    out, err = io.StringIO(), io.StringIO()
    p = TurnPrinter(streaming=False, out=out, err=err)
    p.turn_event(TurnEvent("token", {"text": "x"}))
    p.voice_event(VoiceEvent("speech_started", {"at_s": 0.1}))
    assert out.getvalue() == err.getvalue() == ""


def test_a_tool_that_needs_values_is_said_so():
    s = TurnPrinter.summary({"answer": "", "needs_input": {"tool": "open_ticket"}, "timings": {"route_ms": 1.0}})
    assert s == "[route 1 ms · no answer: open_ticket needs more values]"
