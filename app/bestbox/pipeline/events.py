"""What a turn tells its listeners (chat pane, CLI, benchmark). One vocabulary for all of them."""
from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

# kind → data keys
#   "route":       decision (RouteDecision.to_dict()), turn_id
#   "note":        text (e.g. "Answered by the small model: the heavy server is down")
#   "tool_call":   name, arguments
#   "tool_result": name, rows (int | None), summary (str), error (str | None), result (dict)
#   "confirm":     tool, arguments, preview (human sentence). The listener resolves `reply`
#                  (True = go ahead, False = cancel); nothing changes until it does.
#   "token":       text (a piece of the streamed answer)
#   "done":        answer, route, tool_calls, timings, model, partial (bool), turn_id, conversation_id
#   "error":       message (readable; partial answer kept in history)
KINDS = ("route", "note", "tool_call", "tool_result", "confirm", "token", "done", "error")


@dataclass
class TurnEvent:
    kind: str
    data: dict[str, Any] = field(default_factory=dict)
    reply: asyncio.Future | None = None  # only for "confirm"

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown turn event kind {self.kind!r}")
