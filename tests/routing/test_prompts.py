from bestbox.bench import server_bench
from bestbox.routing import llm_router, prompts
from bestbox.routing.decision import AGENTS


def test_router_prompt_data_is_one_source():
    assert set(prompts.LABELS.values()) == set(AGENTS)
    assert prompts.JSON_SCHEMA["properties"]["agent"]["enum"] == list(AGENTS)
    # The GPU benchmark sends exactly what the app sends.
    assert server_bench.ROUTER_SYSTEM_PROMPT is llm_router.SYSTEM_PROMPT
    assert server_bench.LABEL_GRAMMAR is llm_router.GRAMMAR
    assert server_bench.ROUTE_JSON_SCHEMA is llm_router.JSON_SCHEMA
