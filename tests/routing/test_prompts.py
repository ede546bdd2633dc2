from bestbox.bench import server_measures
from bestbox.routing import llm_router, prompts
from bestbox.routing.decision import AGENTS


def test_router_prompt_data_is_one_source():
    assert set(prompts.LABELS.values()) == set(AGENTS)
    assert prompts.JSON_SCHEMA["properties"]["agent"]["enum"] == list(AGENTS)
    # The GPU benchmark sends exactly what the app sends.
    assert server_measures.ROUTER_SYSTEM_PROMPT is llm_router.SYSTEM_PROMPT
    assert server_measures.LABEL_GRAMMAR is llm_router.GRAMMAR
    assert server_measures.ROUTE_JSON_SCHEMA is llm_router.JSON_SCHEMA


def test_agent_table_is_the_one_list():
    from bestbox.routing import agents
    from bestbox.routing.decision import DOMAIN_AGENTS

    assert AGENTS == tuple(a.key for a in agents.TABLE) and "general" not in DOMAIN_AGENTS
    for a in agents.TABLE:
        # the router prompt describes every agent under the word the grammar lets the model say
        assert f"\n{a.word}: {a.prompt}" in prompts.SYSTEM_PROMPT
        assert f"\n{a.key}: {a.prompt}" in prompts.JSON_SYSTEM_PROMPT
        assert f'"{a.word}"' in prompts.GRAMMAR
    assert agents.label("it_ops") == "IT Ops" and agents.label("new_team") == "New Team"
