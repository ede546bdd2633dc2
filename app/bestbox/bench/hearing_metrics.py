"""Word error rate and key-term recall: how well a transcript kept the words a request hinges on."""
from __future__ import annotations

import re

_NUM = {"zero": "0", "one": "1", "two": "2", "three": "3", "four": "4", "five": "5", "six": "6", "seven": "7",
        "eight": "8", "nine": "9", "ten": "10"}


def norm_words(text: str) -> list[str]:
    """Lower case, no punctuation, small number words as digits ("ten" = "10"), "%" as "percent"."""
    t = text.lower().replace("%", " percent ").replace("-", " ")
    words = re.findall(r"[a-z0-9']+", t)
    return [_NUM.get(w, w).strip("'") for w in words if w.strip("'")]


def wer(ref: str, hyp: str) -> float:
    """(substitutions + deletions + insertions) / reference words, on normalised words."""
    r, h = norm_words(ref), norm_words(hyp)
    if not r:
        return 0.0 if not h else 1.0
    prev = list(range(len(h) + 1))
    for i, rw in enumerate(r, 1):
        cur = [i] + [0] * len(h)
        for j, hw in enumerate(h, 1):
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (rw != hw))
        prev = cur
    return prev[-1] / len(r)


def has_term(hyp: str, term: str) -> bool:
    """The term's words appear in the transcript, in order and side by side (whole words)."""
    h, t = norm_words(hyp), norm_words(term)
    return bool(t) and any(h[i:i + len(t)] == t for i in range(len(h) - len(t) + 1))


def term_recall(pairs: list[tuple[str, list[str]]]) -> float | None:
    """Share of key terms found over (transcript, terms) pairs; None without terms."""
    found = total = 0
    for hyp, terms in pairs:
        for t in terms:
            total += 1
            found += has_term(hyp, t)
    return found / total if total else None
