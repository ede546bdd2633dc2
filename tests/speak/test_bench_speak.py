"""The speak bench's report: no-tool and tool questions apart, the answer-ahead pairs, and the text
shim named when it was used (the numbers come from `bestbox bench --only speak`)."""
from __future__ import annotations

from bestbox.bench.speak import MODES, _paired, speak_lines


def _s(key, rep, mode, audio, close):
    return {"key": key, "rep": rep, "kind": "no_tool", "mode": mode, "first_audio_ms": audio,
            "close_to_first_audio_ms": close}


def test_pairs_are_per_clip_and_repeat():
    samples = [_s("a", 0, MODES[0], 800, 100), _s("a", 0, MODES[1], 1000, 300),
               _s("b", 0, MODES[0], 900, 200), _s("b", 0, MODES[1], 900, 200),
               _s("a", 1, MODES[0], 700, 50)]          # no partner: not a pair
    p = _paired(samples)
    assert p["pairs"] == 2
    assert p["ahead_over_plain"]["min"] == 0.8 and p["ahead_over_plain"]["max"] == 1.0
    assert round(p["close_ahead_over_plain"]["min"], 3) == round(100 / 300, 3)


def test_report_names_the_shim_and_both_kinds():
    g = {"voice_to_voice_ms": {"median": 750.0}, "close_to_first_audio_ms": {"median": 40.0},
         "first_token_ms": {"median": 600.0}, "taken_ahead": 2, "turns": 2}
    res = {"speak": {"engines": {}, "voice_to_voice": {
        "engine": "piper", "turns": 5, "text_shim": {"used": True},
        "no_tool": {MODES[0]: g, MODES[1]: g, "paired_ratio": {"ahead_over_plain": {"median": 0.8},
                                                               "close_ahead_over_plain": {"median": 0.2},
                                                               "pairs": 2}},
        "tool": {MODES[0]: g}}}}
    lines: list[str] = []
    speak_lines(res, lines.append)
    text = "\n".join(lines)
    assert "text shim" in text and "no-tool questions" in text and "tool questions" in text
    assert "paired: 0.80" in text and "close → first audio 0.20" in text
