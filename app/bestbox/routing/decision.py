"""What the router decided, in one small record that the CLI's JSON, the chat badges, the
corrections store and the benchmark all read."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Literal

from .agents import AGENTS, DOMAIN_AGENTS  # noqa: F401  (the one list; re-exported for the router's users)

MODES: tuple[str, ...] = ("hybrid", "llm", "fast")
DECIDERS: tuple[str, ...] = ("fast", "llm", "fallback", "correction")

Agent = Literal[AGENTS]  # type: ignore[valid-type]  # the keys of agents.TABLE
Tier = Literal["light", "heavy"]
Complexity = Literal["low", "medium", "high"]
DecidedBy = Literal["fast", "llm", "fallback", "correction"]


@dataclass
class RouteDecision:
    """agent: who answers. tier: which model answers. decided_by: who picked the agent —
    `fast` (local classifier, confident), `llm` (light model), `fallback` (the fast path because
    the light model was down, slow or said nonsense), `correction` (a user correction matched).
    confidence: the fast path's probability for `agent` (None when only the LLM had an opinion).
    ms: wall time of the decision. detail: the evidence (LLM timings, fast-path guess, why)."""

    agent: Agent
    tier: Tier
    needs_tools: bool
    complexity: Complexity
    est_output_tokens: int
    steps: int
    decided_by: DecidedBy
    confidence: float | None
    ms: float
    mode: str = "hybrid"
    tier_reason: str = ""
    detail: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        d = asdict(self)
        d["ms"] = round(self.ms, 3)
        if self.confidence is not None:
            d["confidence"] = round(self.confidence, 4)
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "RouteDecision":
        names = cls.__dataclass_fields__.keys()
        return cls(**{k: v for k, v in d.items() if k in names})
