"""A streamed answer's first clause is handed to the voice before its first sentence is complete."""
from __future__ import annotations

from bestbox.pipeline.events import TurnEvent
from bestbox.speak.engines import EspeakEngine
from bestbox.speak.reply import ReplySpeaker
from bestbox.trace import TurnTrace

ANSWER = "Acme was the top vendor this quarter by a wide margin, with 1,200 orders. It billed most, too."


def test_first_clause_is_spoken_before_the_first_sentence_ends():
    trace = TurnTrace()
    rs = ReplySpeaker(EspeakEngine(), output=False, trace=trace)
    handed, say = [], rs.speaker.say
    rs.speaker.say = lambda text: (handed.append(text), say(text))  # what the voice got, and when
    queued_at_period = None
    for w in ANSWER.split(" "):
        if w.endswith("orders."):
            queued_at_period = list(handed)  # before the first sentence is complete
        rs.on_event(TurnEvent("token", {"text": w + " "}))
    rs.on_event(TurnEvent("done", {"answer": ANSWER}))
    assert rs.wait(60)
    assert queued_at_period == ["Acme was the top vendor this quarter by a wide margin,"]
    assert rs.speaker.state.queued == ["Acme was the top vendor this quarter by a wide margin,",
                                       "with 1,200 orders.", "It billed most, too."]
    assert rs.first_audio_ms is not None and rs.audio().size
