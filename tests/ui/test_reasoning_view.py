"""A thinking model's reasoning is shown collapsed, with its own time, and never as the answer."""
from __future__ import annotations

from bestbox.ui.message_bubble import AnswerBubble


def test_reasoning_collapsed_apart_from_the_answer(qtbot):
    b = AnswerBubble()
    qtbot.addWidget(b)
    b.show()
    b.add_reasoning("The user wants vendors. ")
    b.add_reasoning("I should call the tool.")
    assert b.reasoning is not None and b.reasoning.body.isHidden()
    assert b.reasoning.header.text() == "Thinking…"
    b.append_token("Falwood GmbH leads.")
    assert b.reasoning.header.text().startswith("Thought for ")
    b.finish({"answer": "Falwood GmbH leads.", "timings": {"reasoning_ms": 1234.0}})
    assert b.reasoning.header.text() == "Thought for 1.2 s"
    assert b.text == "Falwood GmbH leads."          # the reasoning is not the answer
    b.reasoning.header.setChecked(True)              # one click opens it
    assert not b.reasoning.body.isHidden()
    assert b.reasoning.body.text() == "The user wants vendors. I should call the tool."


def test_no_reasoning_no_view(qtbot):
    b = AnswerBubble()
    qtbot.addWidget(b)
    b.append_token("hello")
    b.finish({"answer": "hello", "timings": {}})
    assert b.reasoning is None
