"""Mend a transcript's near misses of glossary terms before any model sees it.

Whisper splits and bends a domain word it did not expect ("mock up" for "backup", "in voices" for
"invoices", "over to" for "overdue", "all to Ridge KK" for "Altbridge K.K."). One to four heard words
are compared with each glossary term by sound (the Metaphone keys of their letters run together,
`jellyfish`: "in voices" and "invoices" are both INFSS) and by spelling (Jaro-Winkler); a window that
matches one term closely on both and is not itself a common word is replaced by the term.
Deterministic, well under a millisecond per term list, no server.
"""
from __future__ import annotations

import json
import re
from functools import lru_cache
from pathlib import Path

import jellyfish

_WORD = re.compile(r"[A-Za-z0-9']+")
# Words a mend must never take away: they carry a request's meaning on their own.
_KEEP = frozenset("""a an the and or but not no to of for in on at by with from up out is are was were be
do does did can could will would should have has had i me my we our you your it its this that these those
what which who how when where why show list open close book call send find get give tell all any some""".split())


@lru_cache(maxsize=1)
def common_words() -> frozenset[str]:
    """Words Whisper's tokenizer has as one whole token ("overview", "overall", "markup"): common
    English that a person may well have said, so never mended when heard alone. Empty when the
    bundled model is missing (then only _KEEP guards)."""
    from ..paths import demo_whisper_model

    d = demo_whisper_model()
    try:
        vocab = json.loads((Path(d) / "tokenizer.json").read_text())["model"]["vocab"] if d else {}
    except (OSError, ValueError, KeyError):
        return frozenset()
    return frozenset(w[1:].lower() for w in vocab if w.startswith("\u0120") and w[1:].isalpha() and len(w) > 3)

# A window never starts with an article, nor ends with a word that follows a term in a request.
_ARTICLES = frozenset("a an the".split())
_FOLLOWERS = frozenset("a an the and or for on in at to of from with by is are was were".split())


def _key(s: str) -> str:
    """How the words sound: Metaphone of their letters run together ("over to" = "overdue")."""
    letters = re.sub(r"[^a-z]", "", s.lower())
    return jellyfish.metaphone(letters) if letters else ""


def _close(a: str, b: str) -> float:
    """1 - normalised edit distance."""
    return 1.0 - jellyfish.levenshtein_distance(a, b) / max(len(a), len(b), 1)


def _spell(s: str) -> str:
    return re.sub(r"[^a-z0-9]", "", s.lower())


class Mender:
    def __init__(self, terms: list[str], *, min_len: int = 5, key_ratio: float = 0.6, spell_ratio: float = 0.8,
                 common: frozenset[str] | None = None):
        """key_ratio / spell_ratio: chosen on the hearing bench's dev split only (docs/benchmarks.md)."""
        self.common = common_words() if common is None else common
        self.terms = [(t, _key(t), _spell(t)) for t in terms if len(_spell(t)) >= min_len]
        self.key_ratio, self.spell_ratio = key_ratio, spell_ratio

    def _best(self, heard: str) -> str | None:
        """The term `heard` is a near miss of; `heard` itself when it already is a term (or its
        plural); None when nothing is close."""
        k, sp = _key(heard), _spell(heard)
        for term, _, ts in self.terms:
            if sp == ts:
                return term if " " not in term and " " in heard.strip() else heard  # "over due"
            if sp.rstrip("s") == ts.rstrip("s"):
                return heard
        if len(sp) < 5:
            return None
        best, best_score = None, 0.0
        for term, tk, ts in self.terms:
            if abs(len(ts) - len(sp)) > max(2, len(ts) // 4) or not tk or k[:1] != tk[:1] and sp[:1] != ts[:1]:
                continue
            kr = _close(k, tk)
            if kr < self.key_ratio:
                continue
            sr = jellyfish.jaro_winkler_similarity(sp, ts)
            if sr >= self.spell_ratio and kr + sr > best_score:
                best, best_score = term, kr + sr
        return best

    def _is_term(self, word: str) -> bool:
        sp = _spell(word).rstrip("s")
        return any(sp == ts.rstrip("s") for _, _, ts in self.terms)

    def _heard_right(self, text: str, words: list, i: int) -> tuple[int, str | None]:
        """(how many words from i already spell a term, the term when they were split: "over due");
        (0, None) when none do."""
        for n in (4, 3, 2, 1):
            win = words[i:i + n]
            if len(win) == n:
                sp = _spell(text[win[0].start():win[-1].end()]).rstrip("s")
                for term, _, ts in self.terms:
                    if sp == ts.rstrip("s"):
                        return n, (term if n > 1 and " " not in term else None)
        return 0, None

    def _may_mend(self, text: str, win: list) -> bool:
        """A window may become a term unless it starts or ends on a word a request needs ("for",
        "on"), holds a number, or is one common word alone ("overview" is not a bent "overdue")."""
        ws = [w.group().lower() for w in win]
        if ws[0] in _KEEP and (len(ws) == 1 or ws[0] in _ARTICLES) or any(w in _KEEP for w in ws[1:-1]):
            return False
        if len(ws) > 1 and ws[-1] in _FOLLOWERS:
            return False    # "expense report for": the term and the next word
        if any(c.isdigit() for c in text[win[0].start():win[-1].end()]):
            return False
        return len(ws) > 1 or ws[0] not in self.common

    def mend(self, text: str) -> tuple[str, list[tuple[str, str]]]:
        """(mended text, [(heard, term)]): windows of 1-4 words, longest first, left to right."""
        words = list(_WORD.finditer(text))
        out, changes, i, last = [], [], 0, 0
        while i < len(words):
            right, joined = self._heard_right(text, words, i)
            if joined:      # "over due": the term in one word
                out += [text[last:words[i].start()], joined]
                changes.append((text[words[i].start():words[i + right - 1].end()], joined))
                last = words[i + right - 1].end()
            if right:       # a term heard right: keep it and its words
                i += right
                continue
            for n in (4, 3, 2, 1):
                win = words[i:i + n]
                if len(win) < n or not self._may_mend(text, win):
                    continue
                heard = text[win[0].start():win[-1].end()]
                term = self._best(heard)
                if term is heard:  # a term heard right: keep it and its words
                    i += n
                    break
                if term is not None and n > 1 and any(self._is_term(w.group()) for w in win):
                    continue  # a window around a word heard right would eat its neighbours
                if term is not None:
                    out.append(text[last:win[0].start()])
                    out.append(term)
                    changes.append((heard, term))
                    last, i = win[-1].end(), i + n
                    break
            else:
                i += 1
        out.append(text[last:])
        return "".join(out), changes
