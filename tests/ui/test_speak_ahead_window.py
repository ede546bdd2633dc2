"""The window's spoken reply to a question whose answer was made ahead (pipeline/answer_ahead.py):
the window's real voice path — a file played as the microphone (the `sounddevice` seam the bench
uses) → VoiceController → VoiceSession (speculation, preroute in the silence window) → the
pipeline thread → the chat pane → SpeakController — with the same `speak.ahead.FirstClauseAhead`
as `bestbox voice --speak`. A matching final transcript plays the clause made ahead first; a
person who pauses (Space held: hold-to-talk) and goes on speaking gets another text, and the clause made on the first words is dropped:
never played, never shown. Real demo servers, Whisper tiny.en and espeak-ng."""
from __future__ import annotations

import asyncio
import threading
import time

import numpy as np
import pytest

from bestbox.audio.filesource import FileSoundDevice
from bestbox.audio.wavfile import read_audio
from bestbox.ui.assistant_adapter import AssistantAdapter
from bestbox.ui.main_window import MainWindow
from bestbox.ui.speak_controller import SpeakController
from bestbox.ui.voice_adapter import VoiceController, default_session_factory

from test_main_window import FakeBridge, HistorySource, _Loaded, _snaps
from test_speak_window import _speakers  # noqa: F401 - autouse: the replies play into the test's null sink
from ui_helpers import save_shot

pytestmark = [pytest.mark.gui, pytest.mark.slow]
NO_TOOL = "tell me a short joke about computers"
MORE = "and then one about the weather"


class _PausingMic(FileSoundDevice):
    """The test's microphone: says `first`, is silent until `resume()` holds (at most `max_pause_s`),
    like a person who pauses mid-request, then says `then` and stays silent; `said_all` is set a
    second after the last words."""

    def __init__(self, first: np.ndarray, then: np.ndarray, rate: int, resume, max_pause_s: float):
        super().__init__(first, rate)
        self.then, self.resume, self.max_pause_s = np.asarray(then, np.float32), resume, max_pause_s
        self.resumed_by: str | None = None   # "resume" or "time"
        self.said_all = threading.Event()

    def InputStream(self, *, device, channels, samplerate, dtype, blocksize, callback, finished_callback=None):
        assert int(samplerate) == self.rate
        return _PausingStream(self, blocksize, callback, finished_callback)


class _PausingStream:
    def __init__(self, mic: _PausingMic, blocksize: int, callback, finished) -> None:
        self.mic, self.bs, self.callback, self.finished = mic, blocksize, callback, finished
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="pausing-mic", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _words(self, audio: np.ndarray):
        for i in range(0, len(audio), self.bs):
            yield np.pad(audio[i:i + self.bs], (0, max(0, i + self.bs - len(audio))))

    def _blocks(self):
        m, silence = self.mic, np.zeros(self.bs, np.float32)
        yield from self._words(m.signal[:, 0])
        end = time.monotonic() + m.max_pause_s
        while not m.resume() and time.monotonic() < end:
            yield silence
        m.resumed_by = "resume" if m.resume() else "time"
        yield from self._words(m.then)
        for n in range(10 ** 6):   # silence until the recording stops
            if n * self.bs >= m.rate:
                m.said_all.set()
            yield silence

    def _run(self) -> None:
        t0, n = time.perf_counter(), 0
        for block in self._blocks():
            n += 1
            delay = t0 + n * self.bs / self.mic.rate - time.perf_counter()   # real time, as a microphone
            if self._stop.wait(max(0.0, delay)):
                break
            self.callback(block[:, None], self.bs, None, None)
        if self.finished:
            self.finished()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(2)

    close = stop


def _clip(text: str, path) -> tuple[np.ndarray, int]:
    from bestbox.bench.utterances import speak

    return read_audio(speak(text, path)).audio, 16000   # read_audio gives 16 kHz mono


def speaking_window(qtbot, tmp_path, assistant, chat_source=None, vad_silence_ms: int | None = None):
    """The window's voice and speech parts as AppController wires them, over a real Assistant on the
    pipeline thread (a generator: yields w, voice, speak, mic, assistant; `mic["device"]` is set by the
    test before it talks). chat_source: what the chat pane reads (the adapter, as in AppController,
    when None). vad_silence_ms: a longer fixed window, for a test whose speaker pauses on purpose."""
    speech = assistant.config.speech.model_copy(update={"turn_end": "fixed", **(
        {"vad_silence_ms": vad_silence_ms} if vad_silence_ms else {})})
    cfg = assistant.config.model_copy(update={"speech": speech}, deep=True)
    cfg.voice_out.engine, cfg.voice_out.rate, cfg.voice_out.muted = "espeak", 2.0, False
    cfg.voice_out.barge_in = False   # the reply plays into the sink the test's microphone is not on
    loaded = _Loaded(tmp_path / "config.toml")
    loaded.config = cfg
    adapter = AssistantAdapter(assistant, isolate=True)
    mic: dict = {}

    def factory(**kw):
        return default_session_factory(cfg, adapter, lambda: assistant.endpoints, sounddevice=mic["device"])(**kw)

    voice = VoiceController(factory)
    w = MainWindow(FakeBridge(_snaps()), chat_source if chat_source is not None else adapter, voice, loaded)
    speak = SpeakController(cfg.voice_out, loaded.path, w)
    w.set_speak(speak)
    speak.follow_answers(adapter)   # what AppController._wire_speak does
    qtbot.addWidget(w)
    w.show()
    qtbot.waitExposed(w)
    yield w, voice, speak, mic, assistant
    closing = asyncio.ensure_future(speak.aclose())
    qtbot.waitUntil(closing.done, timeout=30_000)
    if voice.session is not None:
        voice.session.transcriber.close()
    adapter.close()


@pytest.fixture
def voice_window(qtbot, aloop, tmp_path, assistant):
    yield from speaking_window(qtbot, tmp_path, assistant, HistorySource(assistant.history))


@pytest.fixture
def pausing_voice_window(qtbot, aloop, tmp_path, assistant):
    """The speaker below pauses until a clause was made ahead: with Whisper's short window that can come
    after the 700 ms window on a loaded 2-core machine, so the window here waits 5 s."""
    yield from speaking_window(qtbot, tmp_path, assistant, HistorySource(assistant.history), vad_silence_ms=5000)


def _talk(qtbot, w, voice, speak, mic=None) -> dict:
    """One spoken turn: a click on the mic (the VAD ends the turn), or with a `_PausingMic` Space held
    in the question box until it said all (hold-to-talk never ends on a pause); then wait for the
    answer and its spoken reply."""
    from PySide6.QtCore import Qt

    ended = []
    speak.speaking_changed.connect(lambda bubble, on: on or ended.append(bubble))
    if mic is None:
        qtbot.mouseClick(w.chat.composer.mic, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: voice.active, timeout=10_000)
    else:
        box = w.chat.composer.input
        box.setFocus()
        qtbot.keyPress(box, Qt.Key.Key_Space)
        qtbot.waitUntil(lambda: voice.recording, timeout=30_000)
        qtbot.waitUntil(mic.said_all.is_set, timeout=120_000)
        qtbot.keyRelease(box, Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: not voice.active, timeout=240_000)
    res = voice.session.last_result or {}
    assert not res.get("error"), res
    qtbot.waitUntil(lambda: bool(ended) and speak.reply.finished.is_set(), timeout=120_000)
    return res


def test_spoken_question_plays_the_clause_made_ahead_first(qtbot, voice_window, tmp_path, shots):
    w, voice, speak, mic, assistant = voice_window
    audio, rate = _clip(NO_TOOL, tmp_path / "q.wav")
    mic["device"] = FileSoundDevice(audio, rate, speed=1.0, tail_silence_s=3.0)
    res = _talk(qtbot, w, voice, speak)
    save_shot(w, shots / "speak_ahead_window.png")
    t = res["timings"]
    if not t.get("speculation_reused") or res.get("cleanup_policy") == "before_answer":
        pytest.skip("Whisper's speculative transcript was not answered as heard on this run: nothing was made ahead")
    assert res["route"]["agent"] == "general", res["route"]
    assert t.get("answer_ahead") == "taken", t                   # the turn took the answer made ahead
    pm = speak.ahead.made[-1]
    state = speak.reply.speaker.state
    assert pm.used and not pm.dropped and state.premade_first    # its clause made ahead was played ...
    assert state.queued[0] == pm.text                            # ... as the first sentence
    bubble = w.chat.answers[-1]
    assert bubble.source == "voice" and bubble.text.strip() == res["answer"].strip()
    assert speak.reply.speaker.output_error or state.heard.get(0)   # sound came out (or no sink here)


def test_speech_that_goes_on_drops_the_clause_made_on_its_first_words(qtbot, pausing_voice_window, tmp_path, shots):
    w, voice, speak, mic, assistant = pausing_voice_window
    first, rate = _clip(NO_TOOL, tmp_path / "q1.wav")
    first = first[:-rate]   # its padding ends 0.2 s after the words: the pause below is the person's
    then, _ = _clip(MORE, tmp_path / "q2.wav")
    made_then: list = []

    def resume() -> bool:   # go on speaking once a clause was made ahead for the first words
        if speak.ahead.made and speak.ahead.made[-1].future is not None and speak.ahead.made[-1].future.done():
            made_then[:] = [speak.ahead.made[-1]]
            return True
        return False

    # at most 1.5 s, the smart end of turn's bound: after a longer pause Whisper (either window) can end
    # its text at the silence and drop what follows
    mic["device"] = dev = _PausingMic(first, then, rate, resume, max_pause_s=1.5)
    res = _talk(qtbot, w, voice, speak, dev)
    save_shot(w, shots / "speak_ahead_dropped_window.png")
    if dev.resumed_by != "resume":
        pytest.skip(f"nothing was made ahead in the pause on this run (Whisper or the answer too slow): "
                    f"{len(speak.ahead.made)} clauses made, {res['timings'].get('answer_ahead_dropped')}")
    pm = made_then[0]
    t = res["timings"]
    assert "speech resumed" in (t.get("answer_ahead_dropped") or ""), t
    assert pm.dropped and not pm.used                            # the clause of the first words: never played
    # another text: the turn got the words said after the pause too (judged by their number, not by
    # which words tiny.en heard: under load it mishears, as CI showed elsewhere)
    heard = (res.get("transcript_raw") or "").split()
    assert len(heard) >= len(NO_TOOL.split()) + 2, res.get("transcript_raw")
    state = speak.reply.speaker.state
    if state.premade_first:   # the whole request was answered ahead too: that clause, not the dropped one
        assert speak.ahead.made[-1] is not pm and speak.ahead.made[-1].used
    # nothing of the dropped answer was shown: the bubble holds the turn's answer, as kept
    bubble = w.chat.answers[-1]
    assert bubble.text.strip() == res["answer"].strip()
    kept = assistant.history.context(res["conversation_id"])
    assert [m["role"] for m in kept] == ["user", "assistant"] and kept[1]["content"] == res["answer"]
