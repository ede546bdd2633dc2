"""The tool choice started on the speculative transcript in the silence window (agents/ahead.py,
pipeline/ahead.py): a spoken tool question's turn reuses it (the trace says so), a resumed speech or
a different final text drops it. Real demo servers, real Whisper, the recorder path in real time."""
from __future__ import annotations

import asyncio

import numpy as np

from bestbox.audio.filesource import FileSoundDevice
from bestbox.audio.wavfile import read_audio
from bestbox.pipeline.answerer import PipelineAnswerer
from bestbox.pipeline.assistant import run_text_turn
from bestbox.speech.voice_turn import VoiceSession
from bestbox.trace import TurnTrace




def test_spoken_tool_question_reuses_the_tool_choice_made_in_the_silence_window(espeak_wavs, transcriber,
                                                                                 assistant):
    cfg = assistant.config.model_copy(update={"speech": assistant.config.speech.model_copy(
        update={"turn_end": "fixed"})})
    audio = read_audio(espeak_wavs["vendors"]).audio
    fake = FileSoundDevice(audio, 16000, speed=1.0, tail_silence_s=3.0)
    s = VoiceSession(cfg, transcriber=transcriber, sounddevice=fake, answerer=PipelineAnswerer(assistant),
                     cleanup=False)
    r = asyncio.run(s.listen())
    assert not r.get("error"), r
    assert r["route"]["agent"] == "erp", r["route"]
    t = r["timings"]
    assert t["speculation_reused"] is True
    assert t.get("tool_choice_ahead") == "reused", t
    names = [st["name"] for st in r["stages"]]
    assert "tool_choice_ahead" in names, names
    ahead = next(st for st in r["stages"] if st["name"] == "tool_choice_ahead")
    asr = next(st for st in r["stages"] if st["name"] == "asr")
    # it started on the speculative transcript (a fresh data dir first generates the demo database,
    # so when it starts against the turn's route is not asserted)
    assert asr["start_ms"] <= ahead["start_ms"] and ahead["ms"] > 0
    assert r["tool_calls"] and r["tool_calls"][0]["name"] == "top_vendors_by_spend", r["tool_calls"]
    if "tool_run_ahead" in names:   # a valid read-only call ran ahead too: the turn took its result
        assert t.get("tool_run_ahead") == "reused", t
    assert t["speech_end_to_first_token_ms"] is not None


def test_resumed_speech_or_other_text_drops_the_tool_choice(assistant):
    text = "show me the top vendors by spend"

    async def go():
        traces = []
        for final, drop in ((text, True), ("list the unpaid invoices", False)):
            assistant.preroute(text)
            await asyncio.sleep(0)           # the choice is under way
            if drop:
                assistant.drop_ahead()       # what VoiceSession does on "speech_resumed"
            trace = TurnTrace()
            res = await run_text_turn(final, config=assistant.config, assistant=assistant, trace=trace)
            assert not res.get("error"), res
            traces.append(trace)
        return traces

    resumed, differs = asyncio.run(go())
    for trace, why in ((resumed, "speech resumed"), (differs, "the final transcript differs")):
        assert trace.values.get("tool_choice_ahead_dropped") == why, trace.values
        assert "tool_choice_ahead" not in trace.values
        assert not [s for s in trace.stages if s.name == "tool_choice_ahead"]


class Recorder:
    """An Answerer that records preroutes and drops (no answer)."""

    def __init__(self):
        self.log = []

    def preroute(self, text):
        self.log.append(("preroute", text))

    def drop_ahead(self):
        self.log.append(("drop", None))

    async def answer(self, text, *, trace, meta):
        self.log.append(("answer", text))
        return {}


def test_speech_that_resumes_drops_the_work_started_ahead(espeak_wavs, transcriber):
    from bestbox.config import Config

    a, b = read_audio(espeak_wavs["vendors"]).audio, read_audio(espeak_wavs["vpn"]).audio

    def trim(x):
        nz = np.nonzero(np.abs(x) > 1e-3)[0]
        return x[nz[0]:nz[-1]]

    sig = np.concatenate([np.zeros(4000, np.float32), trim(a), np.zeros(6400, np.float32), trim(b)])
    rec = Recorder()
    s = VoiceSession(Config(speech={"turn_end": "fixed"}), transcriber=transcriber,
                     sounddevice=FileSoundDevice(sig, 16000, speed=1.0, tail_silence_s=2.0), answerer=rec,
                     cleanup=False)
    asyncio.run(s.listen())
    kinds = [k for k, _ in rec.log]
    assert "drop" in kinds and kinds[-1] == "answer", rec.log
    assert kinds.index("drop") < kinds.index("answer")
