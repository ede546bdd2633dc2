"""What the agent loop tells its consumer (the pipeline turns these into TurnEvents):
ToolCallEvent, ConfirmNeededEvent, DeclinedEvent, ToolResultEvent, LLMCallEvent, TokenEvent,
NeedsInputEvent, ReasoningEvent and, last, DoneEvent."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import ClassVar


@dataclass
class AgentEvent:
    kind: ClassVar[str] = ""

    def to_dict(self) -> dict:
        return {"kind": self.kind, **asdict(self)}


@dataclass
class ToolCallPreview:
    """What a data-changing call will do; the UI shows `description` and asks the user."""
    name: str
    arguments: dict
    description: str
    agent: str
    call_id: str = ""


@dataclass
class ToolCallEvent(AgentEvent):
    kind: ClassVar[str] = "tool_call"
    name: str
    arguments: dict
    step: int
    call_id: str = ""
    mutating: bool = False


@dataclass
class ConfirmNeededEvent(AgentEvent):
    kind: ClassVar[str] = "confirm_needed"
    preview: ToolCallPreview


@dataclass
class DeclinedEvent(AgentEvent):
    kind: ClassVar[str] = "declined"
    name: str
    arguments: dict
    call_id: str = ""


@dataclass
class ToolResultEvent(AgentEvent):
    kind: ClassVar[str] = "tool_result"
    name: str
    result: dict
    rows: int | None
    error: str | None
    summary: str
    ms: float
    call_id: str = ""
    arguments: dict = field(default_factory=dict)   # as the tool ran them (after the request's corrections)


@dataclass
class LLMCallEvent(AgentEvent):
    """One finished model request (tool choice or a native step), with the server's timings."""
    kind: ClassVar[str] = "llm_call"
    purpose: str
    ms: float
    timings: dict
    text: str = ""


@dataclass
class TokenEvent(AgentEvent):
    kind: ClassVar[str] = "token"
    text: str


@dataclass
class NeedsInputEvent(AgentEvent):
    """A call the model could not complete: `data` is the form (see needs_input.form_request)."""
    kind: ClassVar[str] = "needs_input"
    data: dict


@dataclass
class ReasoningEvent(AgentEvent):
    """A piece of a thinking template's reasoning (only when the runner was made with thinking=True):
    shown apart, never part of the answer."""
    kind: ClassVar[str] = "reasoning"
    text: str


@dataclass
class DoneEvent(AgentEvent):
    kind: ClassVar[str] = "done"
    text: str
    timings: dict                       # the answer request's server timings (prompt_n, predicted_per_second, …)
    tool_calls: list[dict]              # {name, arguments, rows_returned, error, ms}
    agent: str = ""
    mode: str = ""                      # native | schema | none
    steps: int = 0                      # model requests made
    metrics: dict = field(default_factory=dict)  # ttft_ms, total_ms (from the trace's t0), tools_ms, llm_ms, reasoning_ms
    note: str = ""
    failed: bool = False                # the server failed mid-request: `text` is partial
    needs_input: dict | None = None     # the turn ended in a form instead of an answer
    unverified: bool = False            # an agent with tools answered without any tool result
    adjustments: list[str] = field(default_factory=list)  # arguments corrected by the request's own words
