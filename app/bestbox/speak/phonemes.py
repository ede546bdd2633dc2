"""Phonemes for the Piper voice from the `espeak-ng` program.

espeak-ng is GPL-3.0; BestBox (MIT) only runs it as a separate program and reads its IPA output, it
never links or imports it. Piper voices were trained on espeak-ng's IPA, so this is what they expect.
"""
from __future__ import annotations

import re
import shutil
import subprocess
import unicodedata

# A clause ends at punctuation followed by space (so "29.99" and "3,000" stay whole).
_CLAUSE = re.compile(r"(.+?)([,;:.!?]+)(?=\s|$)|(.+?)$", re.S)


class EspeakMissing(RuntimeError):
    pass


def espeak_binary() -> str:
    exe = shutil.which("espeak-ng") or shutil.which("espeak")
    if not exe:
        raise EspeakMissing("espeak-ng is not installed (Debian/Ubuntu: apt install espeak-ng); "
                            "BestBox needs it to speak")
    return exe


def ipa(text: str, voice: str = "en-us") -> str:
    """One clause → IPA (espeak-ng breaks lines at its own clause ends; they are joined)."""
    out = subprocess.run([espeak_binary(), "-q", "--ipa", "-v", voice, "--", text],
                         capture_output=True, text=True, timeout=30, check=True).stdout
    return " ".join(line.strip() for line in out.splitlines() if line.strip())


def clauses(text: str) -> list[tuple[str, str]]:
    """[(words, punctuation)]; the punctuation Piper expects after the clause (last char only)."""
    out = []
    for m in _CLAUSE.finditer(text.strip()):
        words = (m.group(1) or m.group(3) or "").strip()
        punct = (m.group(2) or "")[-1:]
        if words:
            out.append((words, punct))
    return out


def phonemize(text: str, voice: str = "en-us") -> str:
    parts = []
    for words, punct in clauses(text):
        ph = ipa(words, voice)
        if ph:
            parts.append(ph + punct)
    return unicodedata.normalize("NFD", " ".join(parts))


def to_ids(phonemes: str, id_map: dict[str, list[int]]) -> list[int]:
    """Piper's layout: BOS, then each phoneme followed by the pad id, then EOS. Phonemes the voice
    does not know (e.g. espeak's zero-width joiners) are dropped."""
    pad, bos, eos = id_map["_"], id_map["^"], id_map["$"]
    ids = list(bos) + list(pad)
    for ch in phonemes:
        if ch in id_map:
            ids += id_map[ch] + pad
    return ids + list(eos)
