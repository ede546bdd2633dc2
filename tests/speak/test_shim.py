"""The bench's text shim for random-weight models (speak/shim.py): the speaker gets a fixed answer,
word by word as the stream's tokens come, so the first clause is complete only when as many tokens as
it has (and the next word's) have streamed; the whole text is spoken, whatever the tokens said."""
from __future__ import annotations

from bestbox.pipeline.events import TurnEvent
from bestbox.speak.engines import EspeakEngine
from bestbox.speak.reply import ReplySpeaker
from bestbox.speak.sentences import SentenceAggregator
from bestbox.speak.shim import ANSWER, TextShim
from bestbox.speak.voice_reply import _shimmed


def test_words_are_released_when_their_tokens_have_streamed():
    shim = TextShim()
    agg = SentenceAggregator()
    first_clause_at = None
    released = ""
    for n in range(1, 200):
        piece = shim("token", "\ufffd")       # a random model's text does not matter
        released += piece
        assert shim.cum[shim.released - 1] <= n if shim.released else True
        if first_clause_at is None and agg.feed(piece):
            first_clause_at = n
    assert released == ANSWER
    # "You have twelve vacation days left this year," is cut when the next word ("after") is out
    words = ANSWER.split()
    after = words.index("after")
    assert first_clause_at == shim.cum[after]
    assert shim.cum[after] > after            # punctuation and long words count extra tokens


def test_speaker_under_the_shim_says_the_fixed_answer():
    shim = TextShim()
    rs = ReplySpeaker(EspeakEngine(), output=False)
    for ev in [TurnEvent("token", {"text": "\x00garbage"})] * 5 + [TurnEvent("done", {"answer": "garbage"})]:
        for e in _shimmed(ev, shim):
            rs.on_event(e)
    assert rs.wait(60)
    rs.close()
    said = rs.spoken_text
    assert said.startswith("You have twelve vacation days left this year,") and said.endswith("each one.")
