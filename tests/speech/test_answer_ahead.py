"""The answer of a question that needs no tool, started on the speculative transcript in the silence
window (pipeline/answer_ahead.py), and its first clause synthesized meanwhile (speak/ahead.py): the
turn with the same text takes both (the pre-made clause is what plays first); speech that resumes or
a different final text drops them, and nothing of them is played, shown or kept. A question that
needs a tool never starts an answer there. Real demo servers, real espeak-ng."""
from __future__ import annotations

import asyncio
import time

import pytest

from bestbox.pipeline.answerer import PipelineAnswerer
from bestbox.speak.engines import EspeakEngine
from bestbox.speak.voice_reply import SpeakingAnswerer
from bestbox.trace import TurnTrace

NO_TOOL = "tell me a short joke about computers"
TOOL = "show me the top vendors by spend"




class Counting(EspeakEngine):
    """The real espeak-ng engine, counting what it was asked to say."""

    def __init__(self):
        super().__init__()
        self.said: list[str] = []

    def synthesize(self, text):
        self.said.append(text)
        return super().synthesize(text)


async def _wait(cond, timeout_s=120.0):
    end = time.monotonic() + timeout_s
    while not cond():
        assert time.monotonic() < end, "timed out"
        await asyncio.sleep(0.02)


def _speaker(assistant):
    shown: list = []
    inner = PipelineAnswerer(assistant, on_event=shown.append, auto_confirm=False)
    return SpeakingAnswerer(inner, Counting(), output=False), shown


async def _made_ahead(ans, text):
    """Preroute `text` as VoiceSession does, and wait until its first clause is synthesized."""
    ans.preroute(text)
    await _wait(lambda: ans.ahead.made and ans.ahead.made[-1].future.done())
    return ans.ahead.made[-1]


async def _turn(ans, text):
    trace = TurnTrace()
    res = await ans.answer(text, trace=trace, meta={})
    res = await ans.finish(res, None)
    ans.detach()
    return res, trace


def test_matching_transcript_plays_the_clause_made_ahead(assistant):
    async def go():
        ans, shown = _speaker(assistant)
        pm = await _made_ahead(ans, NO_TOOL)
        assert shown == []                      # nothing shown before the turn
        said_before = list(ans.engine.said)
        res, trace = await _turn(ans, NO_TOOL)
        return ans, pm, said_before, res, trace

    ans, pm, said_before, res, trace = asyncio.run(go())
    assert not res.get("error"), res
    assert res["route"]["agent"] == "general", res["route"]
    assert trace.values.get("answer_ahead") == "taken", trace.values
    assert pm.used and ans.reply.speaker.state.premade_first
    assert res["timings"]["first_audio_ahead"] is True and trace.marks["first_audio"] > 0   # the trace says so
    assert ans.reply.speaker.state.queued[0] == pm.text     # what played first is the clause made ahead
    assert ans.engine.said.count(pm.text) == 1 == said_before.count(pm.text)   # synthesized once, ahead
    assert res["answer"].strip()


@pytest.mark.parametrize("how", ["speech resumed", "the final transcript differs"])
def test_resumed_speech_or_other_text_drops_the_answer_made_ahead(assistant, how):
    final = NO_TOOL if how == "speech resumed" else "tell me a short story about a cat"

    async def go():
        ans, shown = _speaker(assistant)
        pm = await _made_ahead(ans, NO_TOOL)
        ahead = assistant.answers_ahead.current
        if how == "speech resumed":
            ans.drop_ahead()                    # what VoiceSession does on "speech_resumed"
        res, trace = await _turn(ans, final)
        return ans, pm, ahead, shown, res, trace

    ans, pm, ahead, shown, res, trace = asyncio.run(go())
    assert not res.get("error"), res
    assert trace.values.get("answer_ahead_dropped") == how, trace.values
    assert "answer_ahead" not in trace.values
    assert ahead.state == "dropped" and pm.dropped and not pm.used
    assert not ans.reply.speaker.state.premade_first and res["timings"]["first_audio_ahead"] is False
    # nothing of it was shown: every answer token the listener saw came from the turn
    shown_text = "".join(e.data["text"] for e in shown if e.kind == "token")
    assert shown_text == res["answer"]
    kept = assistant.history.context(res["conversation_id"])
    assert [m["role"] for m in kept] == ["user", "assistant"] and kept[1]["content"] == res["answer"]


def test_tool_question_starts_no_answer_ahead(assistant):
    seen = []

    async def go():
        assistant.answers_ahead.watchers.append(seen.append)
        assistant.preroute(TOOL)
        ahead = assistant.answers_ahead.current
        await _wait(lambda: ahead.ready.is_set())
        assistant.drop_ahead()
        return ahead

    ahead = asyncio.run(go())
    assert ahead.state == "skipped" and ahead.events == [] and seen == []


def test_spoken_no_tool_question_plays_the_clause_made_in_the_silence_window(transcriber, assistant, tmp_path):
    """The app's path: a spoken clip in real time → recorder → VoiceSession (speculation, preroute)
    → pipeline → SpeakingAnswerer; the turn took the answer made ahead and played its clause first."""
    from bestbox.audio.filesource import FileSoundDevice
    from bestbox.audio.wavfile import read_audio
    from bestbox.bench.utterances import speak
    from bestbox.speech.voice_turn import VoiceSession

    cfg = assistant.config.model_copy(update={"speech": assistant.config.speech.model_copy(
        update={"turn_end": "fixed"})})
    audio = read_audio(speak(NO_TOOL, tmp_path / "q.wav")).audio
    fake = FileSoundDevice(audio, 16000, speed=1.0, tail_silence_s=3.0)
    ans, shown = _speaker(assistant)
    s = VoiceSession(cfg, transcriber=transcriber, sounddevice=fake, answerer=ans, cleanup=False)

    async def go():
        r = await s.listen()
        return await ans.finish(r, None)

    r = asyncio.run(go())
    ans.detach()
    assert not r.get("error"), r
    t = r["timings"]
    if not t["speculation_reused"]:
        pytest.skip("Whisper's speculative transcript was not reused on this run: nothing was made ahead")
    assert r["route"]["agent"] == "general", r["route"]
    assert t.get("answer_ahead") == "taken", t
    assert "answer_ahead_started_ms" in t   # when, against the end of speech: a timing, for the bench
    assert ans.reply.speaker.state.premade_first and ans.ahead.made[-1].used
    assert t["first_audio_ms"] is not None
