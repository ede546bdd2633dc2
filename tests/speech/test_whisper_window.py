"""Whisper reads a short request in a short window (speech/whisper_window.py): real tiny.en on real
espeak-ng speech, the window's size, and the repeats it can add."""
from __future__ import annotations

import asyncio

import numpy as np
import pytest

from bestbox.audio.wavfile import read_audio
from bestbox.config import Config
from bestbox.speech.glossary import Glossary
from bestbox.speech.transcriber import Transcriber
from bestbox.speech.whisper_window import FULL_FRAMES, drop_repeats, short_window

from .conftest import PHRASES, has_words


def test_drop_repeats_keeps_the_request_once():
    assert drop_repeats("Can we close early on Friday? Can we close early on Friday?") == "Can we close early on Friday?"
    assert drop_repeats("How many vacation days do I have left? How many vacation days do I can't left? "
                        "How many vacation") == "How many vacation days do I have left?"
    # cut off by the token cap in the middle of the repeat
    assert drop_repeats("Show me the top vendors by spend. Show me the top") == "Show me the top vendors by spend."
    # a phrase said again at once, inside one sentence (seen on the real-time end-of-turn bench)
    # the whole request said again: Whisper had read it to the end, as a full stop would say
    assert drop_repeats("call north wind, call north wind, call north wind, call north") == "call north wind."
    assert drop_repeats("Show me the top vendors, show me the top vendors,") == "Show me the top vendors."
    assert drop_repeats("no no no") == "no."
    assert drop_repeats("Listly unpided invoices from last month, last month, listly unpided invoices from last "
                        "month, last month, last") == "Listly unpided invoices from last month."


def test_drop_repeats_keeps_two_different_sentences():
    two = "Show me the vendors. Show me the customers."
    assert drop_repeats(two) == two
    assert drop_repeats("Open a ticket. The VPN is down.") == "Open a ticket. The VPN is down."
    assert drop_repeats("list unpaid invoices from last month") == "list unpaid invoices from last month"
    assert drop_repeats("") == ""
    assert drop_repeats("very very good") == "very very good"
    assert drop_repeats("purchase order 4500 4500") == "purchase order 4500 4500"


def test_short_window_is_the_utterance_plus_a_second():
    fed, frames, cap = short_window(np.ones(32000, np.float32))
    assert len(fed) == 48000 and not fed[32000:].any()
    assert frames == 301 and cap == 24
    assert short_window(np.ones(16000 * 29, np.float32)) is None  # fills the 30 s window anyway
    assert short_window(np.ones(16000 * 28, np.float32))[2] <= 200  # with the longest prompt, within 448 tokens


@pytest.fixture(scope="module")
def full_window():
    cfg = Config()
    cfg.speech.whisper_window = "full"
    t = Transcriber(cfg)
    t.load()
    yield t
    t.close()


def test_short_and_full_windows_hear_the_same_request(espeak_wavs, transcriber, full_window):
    """The default reads a few hundred frames, not Whisper's 3,000, and hears the key words that the
    30 s window hears."""
    assert transcriber.sc.whisper_window == "short"
    g = Glossary()
    prompt = g.whisper_prompt(g.for_whisper())
    for key in ("vendors", "vpn"):
        text, groups = PHRASES[key]
        audio = read_audio(espeak_wavs[key]).audio
        short = asyncio.run(transcriber.transcribe(audio, initial_prompt=prompt))
        frames = transcriber._model.frames
        full = asyncio.run(full_window.transcribe(audio, initial_prompt=prompt))
        assert full_window._model.frames == FULL_FRAMES
        assert frames == (len(audio) + 16000) // 160 + 1 < 700, frames
        assert has_words(short.text, groups), (key, short.text, full.text)
        assert has_words(full.text, groups), (key, full.text)
        assert short.text.count(".") + short.text.count("?") <= 1, short.text  # said once
        assert short.confident, short
