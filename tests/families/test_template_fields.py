"""The request fields a chat template calls for, from /props data (no server needed)."""
from __future__ import annotations


from bestbox.llm.templates import CHATML_FALLBACK, NO_THINKING, profile_from_props, request_fields

from family_servers import TEMPLATES


def props(template: str, **caps) -> dict:
    return {"chat_template": template, "chat_template_caps": caps, "total_slots": 2,
            "default_generation_settings": {"n_ctx": 2048}, "model_path": "/m/x.gguf"}


def test_a_thinking_template_is_told_not_to_think_unless_asked():
    qwen3 = profile_from_props(props((TEMPLATES / "Qwen-Qwen3-0.6B.jinja").read_text(), supports_tool_calls=True))
    assert qwen3.thinking and qwen3.native_tools and qwen3.slot_ctx == 2048
    off = request_fields(qwen3, thinking=False)
    assert off["chat_template_kwargs"] == NO_THINKING["chat_template_kwargs"] and off["reasoning_budget_tokens"] == 0
    assert "<|im_end|>" in off["stop"]
    assert request_fields(qwen3, thinking=True)["chat_template_kwargs"] == {"enable_thinking": True}
    assert "chat_template_kwargs" not in request_fields(qwen3, thinking=None)


def test_a_plain_template_gets_only_its_end_markers():
    llama = profile_from_props(props((TEMPLATES / "meta-llama-Llama-3.3-70B-Instruct.jinja").read_text()))
    assert not llama.thinking
    f = request_fields(llama, thinking=False)
    assert set(f) == {"stop"} and "<|eot_id|>" in f["stop"]
    gemma = profile_from_props(props((TEMPLATES / "google-gemma-2-2b-it.jinja").read_text()))
    assert "<end_of_turn>" in gemma.stops and not gemma.native_tools


def test_the_chatml_fallback_is_recognised():
    fb = profile_from_props(props(CHATML_FALLBACK))
    assert fb.fallback_template and fb.stops == ["<|im_end|>", "<|im_start|>"]
    assert not profile_from_props(props((TEMPLATES / "Qwen-Qwen3-0.6B.jinja").read_text())).fallback_template
    assert request_fields(None, False) == {}
