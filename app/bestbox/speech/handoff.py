"""The one interface between speech and the turn pipeline.

A voice session hears; it does not answer. When its text is final it hands it to an `Answerer`
(`bestbox.pipeline.answerer.PipelineAnswerer` wraps `pipeline.Assistant.run_turn`), and while
the user is still silent it offers a speculative transcript to `preroute` so that routing runs in
the silence window. The answer's `TurnEvent`s go from the pipeline to whoever subscribed there
(the chat pane, the CLI's printer, the bench); they never pass back through speech."""
from __future__ import annotations

from typing import Protocol

from ..trace import TurnTrace


class Answerer(Protocol):
    def preroute(self, text: str) -> None:
        """Route `text` ahead of its turn (fire and forget); the turn with the same text takes the decision."""

    def drop_ahead(self) -> None:
        """Speech resumed after a speculative transcript: drop what `preroute` started (optional)."""

    async def answer(self, text: str, *, trace: TurnTrace, meta: dict) -> dict:
        """Answer `text` as one turn timed on `trace` (t0: the end of speech); `meta` goes to the
        history with the user's message (the raw transcript). Returns what `bestbox ask --json`
        prints: route, answer, tool_calls, model, timings, notes, error when it failed."""
