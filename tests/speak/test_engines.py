"""Both engines make real, intelligible speech; `bestbox say` writes it to a WAV."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import wave
from pathlib import Path

import numpy as np
import pytest

from bestbox.speak import phonemes
from bestbox.speak.engines import EspeakEngine, EngineError, make_engine

from .conftest import transcribe

TEXT = "The invoice total for March is ready."


def _check_audio(audio: np.ndarray, sr: int, words: int) -> None:
    seconds = len(audio) / sr
    assert 0.15 * words < seconds < 1.2 * words  # plausible speech length for that many words
    assert float(np.sqrt(np.mean(audio ** 2))) > 0.01  # not silence


def test_piper_speaks_the_words(piper, whisper):
    audio = piper.synthesize(TEXT)
    assert piper.sample_rate == 22050
    _check_audio(audio, piper.sample_rate, 7)
    heard = transcribe(whisper, audio, piper.sample_rate)
    assert "total" in heard and "march" in heard and "ready" in heard


def test_espeak_speaks_the_words(whisper):
    eng = EspeakEngine()
    audio = eng.synthesize(TEXT)
    _check_audio(audio, eng.sample_rate, 7)
    heard = transcribe(whisper, audio, eng.sample_rate)
    assert "invoice" in heard and "total" in heard


def test_phonemes_keep_clause_punctuation_and_numbers():
    assert phonemes.clauses("It costs 29.99, e.g. today. Yes!") == [("It costs 29.99", ","), ("e.g", "."),
                                                                      ("today", "."), ("Yes", "!")]
    ph = phonemes.phonemize("Hello, world.")
    assert ph.count(",") == 1 and ph.endswith(".")
    ids = phonemes.to_ids("a\u200db", {"_": [0], "^": [1], "$": [2], "a": [14], "b": [15]})
    assert ids == [1, 0, 14, 0, 15, 0, 2]  # the zero-width joiner is dropped


def test_unknown_engine_is_a_clear_error():
    with pytest.raises(EngineError, match="unknown speech engine"):
        make_engine("festival")


def test_missing_voice_file_falls_back_to_espeak(tmp_path):
    eng = make_engine("piper", voice=str(tmp_path / "nope.onnx"))
    assert eng.name == "espeak" and "nope.onnx" in eng.fallback_reason


def _cli(*args, **kw):
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2] / "app")}
    return subprocess.run([sys.executable, "-m", "bestbox", "say", *args], capture_output=True, text=True,
                          env=env, timeout=180, **kw)


@pytest.mark.parametrize("engine", ["piper", "espeak"])
def test_say_cli_writes_a_wav(tmp_path, engine):
    out = tmp_path / "reply.wav"
    r = _cli("**Acme** leads with $5,000.", "--out", str(out), "--engine", engine, "--json")
    assert r.returncode == 0, r.stderr
    info = json.loads(r.stdout)
    assert info["engine"] == engine and info["sentences"] == ["Acme leads with 5,000 dollars."]
    with wave.open(str(out)) as w:
        assert w.getnchannels() == 1 and w.getframerate() == 22050
        assert 1.0 < w.getnframes() / w.getframerate() < 8.0


def test_say_cli_bad_input(tmp_path):
    r = _cli("   ", "--out", str(tmp_path / "x.wav"))
    assert r.returncode == 2 and "nothing to say" in r.stderr
    r = _cli("hi", "--rate", "9", "--out", str(tmp_path / "x.wav"))
    assert r.returncode == 2 and "--rate" in r.stderr
    r = _cli("hi", "--out", "/proc/nope/x.wav", "--engine", "espeak")
    assert r.returncode == 2 and "cannot write" in r.stderr
