"""A fixed answer text for the speaker, paced by a random-weight model's stream (bench only).

Random weights emit no sentence ends (and often no valid UTF-8), so a spoken reply would wait for
the end of the answer and measure nothing a person would hear. With the shim the speaker gets a
fixed, realistic answer instead, word by word, each word released when the server has streamed as
many tokens as the text up to and including it has: first audio = time to the first clause's
tokens + its synthesis, as with a real model. Every token event of the stream counts as one token
(llama-server may merge tokens that are not valid UTF-8 on their own into one event, so the count
can lag: the shim's first audio is an upper bound). Word token counts are estimated for a BPE
vocabulary like Qwen2.5's (a common word with its space is one token; long words and punctuation
add one). The turn and its answer are the app's as they are; only the text handed to the speaker
changes, and the bench says which numbers used it."""
from __future__ import annotations

import re

ANSWER = ("You have twelve vacation days left this year, after the eight you took in June. "
          "Three of them expire at the end of March, so plan those first. "
          "Tell me if you want the dates of each one.")


def word_tokens(word: str) -> int:
    core = word.strip(".,;:!?\"'()")
    return max(1, (len(core) + 7) // 8) + (1 if core != word else 0)


class TextShim:
    """rewrite(kind, text): "token" → the words now released; "end"/"done" → the rest."""

    def __init__(self, text: str = ANSWER) -> None:
        self.words = re.findall(r"\S+\s*", text)
        self.cum: list[int] = []
        n = 0
        for w in self.words:
            n += word_tokens(w.strip())
            self.cum.append(n)
        self.tokens = 0
        self.released = 0

    def __call__(self, kind: str, text: str = "") -> str:
        if kind == "token":
            self.tokens += 1
            upto = self.released
            while upto < len(self.words) and self.cum[upto] <= self.tokens:
                upto += 1
        elif kind in ("end", "done"):
            upto = len(self.words)
        else:
            return ""
        out, self.released = "".join(self.words[self.released:upto]), upto
        return out
