"""The end of a voice turn: the decision on transcripts, and the smart mode on the real recorder
path (a file played in real time through `FileSoundDevice`, the VAD and the speculation)."""
from __future__ import annotations

import asyncio
import shutil
import subprocess

import numpy as np
import pytest

from bestbox.audio.filesource import FileSoundDevice
from bestbox.audio.resample import resample
from bestbox.config import Config
from bestbox.speech.turn_end import TurnEndPolicy, verdict
from bestbox.speech.voice_turn import VoiceSession

from .conftest import read_pcm


@pytest.mark.parametrize("text", [
    "Show me the top vendors.", "What is 15% of 80?", "The VPN is down, open a ticket.",
    "Please follow up with them.", "Are any invoices overdue?", "How many vacation days do I have left?",
    "Can you approve my expense report?", "Reset the password for my mail account.",
])
def test_finished_requests_read_complete(text):
    assert verdict(text) == "complete"


@pytest.mark.parametrize("text", [
    "Show me the top vendors for", "show me the top vendors for...", "List the unpaid invoices and",
    "Book a room at um", "What is 15 point", "Open a ticket because the", "Show me,", "Show",
    "how many vacation days do I have, uh",
    # Whisper's final punctuation on a cut-off request is not trusted (the GPU run's transcripts)
    "How many vacation days do I?", "How many laptops do we?", "Can you?", "Show me the top vendors for it.",
    "Send the report to the.", "Could you?", "When does the?",
])
def test_unfinished_requests_read_incomplete(text):
    assert verdict(text) == "incomplete"


@pytest.mark.parametrize("text", [
    "Call Northwind.", "Thank you.", "did last night's backups succeed", "show me the top vendors",
])
def test_short_or_unpunctuated_requests_read_unsure(text):
    assert verdict(text) == "unsure"


def test_whisper_not_confident_reads_unsure():
    class Tr:
        confident = False

    assert verdict("Get the mark up, finish with our terrains.", Tr()) == "unsure"
    Tr.confident = True
    assert verdict("Get the mark up, finish with our terrains.", Tr()) == "complete"


def test_wait_follows_mode_and_verdict():
    smart = TurnEndPolicy(mode="smart", fixed_ms=700, min_ms=250, max_ms=1500)
    assert smart.wait_ms("Show me the top vendors.") == 250  # closes early on a finished request
    assert smart.wait_ms("Show me the top vendors for") == 1500  # waits longer on an unfinished one
    assert smart.wait_ms("How many vacation days do I?") == 1500
    assert smart.wait_ms("Call Northwind.") == 700  # maybe finished: never sooner than the fixed window
    assert smart.wait_ms("") == 1500 and smart.bound_ms == 1500
    assert TurnEndPolicy(mode="smart", fixed_ms=2000, min_ms=250, max_ms=1500).wait_ms("Call Northwind.") == 1500
    fixed = TurnEndPolicy(mode="fixed", fixed_ms=700)
    assert fixed.wait_ms("Show me the top vendors.") == 700 == fixed.bound_ms
    assert fixed.wait_ms("Show me the top vendors for") == 700
    cfg = Config(speech={"turn_end": "smart", "turn_min_ms": 300, "turn_max_ms": 1200})
    assert TurnEndPolicy.from_config(cfg.speech) == TurnEndPolicy("smart", cfg.speech.vad_silence_ms, 300, 1200)



def test_default_is_smart():
    # smart cut fewer speakers off than the fixed window on every split measured (docs/benchmarks.md)
    policy = TurnEndPolicy.from_config(Config().speech)
    assert policy.mode == "smart" and policy.fixed_ms == 700
    assert policy.wait_ms("Show me the top vendors.") == 250 and policy.wait_ms("Show me the top vendors for") == 1500


def _say(text: str, tmp_path) -> np.ndarray:
    if not shutil.which("espeak-ng"):
        pytest.skip("espeak-ng is not installed")
    raw = tmp_path / "say.wav"
    subprocess.run(["espeak-ng", "-w", str(raw), text], check=True, capture_output=True)
    a, rate = read_pcm(raw)
    a = resample(a, rate, 16000)
    nz = np.nonzero(np.abs(a) > 1e-3)[0]
    return a[nz[0]:nz[-1] + 1].astype(np.float32)


def _turn(transcriber, sig: np.ndarray, mode: str) -> dict:
    # A high bound and a slowed playback leave Whisper (seconds on a loaded 2-core machine) time to
    # finish its speculation inside the pause; the assertions are on audio time, not wall clock.
    cfg = Config(speech={"turn_end": mode, "turn_max_ms": 5000})
    fake = FileSoundDevice(sig, 16000, speed=0.5, tail_silence_s=6.0)
    s = VoiceSession(cfg, transcriber=transcriber, sounddevice=fake, cleanup=False)
    return asyncio.run(s.listen())


def test_smart_closes_a_finished_request_sooner(transcriber, tmp_path):
    lead = np.zeros(6400, np.float32)
    sig = np.concatenate([lead, _say("show me the top vendors by spend", tmp_path)])
    r = _turn(transcriber, sig, "smart")
    rec = r["recording"]
    assert rec["reason"] == "vad_end" and rec["turn_end"]["mode"] == "smart"
    assert rec["turn_end"]["wait_ms"] == 250, (rec["turn_end"], rec["silence_at_end_s"])  # the speculative transcript read as finished
    # it closed on the transcript's word, before the 5 s bound (audio time, not wall clock)
    assert rec["silence_at_end_s"] < 5.0, rec
    assert "vendor" in r["transcript_raw"].lower()


def test_smart_waits_through_a_mid_sentence_pause(transcriber, tmp_path):
    lead = np.zeros(6400, np.float32)
    first = _say("list the unpaid invoices from", tmp_path)
    second = _say("last month", tmp_path)
    pause = np.zeros(int(0.9 * 16000), np.float32)
    sig = np.concatenate([lead, first, pause, second])
    r = _turn(transcriber, sig, "smart")
    assert r["recording"]["audio_s"] >= len(sig) / 16000, r["recording"]  # not cut off in the pause
    assert "month" in r["transcript_raw"].lower(), r["transcript_raw"]
    fixed = _turn(transcriber, sig, "fixed")  # the 700 ms window cuts the same speaker off
    assert fixed["recording"]["audio_s"] < len(sig) / 16000, fixed["recording"]
