"""What a turn tells its listeners (chat pane, CLI, benchmark). One vocabulary for all of them.

kind → data keys
  "route":       decision (RouteDecision.to_dict()), turn_id, conversation_id. The event's `trace` is
                 the turn's own TurnTrace (live: a front end adds its marks, e.g. a spoken reply's
                 first_audio, to the one trace every number comes from)
  "note":        text (e.g. "Answered by the small model: the heavy server is down")
  "tool_call":   name, arguments
  "tool_result": name, arguments, rows (int | None), summary (str), error (str | None), result (dict)
  "confirm":     tool, arguments, preview (human sentence). The listener resolves `reply`
                 (True = go ahead, False = cancel); nothing changes until it does.
  "needs_input": a tool call the model could not complete; the listener shows a form and, when the
                 user sends it, calls `Assistant.submit_tool(tool, arguments, conversation_id)`,
                 which streams a normal turn (route, tool_call, confirm for writes, tool_result,
                 token…, done). The turn that emitted needs_input ends right after it (no "done",
                 no answer text). Data:
                   tool:       tool name, e.g. "open_ticket"
                   title:      the tool in plain words, e.g. "Open an IT ticket"
                   message:    one sentence: what could not be done and why
                   missing:    [field names] still required or invalid
                   invalid:    {field: readable problem} for fields given but not understood
                   prefilled:  {field: value} from the model and the request (valid values only)
                   schema:     the tool's JSON schema (type object, properties, required); each
                               property has "title" (plain words) and, for dates,
                               "format": "date" or "date-time"; "enum" where values are fixed
                   write:      bool, the tool changes data (the submit passes through "confirm")
                   turn_id, conversation_id
  "token":       text (a piece of the streamed answer)
  "done":        answer, route, tool_calls, timings, model, partial (bool), turn_id, conversation_id,
                 demo_model (bool: the serving model is the bundled demo model; mark the answer),
                 unverified (bool: a domain question answered without any tool result; the answer is
                 not company data and the UI should mark it), notes ([str], the turn's notes),
                 adjustments ([str]: tool arguments corrected by the request's own words, e.g.
                 "limit 3 → 5 (the request asks for 5)")
  "error":       message (readable; partial answer kept in history)

History (pipeline/history.py) keeps per assistant message, in `meta`: route, model, tool_calls,
demo_model, unverified, adjustments, notes ([str]: fallback notes such as "Answered by the heavy model because…"),
needs_input (the event's data, when the turn ended in a form), and `corrected_agent` on the turn's
messages after a route correction (Assistant.correct_route).
"""
from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..trace import TurnTrace

KINDS = ("route", "note", "tool_call", "tool_result", "confirm", "needs_input", "reasoning", "token", "done", "error")


@dataclass
class TurnEvent:
    kind: str
    data: dict[str, Any] = field(default_factory=dict)
    reply: asyncio.Future | None = None  # only for "confirm"
    trace: TurnTrace | None = field(default=None, repr=False)  # only for "route"

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown turn event kind {self.kind!r}")
