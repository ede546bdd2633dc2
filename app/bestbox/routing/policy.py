"""Which model does a piece of work: the tiering policy of the dual-model design, as readable rules.

Light model (fast, small): routing, classification, intent detection, ASR cleanup, and quick
answers — fewer than ~50 output tokens, no tools, low complexity.
Heavy model (slow, strong): planning or more than one step, tool calls, long answers (more than
~100 tokens), and every ERP / CRM / IT Ops / OA question. When unsure: heavy.

Each rule is one small function so that a test can name it; `choose_tier` tells which rule won.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from .decision import DOMAIN_AGENTS

TaskType = Literal["routing", "classification", "intent_detection", "asr_cleanup", "answer"]

LIGHT_TASK_TYPES = frozenset({"routing", "classification", "intent_detection", "asr_cleanup"})
QUICK_ANSWER_MAX_TOKENS = 50    # "< 50 tokens expected output"
LONG_ANSWER_MIN_TOKENS = 100    # "> 100 tokens": long-form generation


@dataclass(frozen=True)
class Task:
    """A piece of work to give to a model. `type` is "answer" for answering the user."""

    type: TaskType = "answer"
    domain: str = "general"
    requires_tools: bool = False
    requires_planning: bool = False
    steps: int = 1
    estimated_output_tokens: int = 60
    complexity: Literal["low", "medium", "high"] = "medium"


# --- rules for the light model ------------------------------------------------------------------

def is_light_task_type(task: Task) -> bool:
    """Classification, routing, intent detection and ASR cleanup are light work by nature."""
    return task.type in LIGHT_TASK_TYPES


def is_quick_answer(task: Task) -> bool:
    """A short, simple answer with no tools: the small model answers it well and fast."""
    return (
        task.estimated_output_tokens < QUICK_ANSWER_MAX_TOKENS
        and not task.requires_tools
        and task.complexity == "low"
    )


# --- rules for the heavy model ------------------------------------------------------------------

def needs_planning(task: Task) -> bool:
    return task.requires_planning or task.steps > 1


def needs_tools(task: Task) -> bool:
    return task.requires_tools


def is_long_answer(task: Task) -> bool:
    return task.estimated_output_tokens > LONG_ANSWER_MIN_TOKENS


def is_domain_question(task: Task) -> bool:
    """ERP, CRM, IT Ops and OA questions need the agents' expertise (and usually their data)."""
    return task.domain in DOMAIN_AGENTS


HEAVY_RULES = (
    ("multi-step", needs_planning),
    ("tools", needs_tools),
    ("long answer", is_long_answer),
    ("domain", is_domain_question),
)


def heavy_reasons(task: Task) -> list[str]:
    """Names of the heavy-model rules this task triggers (empty: none)."""
    return [name for name, rule in HEAVY_RULES if rule(task)]


# --- the decision --------------------------------------------------------------------------------

def should_use_light_model(task: Task) -> bool:
    """Light for light task types; for answers, only a quick answer that no heavy rule claims."""
    if is_light_task_type(task):
        return True
    if heavy_reasons(task):
        return False
    return is_quick_answer(task)


def should_use_heavy_model(task: Task) -> bool:
    """Heavy whenever the light model is not clearly enough — including when unsure."""
    return not should_use_light_model(task)


def choose_tier(task: Task) -> tuple[Literal["light", "heavy"], str]:
    """("light" | "heavy", the rule that decided) — the reason is shown in badges and JSON."""
    if is_light_task_type(task):
        return "light", f"{task.type} task"
    reasons = heavy_reasons(task)
    if reasons:
        return "heavy", ", ".join(reasons)
    if is_quick_answer(task):
        return "light", "quick answer"
    return "heavy", "unsure: default heavy"
