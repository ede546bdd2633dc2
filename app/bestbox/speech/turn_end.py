"""When a voice turn ends: the silence window, stretched or shortened by what was said.

`fixed`: the turn ends after `speech.vad_silence_ms` of silence (RealtimeSTT's rule).
`smart`: the speculative transcript of the silence window (`speech.speculation`) decides:
  * it reads as a finished request ("show me the top vendors.") → the turn ends once
    `turn_min_ms` of silence have passed (counting from the last voiced sample, like LiveKit);
  * it reads as unfinished ("show me the top vendors for", "... and", "um", "15 point") → the turn
    waits up to `turn_max_ms` for the speaker to go on;
  * no transcript yet (Whisper still working) → keep listening (never past `turn_max_ms`): closing
    earlier would not give the answer its text any sooner, and waiting costs no latency.

LiveKit's turn detector and Pipecat's smart-turn ask a model (a 135M-parameter text model, or an
audio model) for the end-of-utterance probability. Here the words are already transcribed in the
window, and a request to a business assistant ends in a handful of ways that a word list catches;
a wrong "unfinished" only costs waiting to the bound, a wrong "finished" cuts the speaker off, so
the rules lean towards "unfinished". The figures are in docs/benchmarks.md (`--only turn_end`).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

# A request does not end on these words: conjunctions, prepositions, articles and determiners,
# fillers, and words that ask for more (an object, the rest of a number).
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
""".split())
# "over", "like", "hundred" are in the list although a request may end on them; waiting longer there
# costs little and a cut-off costs a repeated request.
_FINAL_PUNCT = re.compile(r"[.?!]['\")\]]*$")
_WORD = re.compile(r"[A-Za-z0-9'%$]+")

TurnMode = Literal["fixed", "smart"]
Verdict = Literal["complete", "incomplete", "unknown"]


def verdict(text: str | None, tr=None) -> Verdict:
    """How the transcript so far reads: a finished request, an unfinished one, or nothing to go on."""
    if text is None:
        return "unknown"
    t = text.strip()
    words = _WORD.findall(t)
    if not words:
        return "unknown"
    if t.endswith(("...", "…", ",", "-", "–", "—", ":", ";")):
        return "incomplete"  # Whisper marks a trailing-off voice with these
    last = words[-1].lower()
    if last in _TRAILING:
        return "incomplete"
    if len(words) == 1 and not _FINAL_PUNCT.search(t):
        return "incomplete"
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
        v = verdict(text)
        return self.min_ms if v == "complete" else self.max_ms


def speculative_text(spec, last_voiced: int | None) -> str | None:
    """The finished speculative transcript for this pause (`speech.speculation.Speculation`), if any."""
    if spec is None or spec.last_voiced != last_voiced or not spec.task.done() or spec.task.cancelled():
        return None
    if spec.task.exception() is not None:
        return None
    tr = spec.task.result()[0]
    return None if tr.no_speech else tr.text
