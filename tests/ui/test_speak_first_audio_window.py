"""A spoken reply's first sound, in the window: the reply marks `first_audio` on the turn's own
TurnTrace (the one its "first token" and "total" come from) when its first block goes to the output,
records whether that was the clause made ahead, and the answer shows a "first audio" badge. Through
the window's real paths, as AppController wires them: a file played as the microphone → VoiceController
→ VoiceSession → the pipeline thread → the chat pane → SpeakController; and a typed question, spoken
when voice_out.speak_typed is on. Real demo servers, Whisper tiny.en and espeak-ng."""
from __future__ import annotations


import pytest

from bestbox.audio.filesource import FileSoundDevice
from bestbox.ui.badges import fmt_ms

from test_speak_ahead_window import NO_TOOL, _clip, _talk, speaking_window
from test_speak_window import _speakers  # noqa: F401 - autouse: the replies play into the test's null sink
from ui_helpers import save_shot

pytestmark = [pytest.mark.gui, pytest.mark.slow]


@pytest.fixture
def app_window(qtbot, aloop, tmp_path, assistant):
    """The window over the real Assistant, for typed and spoken turns alike (the adapter is the
    chat's source, as in AppController); `mic` is set by a test that talks."""
    yield from speaking_window(qtbot, tmp_path, assistant)


def _first_audio_badge(qtbot, bubble, trace) -> str:
    want = f"first audio {fmt_ms(trace.marks['first_audio'])}"
    qtbot.waitUntil(lambda: bubble.badges.first_audio_badge is not None
                    and bubble.badges.first_audio_badge.text() == want, timeout=10_000)
    texts = bubble.badges.texts()
    assert texts.count(want) == 1 and not any(t.startswith("first audio") and t != want for t in texts), texts
    assert texts.index(want) == next(i for i, t in enumerate(texts) if t.startswith("total")) + 1, texts
    return bubble.badges.first_audio_badge.toolTip()


def test_spoken_question_marks_first_audio_on_its_trace_and_shows_it(qtbot, app_window, tmp_path, shots):
    w, voice, speak, mic, assistant = app_window
    audio, rate = _clip(NO_TOOL, tmp_path / "q.wav")
    mic["device"] = FileSoundDevice(audio, rate, speed=1.0, tail_silence_s=3.0)
    res = _talk(qtbot, w, voice, speak)
    trace = speak.reply.trace
    assert trace is not None and trace.is_voice                      # the voice turn's trace: t0 = end of speech
    assert res["timings"]["ttft_ms"] == round(trace.marks["first_token"], 2)   # the turn's one trace
    first = trace.marks["first_audio"]
    assert first > trace.marks["transcript"] > 0                     # after the end of speech, and the transcript
    state = speak.reply.speaker.state
    assert trace.values["first_audio_ahead"] is state.premade_first  # the clause made ahead, or not
    assert trace.timings()["first_audio_ms"] == round(first, 2)
    bubble = w.chat.answers[-1]
    tip = _first_audio_badge(qtbot, bubble, trace)
    assert "end of your speech" in tip
    assert ("made while you paused" in tip) is state.premade_first
    save_shot(bubble, shots / "speak_first_audio_voice.png")
    # kept with the turn (the answer was kept before its sound may have started): a reopened answer shows it
    cid = res["conversation_id"]

    def kept() -> dict:
        return [m for m in assistant.history.load(cid) if m["role"] == "assistant"][-1]["meta"]["timings"]

    qtbot.waitUntil(lambda: kept().get("first_audio_ms") == round(first, 2), timeout=10_000)
    assert kept()["first_audio_ahead"] is state.premade_first
    w.chat.show_conversation(cid, assistant.history.load(cid))
    again = w.chat.answers[-1]
    assert again is not bubble and again.badges.first_audio_badge.text() == bubble.badges.first_audio_badge.text()
    assert "end of your speech" in again.badges.first_audio_badge.toolTip()


def test_typed_question_spoken_marks_first_audio_from_the_send(qtbot, app_window, shots):
    w, voice, speak, mic, assistant = app_window
    speak.cfg.speak_typed = True
    ended = []
    speak.speaking_changed.connect(lambda bubble, on: on or ended.append(bubble))
    w.chat.send(NO_TOOL)
    qtbot.waitUntil(lambda: not w.chat.running, timeout=120_000)
    qtbot.waitUntil(lambda: bool(ended) and speak.reply.finished.is_set(), timeout=120_000)
    trace = speak.reply.trace
    assert trace is not None and not trace.is_voice
    assert trace.marks["first_audio"] > trace.marks["first_token"] > 0   # a typed answer is spoken as it streams
    assert trace.values["first_audio_ahead"] is False                 # nothing is made ahead for typed text
    bubble = w.chat.answers[-1]
    tip = _first_audio_badge(qtbot, bubble, trace)
    assert "sending the question" in tip
    save_shot(bubble, shots / "speak_first_audio_typed.png")
