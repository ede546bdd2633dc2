"""Mend a transcript's near misses of glossary terms before any model sees it.

Whisper splits and bends a domain word it did not expect ("mock up" for "backup", "in voices" for
"invoices", "the VPM" for "the VPN"). One to three heard words are compared with each glossary term
as a sound-alike key (letters folded the way they sound alike: b/p, d/t, g/k/c/q, v/f, s/z, vowels
dropped after the first letter) and as spelling; a window that matches one term closely on both and
is not itself a common word is replaced by the term. Deterministic, microseconds, no server.
"""
from __future__ import annotations

import difflib
import re

_FOLD = str.maketrans({"p": "b", "t": "d", "c": "k", "g": "k", "q": "k", "v": "f", "z": "s", "x": "k"})
_WORD = re.compile(r"[A-Za-z0-9']+")
# Words a mend must never take away: they carry a request's meaning on their own.
_KEEP = frozenset("""a an the and or but not no to of for in on at by with from up out is are was were be
do does did can could will would should have has had i me my we our you your it its this that these those
what which who how when where why show list open close book call send find get give tell all any some""".split())


def _key(s: str) -> str:
    s = re.sub(r"[^a-z]", "", s.lower().replace("ph", "f").replace("ck", "k"))
    if not s:
        return ""
    body = re.sub(r"[aeiouyhw]", "", s[1:].translate(_FOLD))
    return s[0].translate(_FOLD) + re.sub(r"(.)\1+", r"\1", body)


def _spell(s: str) -> str:
    return re.sub(r"[^a-z0-9]", "", s.lower())


class Mender:
    def __init__(self, terms: list[str], *, min_len: int = 5, key_ratio: float = 0.85, spell_ratio: float = 0.7):
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
            if abs(len(ts) - len(sp)) > 4 or not tk or k[:1] != tk[:1] and sp[:1] != ts[:1]:
                continue
            kr = difflib.SequenceMatcher(None, k, tk).ratio()
            if kr < self.key_ratio:
                continue
            sr = difflib.SequenceMatcher(None, sp, ts).ratio()
            if sr >= self.spell_ratio and kr + sr > best_score:
                best, best_score = term, kr + sr
        return best

    def _is_term(self, word: str) -> bool:
        sp = _spell(word).rstrip("s")
        return any(sp == ts.rstrip("s") for _, _, ts in self.terms)

    def mend(self, text: str) -> tuple[str, list[tuple[str, str]]]:
        """(mended text, [(heard, term)]): windows of 1-3 words, longest first, left to right."""
        words = list(_WORD.finditer(text))
        out, changes, i, last = [], [], 0, 0
        while i < len(words):
            for n in (3, 2, 1):
                win = words[i:i + n]
                if len(win) < n:
                    continue
                heard = text[win[0].start():win[-1].end()]
                if n == 1 and heard.lower() in _KEEP or any(w.group().lower() in _KEEP for w in win[1:-1]):
                    continue
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
