"""One test per rule of the tiering policy (docs: shared/design/dual-model-architecture.md)."""
import pytest

from bestbox.routing.policy import (Task, choose_tier, heavy_reasons, should_use_heavy_model,
                                    should_use_light_model)

QUICK = dict(estimated_output_tokens=20, complexity="low", requires_tools=False)


@pytest.mark.parametrize("kind", ["routing", "classification", "intent_detection", "asr_cleanup"])
def test_light_task_types_use_the_light_model(kind):
    task = Task(type=kind, domain="erp", estimated_output_tokens=200)
    assert should_use_light_model(task) and not should_use_heavy_model(task)
    assert choose_tier(task) == ("light", f"{kind} task")


def test_quick_answer_uses_the_light_model():
    task = Task(**QUICK)
    assert should_use_light_model(task)
    assert choose_tier(task) == ("light", "quick answer")


def test_quick_needs_fewer_than_50_tokens():
    assert should_use_light_model(Task(**{**QUICK, "estimated_output_tokens": 49}))
    assert should_use_heavy_model(Task(**{**QUICK, "estimated_output_tokens": 50}))


def test_quick_needs_low_complexity():
    assert should_use_heavy_model(Task(**{**QUICK, "complexity": "medium"}))


def test_planning_uses_the_heavy_model():
    task = Task(**QUICK, requires_planning=True)
    assert should_use_heavy_model(task)
    assert heavy_reasons(task) == ["multi-step"]


def test_more_than_one_step_uses_the_heavy_model():
    task = Task(**QUICK, steps=2)
    assert should_use_heavy_model(task) and heavy_reasons(task) == ["multi-step"]


def test_tools_use_the_heavy_model():
    task = Task(**{**QUICK, "requires_tools": True})
    assert should_use_heavy_model(task) and heavy_reasons(task) == ["tools"]


def test_long_answers_use_the_heavy_model():
    task = Task(**{**QUICK, "estimated_output_tokens": 101, "complexity": "low"})
    assert should_use_heavy_model(task) and heavy_reasons(task) == ["long answer"]


@pytest.mark.parametrize("domain", ["erp", "crm", "it_ops", "oa"])
def test_every_domain_question_uses_the_heavy_model(domain):
    task = Task(**QUICK, domain=domain)
    assert should_use_heavy_model(task)
    assert heavy_reasons(task) == ["domain"]


def test_unsure_defaults_to_heavy():
    # 50–100 tokens, no tools, general, medium: neither quick nor claimed by a heavy rule
    task = Task(estimated_output_tokens=70, complexity="medium")
    assert heavy_reasons(task) == []
    assert should_use_heavy_model(task)
    assert choose_tier(task) == ("heavy", "unsure: default heavy")


def test_light_and_heavy_never_both():
    for tokens in (10, 49, 50, 80, 101, 500):
        for cx in ("low", "medium", "high"):
            for tools in (False, True):
                t = Task(estimated_output_tokens=tokens, complexity=cx, requires_tools=tools)
                assert should_use_light_model(t) != should_use_heavy_model(t)
