"""The pipeline's side of a voice turn (`speech.handoff.Answerer`): speech hands over its final
text, and a speculative one to route early; the pipeline answers, and its `TurnEvent`s go straight
to the listener given here (the chat pane through the voice controller, the CLI's printer, the
bench), never back through speech."""
from __future__ import annotations

import logging
from typing import Callable

from ..trace import TurnTrace
from .events import TurnEvent

log = logging.getLogger(__name__)


class PipelineAnswerer:
    def __init__(self, turns, *, on_event: Callable[[TurnEvent], None] | None = None,
                 auto_confirm: bool | None = False, conversation_id: Callable[[], str | None] = lambda: None,
                 source: str = "voice"):
        """turns: a `pipeline.Assistant`, or anything with its `run_turn` and `preroute` (the
        window's AssistantAdapter runs them on the pipeline thread). auto_confirm: None asks
        through "confirm" events (a window); False declines data-changing actions (no one to ask)."""
        self.turns = turns
        self.on_event = on_event
        self.auto_confirm = auto_confirm
        self.conversation_id = conversation_id
        self.source = source

    def preroute(self, text: str) -> None:
        cid = self.conversation_id()
        self.turns.preroute(text, conversation_id=cid) if cid else self.turns.preroute(text)

    def drop_ahead(self) -> None:
        """Speech resumed: work started on the last speculative transcript is dropped."""
        drop = getattr(self.turns, "drop_ahead", None)
        if drop is not None:
            drop()

    async def answer(self, text: str, *, trace: TurnTrace, meta: dict) -> dict:
        from .assistant import run_text_turn

        return await run_text_turn(text, config=None, trace=trace, source=self.source, on_event=self.on_event,
                                   assistant=self.turns, auto_confirm=self.auto_confirm,
                                   conversation_id=self.conversation_id(), meta=meta)
