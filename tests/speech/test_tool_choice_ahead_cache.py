"""What the tool choice made ahead (agents/ahead.py) leaves for the turn, beyond the choice itself:
it starts in the silence window (before the close), the server keeps its prompt for the next turn
(cache_n), and once a read-only tool ran ahead the answer's prompt is read into the server's cache
so the turn's answer reuses it. Real demo servers and Whisper; mechanisms, not timings."""
from __future__ import annotations

import asyncio

import pytest

from bestbox.audio.filesource import FileSoundDevice
from bestbox.audio.wavfile import read_audio
from bestbox.pipeline.answerer import PipelineAnswerer
from bestbox.pipeline.assistant import Assistant, run_text_turn
from bestbox.speech.voice_turn import VoiceSession
from bestbox.trace import TurnTrace

TEXT = "show me the top vendors by spend"


@pytest.fixture
def assistant(assistant):
    asyncio.run(assistant.database())   # generated before: the choice then starts as soon as its route is known
    return assistant


def stage(trace: TurnTrace, name: str):
    return next((s for s in trace.stages if s.name == name), None)


async def ahead_turn(assistant: Assistant, text: str) -> TurnTrace:
    """A turn whose tool choice was started ahead and had finished (as in a long silence window)."""
    assistant.preroute(text)
    task = assistant.ahead._task
    assert task is not None
    await asyncio.wait([task])
    trace = TurnTrace()
    res = await run_text_turn(text, config=assistant.config, assistant=assistant, trace=trace)
    assert not res.get("error"), res
    return trace


def test_the_choice_made_ahead_keeps_the_server_timings_and_its_prompt_stays_cached(assistant):
    async def go():
        return [await ahead_turn(assistant, TEXT) for _ in range(2)]

    first, second = asyncio.run(go())
    for trace in (first, second):
        assert trace.values.get("tool_choice_ahead") == "reused", trace.values
    st = stage(second, "tool_choice_ahead")
    for key in ("prompt_n", "cache_n", "prompt_ms", "predicted_n", "predicted_ms", "after_asked_ms"):
        assert key in st.detail, st.detail
    # the same system prompt, tools and request: the second turn's choice reads (almost) nothing anew
    assert st.detail["cache_n"] > 0 and st.detail["prompt_n"] < st.detail["cache_n"], st.detail


def test_a_tool_run_ahead_reads_the_answers_prompt_ahead_and_the_answer_reuses_it(assistant):
    trace = asyncio.run(ahead_turn(assistant, TEXT))
    if trace.values.get("tool_run_ahead") != "reused":
        pytest.skip(f"the demo model's call did not run ahead: {trace.values}")
    pre = stage(trace, "answer_prefill_ahead")
    assert pre is not None, [s.name for s in trace.stages]
    assert pre.detail["prompt_n"] > 0
    # the answer found its prompt in the server's cache: only the tail was read anew
    assert trace.values["server_cache_n"] >= pre.detail["prompt_n"], (trace.values, pre.detail)
    assert trace.values["server_prompt_n"] < pre.detail["prompt_n"], (trace.values, pre.detail)


def test_the_tool_choice_starts_in_the_silence_window_before_the_close(espeak_wavs, transcriber, assistant):
    # a long window, so that the close comes after the speculative transcript on a busy machine too
    speech = assistant.config.speech.model_copy(update={"turn_end": "fixed", "vad_silence_ms": 5000})
    cfg = assistant.config.model_copy(update={"speech": speech})
    fake = FileSoundDevice(read_audio(espeak_wavs["vendors"]).audio, 16000, speed=1.0, tail_silence_s=6.0)
    s = VoiceSession(cfg, transcriber=transcriber, sounddevice=fake, answerer=PipelineAnswerer(assistant),
                     cleanup=False)
    r = asyncio.run(s.listen())
    assert not r.get("error"), r
    assert r["timings"].get("tool_choice_ahead") == "reused", r["timings"]
    ahead = next(st for st in r["stages"] if st["name"] == "tool_choice_ahead")
    assert ahead["start_ms"] < r["timings"]["vad_wait_ms"], (ahead, r["timings"])
