"""The answer is spoken while it streams: the first sentence is synthesized before the answer ends,
every sentence is played in order, and the sound really reaches the output (the PulseAudio null
sink's monitor is recorded)."""
from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading
import time
import wave
from pathlib import Path

import numpy as np

from bestbox.pipeline.events import TurnEvent
from bestbox.speak.engines import EspeakEngine
from bestbox.speak.reply import ReplySpeaker
from bestbox.trace import TurnTrace

ANSWER = ("Acme is the top vendor this quarter. It billed **5,000 dollars** in March.\n\n"
          "| Vendor | Total |\n|---|---|\n| Acme | 5000 |\n| Bolt | 700 |\n\nAsk me for the invoices.")
APP = str(Path(__file__).resolve().parents[2] / "app")


class Recorder:
    """What the speakers played: the null sink's monitor, recorded with parecord."""

    def __init__(self, env, path: Path):
        self.path = path
        self.proc = subprocess.Popen(["parecord", "--device=vmic.monitor", "--channels=1", "--rate=16000",
                                      "--format=s16le", "--file-format=wav", str(path)], env=env)
        time.sleep(0.5)

    def stop(self) -> np.ndarray:
        time.sleep(0.3)
        self.proc.send_signal(signal.SIGINT)
        self.proc.wait(10)
        with wave.open(str(self.path)) as w:
            return np.frombuffer(w.readframes(w.getnframes()), "<i2").astype(np.float32) / 32768


def voiced_seconds(audio: np.ndarray, rate: int = 16000) -> float:
    frames = audio[: len(audio) // 320 * 320].reshape(-1, 320)
    return float((np.sqrt((frames ** 2).mean(axis=1)) > 0.01).sum() * 0.02)


def test_first_sentence_is_synthesized_before_the_answer_ends():
    trace = TurnTrace()
    rs = ReplySpeaker(EspeakEngine(), output=False, trace=trace)
    seen_before_done = []

    def model():
        for w in ANSWER.split(" "):
            rs.on_event(TurnEvent("token", {"text": w + " "}))
            time.sleep(0.05)
        seen_before_done.extend(rs.speaker.state.queued)
        trace.mark("done")
        rs.on_event(TurnEvent("done", {"answer": ANSWER}))

    t = threading.Thread(target=model)
    t.start()
    t.join()
    assert rs.wait(60)
    assert seen_before_done and seen_before_done[0] == "Acme is the top vendor this quarter."
    assert trace.marks["first_audio"] < trace.marks["done"]
    assert rs.speaker.state.queued == [
        "Acme is the top vendor this quarter.", "It billed 5,000 dollars in March.",
        "A table of 2 rows with columns Vendor, Total. The first row: Vendor Acme, Total 5000.",
        "Ask me for the invoices."]


def test_done_without_tokens_speaks_the_whole_answer():
    rs = ReplySpeaker(EspeakEngine(), output=False)
    rs.on_event(TurnEvent("done", {"answer": "One. Two."}))
    assert rs.wait(30) and rs.speaker.state.queued == ["One.", "Two."]


def test_reply_plays_through_the_speakers_in_order(virtual_mic, tmp_path):
    rec = Recorder(virtual_mic, tmp_path / "out.wav")
    r = subprocess.run([sys.executable, str(Path(__file__).with_name("speak_child.py")), "espeak", ANSWER],
                       env={**virtual_mic, "PYTHONPATH": APP}, capture_output=True, text=True, timeout=120)
    heard = rec.stop()
    assert r.returncode == 0, r.stderr
    info = json.loads(r.stdout)
    assert info["output_error"] is None
    assert info["first_audio_ms"] is not None
    assert info["spoken"] == " ".join(info["queued"])  # everything was heard
    # The sink carried about as much speech as was synthesized (no sentence dropped, no long gaps).
    assert voiced_seconds(heard) > 0.5 * info["seconds"]
