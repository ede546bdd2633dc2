"""ASR cleanup on the light model: punctuation, casing and domain terms, never new content.

The glossary goes into the system message (constant, so llama-server reuses it from the prompt
cache); the raw transcript is the user message. Output is bounded (max_tokens ≈ 1.5 × the input's
tokens) and timed out; anything that looks wrong — empty, much longer, too different from the raw
words, new words that are neither in the raw text nor in the glossary, an answer instead of a
transcript — is thrown away and the raw text goes on. A light server that is down costs one fast
connection error and the raw text goes on.

The output is constrained to the glossary (`cleanup_grammar`, a GBNF grammar llama-server enforces
while sampling): every word is one the transcript has, or a glossary term, so a small model can
fix a misheard term but cannot answer, explain or invent.
"""
from __future__ import annotations

import asyncio
import difflib
import math
import re
from dataclasses import dataclass, field

from ..config import Config
from ..llm.client import LLMClient
from ..trace import now_ms
from .glossary import Glossary

SYSTEM = (
    "You correct speech-recognition transcripts for an office assistant. Rewrite the user's transcript "
    "with correct punctuation and capitalization, and replace misheard words with the glossary word they "
    "were meant to be (for example 'menders' -> 'vendors'). Do not answer it, do not add or remove "
    "anything else. Reply with the corrected transcript only.\nGlossary: {terms}"
)
# Two worked examples (a constant prefix, cached by llama-server): small models copy the pattern
# instead of answering the request.
SHOTS = [
    ("show me the top menders", "Show me the top vendors."),
    ("open a ticket the vpm is down", "Open a ticket: the VPN is down."),
]
_PREFIX = re.compile(r"^\s*(corrected( transcript)?|transcript|output|answer|result)\s*:\s*", re.I)


@dataclass
class CleanupResult:
    text: str  # what goes on: the cleaned text, or the raw one
    raw: str
    cleaned: bool  # the model's output was accepted
    reason: str = ""  # why the raw text was kept
    cleanup_ms: float = 0.0
    timings: dict = field(default_factory=dict)  # llama-server's timings
    model_output: str = ""

    @property
    def changed(self) -> bool:
        return self.cleaned and self.text != self.raw

    def to_dict(self) -> dict:
        return {"text": self.text, "raw": self.raw, "cleaned": self.cleaned, "changed": self.changed,
                "reason": self.reason, "cleanup_ms": round(self.cleanup_ms, 1), "timings": self.timings}


_FILLERS = {"um", "uh", "er", "erm", "hmm", "ah"}
_NUMBER_WORDS = {"zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven",
                 "twelve", "thirteen", "fourteen", "fifteen", "twenty", "thirty", "forty", "fifty", "hundred",
                 "thousand", "million", "first", "second", "third"}


def _words(s: str) -> list[str]:
    return re.findall(r"[a-z0-9']+", s.lower())


def estimate_tokens(text: str) -> int:
    return max(1, math.ceil(max(len(text) / 3.5, len(text.split()) * 1.4)))


def light_client(config: Config, timeout: float = 10.0) -> LLMClient | None:
    s = config.servers.light
    if not s.enabled:
        return None
    return LLMClient(f"http://{s.host}:{s.port}", api_key=config.llama.api_key, timeout=timeout, name="light")


def _lit(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def cleanup_grammar(raw: str, terms: list[str]) -> str:
    """GBNF: the transcript's own words (as heard, lower case, capitalised) and the glossary terms,
    separated by spaces with optional commas or colons, ending in optional . ? or !"""
    heard = re.findall(r"[A-Za-z0-9'%$.-]*[A-Za-z0-9%$]", raw)
    opts: dict[str, None] = {}
    for w in heard:
        for v in (w, w.lower(), w[:1].upper() + w[1:]):
            opts[v] = None
    for t in terms:
        opts[" ".join(t.split())] = None
    alts = " | ".join(_lit(o) for o in opts if o)
    return (f"root ::= w (sep w)* end?\nw ::= {alts}\n"
            'sep ::= ("," | ":")? " "\nend ::= "." | "?" | "!"\n')


def _extract(out: str) -> str:
    lines = [ln.strip() for ln in out.strip().splitlines() if ln.strip()]
    if not lines:
        return ""
    s = _PREFIX.sub("", lines[0]).strip()
    if len(s) >= 2 and s[0] == s[-1] and s[0] in "\"'`":
        s = s[1:-1].strip()
    return s


def judge(raw: str, out: str, glossary: Glossary | None = None, *, terms: list[str] | None = None) -> str:
    """'' when `out` is an acceptable cleanup of `raw`, else the reason to keep the raw text.
    `terms`: the glossary terms the cleanup model was given, if already chosen."""
    if not out:
        return "empty output"
    if len(out) > 1.5 * len(raw) + 20:
        return "output much longer than the transcript"
    rw, ow = _words(raw), _words(out)
    if not ow:
        return "no words in output"
    if difflib.SequenceMatcher(None, rw, ow).ratio() < 0.6:
        return "output too different from the transcript"
    gloss = set()
    if terms is None:
        terms = glossary.for_cleanup(raw) if glossary else []
    for t in terms:
        gloss.update(_words(t))
    rset, oset = set(rw), set(ow)

    def near(w: str, pool: set[str]) -> bool:
        return any(difflib.SequenceMatcher(None, w, p).ratio() >= 0.6 for p in pool)

    numbers_spoken = bool(rset & _NUMBER_WORDS)
    new = [w for w in ow if w not in rset and w not in gloss and not near(w, rset)
           and not (w.isdigit() and numbers_spoken)]
    if new:
        return f"output adds words: {' '.join(new[:5])}"
    dropped = [w for w in rw if w not in oset and not near(w, oset) and w not in _FILLERS]
    if any(len(w) > 3 for w in dropped) or len(dropped) > 1:
        return f"output drops words: {' '.join(dropped[:5])}"
    return ""


async def clean_transcript(raw: str, client: LLMClient | None, glossary: Glossary | None = None, *,
                           timeout_s: float = 3.0) -> CleanupResult:
    t0 = now_ms()
    raw = raw.strip()
    if not raw:
        return CleanupResult(raw, raw, False, "empty transcript")
    if client is None:
        return CleanupResult(raw, raw, False, "light server not configured")
    chosen = (glossary or Glossary()).for_cleanup(raw)
    messages = [{"role": "system", "content": SYSTEM.format(terms=", ".join(chosen))}]
    for q, a in SHOTS:
        messages += [{"role": "user", "content": q}, {"role": "assistant", "content": a}]
    messages.append({"role": "user", "content": raw})
    max_tokens = math.ceil(estimate_tokens(raw) * 1.5) + 4
    try:
        comp = await asyncio.wait_for(
            client.complete(messages, max_tokens=max_tokens, temperature=0.0, timeout=timeout_s,
                            grammar=cleanup_grammar(raw, chosen)),
            timeout=timeout_s + 0.5)
    except asyncio.TimeoutError:
        return CleanupResult(raw, raw, False, f"cleanup timed out after {timeout_s:.1f} s", now_ms() - t0)
    except asyncio.CancelledError:
        raise
    except Exception as e:  # connection refused, HTTP error, openai.APITimeoutError...
        if "Timeout" in type(e).__name__:
            return CleanupResult(raw, raw, False, f"cleanup timed out after {timeout_s:.1f} s", now_ms() - t0)
        status = getattr(e, "status_code", None)
        if status is not None:  # the server answered, with an error: say which, not "unavailable"
            return CleanupResult(raw, raw, False, f"light server refused the cleanup ({status}): {str(e)[:160]}",
                                 now_ms() - t0)
        return CleanupResult(raw, raw, False, f"light server unavailable ({type(e).__name__})", now_ms() - t0)
    ms = now_ms() - t0
    out = _extract(comp.text)
    why = judge(raw, out, glossary, terms=chosen if glossary else None)
    if comp.finish_reason == "length" and not why:
        why = "output cut off at the token limit"
    if why:
        return CleanupResult(raw, raw, False, why, ms, comp.timings, comp.text)
    return CleanupResult(out, raw, True, "", ms, comp.timings, comp.text)
