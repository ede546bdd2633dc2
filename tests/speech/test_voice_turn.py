"""A whole voice turn: a file played through the recorder path in real time (VAD, speculation,
clock from the last voiced sample), the cleanup policy, errors, and `bestbox voice` as a process."""
from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from types import SimpleNamespace

import numpy as np
import pytest

from bestbox import paths
from bestbox.audio.filesource import FileSoundDevice
from bestbox.audio.wavfile import read_audio
from bestbox.config import Config
from bestbox.llm.client import Completion
from bestbox.pipeline.answerer import PipelineAnswerer
from bestbox.pipeline.events import TurnEvent
from bestbox.speech.transcriber import Transcript
from bestbox.speech.voice_turn import VoiceSession

from .conftest import PHRASES, has_words, write_wav


class ScriptedTurns:
    """Stands in for `pipeline.Assistant` behind the real `PipelineAnswerer`: records what it was
    asked and when, and answers with a route, one token (the first-token mark) and done."""

    def __init__(self, delay=0.05):
        self.delay = delay
        self.calls = []
        self.prerouted = []

    def preroute(self, text):
        self.prerouted.append(text)

    async def run_turn(self, text, conversation_id=None, *, source, trace, meta=None, auto_confirm=None):
        from bestbox.trace import now_ms

        self.calls.append({"text": text, "at_ms": now_ms(), "source": source, "meta": meta})
        yield TurnEvent("route", {"decision": {"agent": "erp"}, "turn_id": "t1", "conversation_id": "c1"})
        await asyncio.sleep(self.delay)
        trace.mark("first_token")
        yield TurnEvent("token", {"text": "ok"})
        self.calls[-1]["done_ms"] = now_ms()
        trace.mark("done")
        yield TurnEvent("done", {"answer": "ok", "tool_calls": [], "citations": [], "model": "light",
                                 "timings": trace.timings(),
                                 "trace": trace.to_dict()})


class SlowCleanup:
    def __init__(self, text, delay):
        self.text, self.delay, self.started, self.finished = text, delay, None, None

    async def complete(self, messages, **kw):
        from bestbox.trace import now_ms

        self.started = now_ms()
        await asyncio.sleep(self.delay)
        self.finished = now_ms()
        return Completion(text=self.text, finish_reason="stop")


def _session(transcriber, fake=None, turns=None, cfg=None, **kw):
    """A session whose voice events and (through the pipeline's answerer) answer events land in one
    list, in the order a window would see them; the answer's events as kind "answer"."""
    events = []
    answerer = None
    if turns is not None:
        answerer = PipelineAnswerer(turns, on_event=lambda ev: events.append(SimpleNamespace(kind="answer", data={"event": ev})))
    s = VoiceSession(cfg or Config(), transcriber=transcriber, sounddevice=fake, answerer=answerer,
                     on_event=lambda e: events.append(e) if e.kind != "level" else None, **kw)
    return s, events


def test_realtime_turn_ends_on_silence_and_reuses_speculation(espeak_wavs, transcriber):
    audio = read_audio(espeak_wavs["invoices"]).audio
    fake = FileSoundDevice(audio, 16000, speed=1.0, tail_silence_s=3.0)
    answer = ScriptedTurns()
    fixed = Config(speech={"turn_end": "fixed"})  # the smart turn end has its own tests (test_turn_end.py)
    s, events = _session(transcriber, fake, turns=answer, cleanup=False, cfg=fixed)
    r = asyncio.run(s.listen())
    kinds = [e.kind for e in events]
    assert kinds[0] == "recording_started" and kinds[-1] == "ended"
    for k in ("speech_started", "silence_started", "recording_stopped", "transcript_raw", "answer", "ended"):
        assert k in kinds
    # speech hands the final text over, then the pipeline answers: its events come after the
    # transcript and before the end of the turn
    answers = [i for i, k in enumerate(kinds) if k == "answer"]
    assert kinds.index("transcript_raw") < answers[0] and answers[-1] < kinds.index("ended")
    assert [events[i].data["event"].kind for i in answers] == ["route", "token", "done"]
    assert "recording" in r, r
    assert r["recording"]["reason"] == "vad_end"
    t = r["timings"]
    # the VAD closed the turn after 0.7 s of silence (audio time, one 20 ms frame of rounding);
    # the wall-clock wait (`vad_wait_ms`) is `bestbox bench`'s to report
    assert 0.7 <= r["recording"]["silence_at_end_s"] <= 0.72, r["recording"]
    assert t["speculation_reused"] is True
    # the speculative transcript was routed in the silence window: the same text the answer got
    prerouted = answer.prerouted
    assert prerouted and prerouted[-1] == answer.calls[0]["text"].strip(), (prerouted, answer.calls)
    assert has_words(r["transcript_raw"], PHRASES["invoices"][1]), r["transcript_raw"]
    assert t["speech_end_to_first_token_ms"] is not None
    assert t["speech_end_to_first_token_ms"] >= t["speech_end_to_transcript_ms"] > 0
    assert answer.calls[0]["source"] == "voice"
    # the recording stopped well before the 3 s of trailing silence ran out
    assert r["recording"]["audio_s"] < len(audio) / 16000 + 1.5


def test_speech_after_a_pause_discards_the_speculation(espeak_wavs, transcriber):
    a = read_audio(espeak_wavs["vendors"]).audio
    b = read_audio(espeak_wavs["vpn"]).audio

    def trim(x):  # drop the fixtures' padding
        nz = np.nonzero(np.abs(x) > 1e-3)[0]
        return x[nz[0]:nz[-1]]

    sig = np.concatenate([np.zeros(4000, np.float32), trim(a), np.zeros(6400, np.float32), trim(b)])
    fake = FileSoundDevice(sig, 16000, speed=1.0, tail_silence_s=2.0)
    # the fixed window: "show me the top vendors." is a finished request, which the smart end of turn
    # closes 250 ms into this 400 ms pause once Whisper is that fast (this test is about the speculation)
    cfg = Config()
    cfg.speech.turn_end = "fixed"
    s, events = _session(transcriber, fake, cfg=cfg, cleanup=False)
    r = asyncio.run(s.listen())
    kinds = [e.kind for e in events]
    assert "speech_resumed" in kinds
    assert kinds.index("silence_started") < kinds.index("speech_resumed")
    text = r["transcript_raw"].lower()
    assert "vendor" in text and "ticket" in text, text  # the final transcript covers both parts


def test_hold_to_talk_stops_only_on_release(espeak_wavs, transcriber):
    audio = read_audio(espeak_wavs["leave"]).audio
    fake = FileSoundDevice(audio, 16000, speed=2.0, tail_silence_s=5.0)
    s, events = _session(transcriber, fake, cleanup=False)

    async def go():
        task = asyncio.ensure_future(s.listen(mode="hold"))
        await asyncio.sleep(len(audio) / 16000 / 2 + 1.5)  # > 0.7 s of silence at 2x speed
        assert not task.done(), "hold-to-talk ended on silence"
        s.stop()
        return await task

    r = asyncio.run(go())
    assert r["recording"]["reason"] == "stopped"
    assert "leave" in r["transcript_raw"].lower()


def test_cancel_sends_nothing(espeak_wavs, transcriber):
    fake = FileSoundDevice(read_audio(espeak_wavs["leave"]).audio, 16000, speed=1.0)
    answer = ScriptedTurns()
    s, events = _session(transcriber, fake, turns=answer)

    async def go():
        task = asyncio.ensure_future(s.listen())
        await asyncio.sleep(0.8)
        s.cancel()
        return await task

    r = asyncio.run(go())
    assert r["error_kind"] == "cancelled" and not answer.calls
    assert "transcript_raw" not in [e.kind for e in events]


def test_device_lost_mid_turn_keeps_what_was_said(espeak_wavs, transcriber):
    audio = read_audio(espeak_wavs["vpn"]).audio
    fake = FileSoundDevice(audio, 16000, speed=2.0, fail_after_s=2.6)  # gone in the middle of the request
    s, events = _session(transcriber, fake, cleanup=False)
    r = asyncio.run(s.listen())
    assert r["recording"]["reason"] == "device_error" and "Kept" in r["recording"]["device_error"]
    assert "ticket" in r["transcript_raw"].lower()


def test_missing_configured_microphone_is_a_clear_error(transcriber):
    fake = FileSoundDevice(np.zeros(16000, np.float32), 16000, name="USB Headset")
    s, events = _session(transcriber, fake)
    r = asyncio.run(s.listen(device="Blue Yeti"))
    assert r["error_kind"] == "microphone"
    assert "'Blue Yeti'" in r["error"] and "USB Headset" in r["error"]
    assert [e.kind for e in events] == ["error", "ended"]


def _tr(text, confident):
    return Transcript(text, avg_logprob=-0.2 if confident else -1.2, no_speech_prob=0.05, asr_ms=100,
                      audio_s=2.0, confident=confident)


def test_confident_transcript_is_answered_as_heard_without_cleanup(transcriber):
    from bestbox.trace import TurnTrace

    cleanup = SlowCleanup("Open a ticket because the VPN is down.", 0.6)
    answer = ScriptedTurns()
    s, events = _session(transcriber, turns=answer, cleanup_client=cleanup)
    r = asyncio.run(s.answer_transcript(_tr("open a ticket because the vpn is down", True), TurnTrace()))
    # the hearing bench showed the cleanup of confident transcripts gained no key term: it is gone
    assert r["cleanup_policy"] == "as_heard"
    assert answer.calls[0]["text"] == "open a ticket because the vpn is down"
    assert cleanup.started is None
    assert r["transcript_clean"] == "open a ticket because the vpn is down"
    assert "transcript_clean" not in [e.kind for e in events]


def test_near_misses_are_mended_before_anything_else(transcriber):
    answer = ScriptedTurns()
    s, _ = _session(transcriber, turns=answer, cleanup=False)
    r = asyncio.run(s.answer_transcript(_tr("are any invoices over due", True)))
    assert answer.calls[0]["text"] == "are any invoices overdue"
    assert r["mended"] == [["over due", "overdue"]]
    assert answer.calls[0]["meta"]["raw_transcript"] == "are any invoices over due"


def test_unsure_or_misheard_transcript_is_cleaned_before_answering(transcriber):
    for tr in (_tr("show me the top menders", True), _tr("show me the top vendor", False)):
        cleanup = SlowCleanup("Show me the top vendors.", 0.2)
        answer = ScriptedTurns()
        s, _ = _session(transcriber, turns=answer, cleanup_client=cleanup)
        r = asyncio.run(s.answer_transcript(tr))
        assert r["cleanup_policy"] == "before_answer"
        assert answer.calls[0]["text"] == "Show me the top vendors."
        assert r["timings"]["cleanup_ms"] >= 200


def test_cleanup_down_raw_goes_on(transcriber):
    from bestbox.llm.client import LLMClient

    from .conftest import free_port

    answer = ScriptedTurns()
    s, _ = _session(transcriber, turns=answer, cleanup_client=LLMClient(f"http://127.0.0.1:{free_port()}"))
    r = asyncio.run(s.answer_transcript(_tr("show me the top menders", True)))
    assert answer.calls[0]["text"] == "show me the top menders"
    assert "unavailable" in r["cleanup"]["reason"]


# -- the CLI as a user runs it ---------------------------------------------------------------------
def _cli_env(tmp_path, llama_url=None):
    model = paths.demo_llm_model()
    cfg = tmp_path / "config.toml"
    from .conftest import free_port

    lines = []
    for name in ("heavy", "light"):
        lines += [f"[servers.{name}]", f'model = "{model}"', f"port = {free_port()}", "ctx_size = 2048",
                  "start_timeout_s = 90"]
    cfg.write_text("\n".join(lines) + "\n")
    env = dict(os.environ, BESTBOX_CONFIG=str(cfg), BESTBOX_DATA_DIR=str(tmp_path / "data"))
    env.pop("PULSE_SERVER", None)
    return env


def _voice(args, env, timeout=420):
    return subprocess.run([sys.executable, "-m", "bestbox", "voice", *args], env=env, capture_output=True,
                          text=True, timeout=timeout)


@pytest.mark.slow
def test_cli_voice_wav_json_whole_turn(espeak_wavs, tmp_path, llama_server):
    env = _cli_env(tmp_path)
    p = _voice(["--wav", str(espeak_wavs["vendors"]), "--json"], env)
    assert "Traceback" not in p.stderr, p.stderr[-3000:]
    out = json.loads(p.stdout)
    for k in ("route", "answer", "tool_calls", "timings", "model", "transcript_raw", "transcript_clean"):
        assert k in out, (k, out)
    for k in ("asr_ms", "cleanup_ms", "speech_end_to_first_token_ms"):
        assert k in out["timings"], (k, out["timings"])
    assert "vendor" in out["transcript_raw"].lower()
    assert out["route"] is not None
    assert out["timings"]["asr_ms"] > 0
    print("\nvoice --wav --json:", json.dumps({k: out.get(k) for k in ("transcript_raw", "transcript_clean",
                                                                       "route", "model", "timings", "error")}))


def test_cli_voice_errors_are_clear(voice_dir, tmp_path):
    env = _cli_env(tmp_path)
    empty = voice_dir / "cli-empty.wav"
    empty.write_bytes(b"")
    silence = write_wav(voice_dir / "cli-silence.wav", np.zeros(24000), 16000)
    corrupt = voice_dir / "cli-corrupt.wav"
    corrupt.write_bytes(os.urandom(3000))
    cases = [
        (["--wav", str(empty)], 2, "empty (0 bytes)"),
        (["--wav", str(corrupt)], 2, "not a readable audio file"),
        (["--wav", str(silence), "--json"], 3, "didn't catch that"),
        (["--listen", "--device", "No Such Microphone 123", "--no-answer", "--no-cleanup"], 4, ""),
    ]
    for args, code, words in cases:
        p = _voice(args, env, timeout=120)
        assert p.returncode == code, (args, p.returncode, p.stderr[-2000:])
        assert "Traceback" not in p.stderr, p.stderr
        assert words in p.stderr, (args, p.stderr)
        if code == 4:  # no PortAudio device at all, or not the one asked for: either way, said plainly
            assert ("No Such Microphone 123" in p.stderr or "No microphone" in p.stderr
                    or "unavailable" in p.stderr), p.stderr
    p = _voice(["--wav", str(silence), "--json"], env, timeout=120)
    assert json.loads(p.stdout)["no_speech"] is True
