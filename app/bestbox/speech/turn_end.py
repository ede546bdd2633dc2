"""When a voice turn ends: the silence window, stretched or shortened by what was said.

`fixed`: the turn ends after `speech.vad_silence_ms` of silence (RealtimeSTT's rule).
`smart`: the speculative transcript of the silence window (`speech.speculation`) decides:
  * it reads as a finished request ("show me the top vendors.") → the turn ends once
    `turn_min_ms` of silence have passed (counting from the last voiced sample, like LiveKit);
  * it reads as unfinished ("show me the top vendors for", "... and", "um", "how many days do I",
    "the vendors for it") → the turn waits up to `turn_max_ms` for the speaker to go on;
  * it may be finished but the words do not say so firmly (two words or fewer, no final punctuation,
    Whisper not confident) → the fixed window, so smart never cuts sooner than fixed there;
  * no transcript yet (Whisper still working) → keep listening (never past `turn_max_ms`): closing
    earlier would not give the answer its text any sooner, and waiting costs no latency.

Whisper's final punctuation is not trusted alone: tiny.en ends a cut-off fragment with "." or "?"
("How many vacation days do I?", "Show me the top vendors for it."), so the last words are read
whatever the punctuation. LiveKit's turn detector and Pipecat's smart-turn ask a model for the
end-of-utterance probability; here the words are already transcribed in the window and a request to
a business assistant ends in a handful of ways that word rules catch in microseconds. A wrong
"unfinished" costs waiting to the bound, a wrong "finished" cuts the speaker off, so the rules lean
towards "unfinished". The figures are in docs/benchmarks.md (`--only turn_end`).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

# A request does not end on these words: conjunctions, prepositions, articles and determiners,
# fillers, auxiliaries, and words that ask for more (an object, the rest of a number).
_TRAILING = frozenset("""
and or but nor so because then if when whether that which who whom whose while though although unless
than as
for of to in on at by from with without about into onto over under after before since until between
per via against during through toward towards across around near like including except
the a an my our your their his her its this these those some any every each all both either no another
um uh er erm hmm ah eh mm well
point plus minus times divided over hundred thousand million billion
is are was were be been am do does did can could would should will shall may might must have has had
me show list give tell find get open book send check what's whats how what which where who
i i'm we're you're they're i've we've i'd we'd i'll we'll
""".split())
# "over", "like", "hundred" are in the list although a request may end on them; waiting longer there
# costs little and a cut-off costs a repeated request.
_AUX = frozenset("do does did can could would should will shall may might must have has had am".split())
_SUBJECT = frozenset("i you we they he she".split())
# A preposition then "it" at the end: Whisper's guess at the silence after a trailing preposition
# ("show me the top vendors for" → "... for it."); a request rarely ends there ("pay for it").
_PREP = frozenset("for of to in on at by from with about into after before".split())
_FINAL_PUNCT = re.compile(r"[.?!]['\")\]]*$")
_WORD = re.compile(r"[A-Za-z0-9'%$]+")

TurnMode = Literal["fixed", "smart"]
Verdict = Literal["complete", "unsure", "incomplete", "unknown"]


def verdict(text: str | None, tr=None) -> Verdict:
    """How the transcript so far reads: a finished request, maybe one, an unfinished one, or nothing
    to go on. `tr` (the `Transcript`, optional) adds Whisper's confidence."""
    if text is None:
        return "unknown"
    t = text.strip()
    words = [w.lower() for w in _WORD.findall(t)]
    if not words:
        return "unknown"
    if t.endswith(("...", "…", ",", "-", "–", "—", ":", ";")):
        return "incomplete"  # Whisper marks a trailing-off voice with these
    last, before = words[-1], (words[-2] if len(words) > 1 else "")
    if last in _TRAILING:
        return "incomplete"
    if last in _SUBJECT and before in _AUX:
        return "incomplete"  # "do I", "can you", "do we": the verb is still to come
    if last == "it" and before in _PREP:
        return "incomplete"
    if len(words) <= 2 or not _FINAL_PUNCT.search(t):
        return "unsure"  # "Call Northwind." may go on "... about the late delivery"
    if tr is not None and not getattr(tr, "confident", True):
        return "unsure"  # misheard words may hide an unfinished sentence
    return "complete"


@dataclass(frozen=True)
class TurnEndPolicy:
    """The silence (ms after the last voiced sample) that ends a turn, given the transcript so far."""

    mode: TurnMode = "smart"
    fixed_ms: int = 700
    min_ms: int = 250
    max_ms: int = 1500

    @classmethod
    def from_config(cls, speech) -> "TurnEndPolicy":
        return cls(mode=speech.turn_end, fixed_ms=speech.vad_silence_ms,
                   min_ms=speech.turn_min_ms, max_ms=max(speech.turn_max_ms, speech.turn_min_ms))

    @property
    def bound_ms(self) -> int:
        """The longest silence any transcript can make the turn wait (the detector's window)."""
        return self.fixed_ms if self.mode == "fixed" else self.max_ms

    def wait_ms(self, text: str | None, tr=None) -> int:
        if self.mode == "fixed":
            return self.fixed_ms
        v = verdict(text, tr)
        if v == "complete":
            return self.min_ms
        if v == "unsure":  # never sooner than the fixed window, never past the bound
            return min(max(self.fixed_ms, self.min_ms), self.max_ms)
        return self.max_ms


def speculative_transcript(spec, last_voiced: int | None):
    """The finished speculative `Transcript` for this pause (`speech.speculation.Speculation`), if any."""
    if spec is None or spec.last_voiced != last_voiced or not spec.task.done() or spec.task.cancelled():
        return None
    if spec.task.exception() is not None:
        return None
    tr = spec.task.result()[0]
    return None if tr.no_speech else tr
