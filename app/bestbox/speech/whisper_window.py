"""Whisper reads a short request in a short window instead of 30 seconds.

faster-whisper pads every utterance to Whisper's 30 s window, so a 2-second request costs the
encoder 1,500 positions of mostly padding: 650 of tiny.en's ~800 ms per request on one core of this
machine. CTranslate2's encoder takes fewer frames, so the window here is the utterance plus a second
of real silence (digital zeros through the log-mel, as Whisper's own padding is) — a quarter of the
time, and on the hearing bench more key terms heard, not fewer (docs/benchmarks.md, "Whisper reads a
short window"). Without that second of silence Whisper ends a request badly; with it, it sometimes
says the request again, which `drop_repeats` removes, and the decoder is capped by the audio's
length so a loop cannot run on.
"""
from __future__ import annotations

import functools
import re
from difflib import SequenceMatcher

import numpy as np

RATE = 16000
HOP = 160                 # samples per log-mel frame
FULL_FRAMES = 3000        # Whisper's 30 s window
PAD_S = 1.0               # silence after the utterance inside the short window
TOKENS_PER_S = 6          # the decoder's cap: espeak-ng at 190 words a minute needs ~4.5 tokens a second
_SENTENCE_END = re.compile(r"(?<=[.?!])\s+")
_WORD = re.compile(r"[a-z0-9']+")


@functools.cache
def windowed_whisper() -> type:
    """faster-whisper's model class whose encoder reads the first `frames` frames of the padded
    window (set per call; Whisper calls are serialized in the transcriber's one worker)."""
    from faster_whisper import WhisperModel  # heavy (ctranslate2, onnxruntime): only when a model loads

    class WindowedWhisper(WhisperModel):
        frames = FULL_FRAMES

        def encode(self, features: np.ndarray):
            if features.ndim == 2:
                features = features[None]
            return super().encode(np.ascontiguousarray(features[..., :self.frames]))

    return WindowedWhisper


def short_window(audio: np.ndarray) -> tuple[np.ndarray, int, int] | None:
    """(audio with its silence pad, encoder frames, decoder token cap), or None when the utterance
    fills Whisper's whole window anyway."""
    fed = np.concatenate([audio, np.zeros(int(PAD_S * RATE), np.float32)])
    frames = len(fed) // HOP + 1
    if frames >= FULL_FRAMES:
        return None
    # at most 200: with faster-whisper's longest prompt (223 tokens) the decoder stays within 448
    return fed, frames, min(200, int(len(audio) / RATE * TOKENS_PER_S) + 12)


def _words(s: str) -> list[str]:
    return _WORD.findall(s.lower())


def _loop_cut(tokens: list[str]) -> tuple[list[str], bool]:
    """The tokens up to the end of the first phrase said again at once ("call north wind, call north
    wind, ..."): two words or more said twice in a row, or one word three times; and whether the
    phrase said again was the whole text from its first word."""
    norm = [" ".join(_words(t)) for t in tokens]
    n = len(norm)
    for i in range(n):
        for k in range(1, (n - i) // 2 + 1):
            if norm[i:i + k] == norm[i + k:i + 2 * k] and any(norm[i:i + k]) and (
                    k >= 2 or norm[i + 2 * k:i + 3 * k] == norm[i:i + k]):
                return tokens[:i + k], i == 0
    return tokens, False


def drop_repeats(text: str, ratio: float = 0.8) -> str:
    """The text up to where Whisper starts to say it again: a phrase repeated at once, or a sentence
    that says an earlier one again (or starts to, cut off by the token cap). A request of two
    different sentences keeps both: "Show me the vendors. Show me the customers." differ in a
    quarter of their words."""
    tokens, restarted = text.split(), False
    while (cut := _loop_cut(tokens))[0] != tokens:  # a loop can hold a loop: "X last month, last month, X ..."
        tokens, restarted = cut[0], restarted or cut[1]
        text = " ".join(tokens).rstrip(",;:")
    if restarted and not re.search(r"[.?!]$", text):
        # "Show me the top vendors, show me the top vendors, ...": Whisper read the request to the end
        # of the audio and began it again, which is what its full stop says; without one the end of
        # turn would take a finished request for an unsure one
        text += "."
    kept: list[str] = []
    for s in (x for x in _SENTENCE_END.split(text.strip()) if x):
        w = _words(s)
        if not w:
            continue
        unfinished = not re.search(r"[.?!]$", s)
        for k in kept:
            kw = _words(k)
            if SequenceMatcher(None, kw, w).ratio() >= ratio or (
                    unfinished and len(w) < len(kw) and SequenceMatcher(None, kw[:len(w)], w).ratio() >= ratio):
                return " ".join(kept)
        kept.append(s)
    return " ".join(kept)
