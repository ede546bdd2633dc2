"""The light-LLM router against a real llama-server with the demo model (SmolLM2-135M).

The tiny model's labels are often wrong; what is checked is the contract: always one of the five
agents, a handful of generated tokens, the static system prompt reused from the prompt cache,
and the fallbacks. Latency is reported, not asserted (the benchmark measures it)."""
import asyncio
import socket
import statistics
import threading

from bestbox.config import RoutingConfig
from bestbox.llm.client import LLMClient
from bestbox.routing import llm_router
from bestbox.routing.decision import AGENTS
from bestbox.routing.router import Router

TEXTS = ["show me the top vendors", "top menders by spend", "book a rum for 3pm", "thanks",
         "is the vpn down", "log a call with Jane at Acme", "um can you uh tell me a joke",
         "how many vacation days do I have left"]


def test_grammar_label_tokens_and_prompt_cache(light_server):
    async def go():
        client = LLMClient(light_server, timeout=120)
        try:
            labels = [await llm_router.classify(client, t, timeout_s=120) for t in TEXTS]
            again = await llm_router.classify(client, TEXTS[0], timeout_s=120)
        finally:
            await client.close()
        return labels, again

    labels, again = asyncio.run(go())
    for lab in labels + [again]:
        assert lab.agent in AGENTS
        assert lab.timings["predicted_n"] <= 4, lab.detail()
    # after the first call the system prompt comes from the cache
    assert all(lab.timings["cache_n"] > 0 for lab in labels[1:] + [again])
    assert again.timings["prompt_n"] < 20
    ms = [lab.ms for lab in labels[1:]]
    print(f"\ngrammar router on the demo model: p50 {statistics.median(ms):.0f} ms, max {max(ms):.0f} ms; "
          f"predicted_n {[lab.timings['predicted_n'] for lab in labels]}; "
          f"cache_n {again.timings['cache_n']} prompt_n {again.timings['prompt_n']}; "
          f"labels {[lab.agent for lab in labels]}")


def test_json_schema_variant_gives_a_valid_agent(light_server):
    async def go():
        client = LLMClient(light_server, timeout=120)
        try:
            return await llm_router.classify_json(client, "show me the top vendors", timeout_s=120)
        finally:
            await client.close()

    lab = asyncio.run(go())
    assert lab.agent in AGENTS
    assert lab.extra.get("complexity") in ("low", "medium", "high")
    print(f"\njson-schema router: {lab.timings.get('predicted_n')} tokens, {lab.ms:.0f} ms")
    assert lab.timings["predicted_n"] > 4      # why the label grammar is the default


def test_router_llm_mode_on_the_real_server(light_server):
    async def go():
        client = LLMClient(light_server, timeout=120)
        try:
            router = Router(RoutingConfig(mode="llm", llm_timeout_ms=120_000))
            return [await router.route(t, client) for t in TEXTS[:3]]
        finally:
            await client.close()

    for d in asyncio.run(go()):
        assert d.decided_by == "llm" and d.agent in AGENTS
        assert d.detail["predicted_n"] <= 4 and d.tier in ("light", "heavy")


def test_timeout_on_the_real_server_falls_back(light_server):
    # 1 ms: no llama-server answers that fast; the config's own floor (50 ms) is bypassed on purpose
    async def go():
        client = LLMClient(light_server, timeout=120)
        try:
            cfg = RoutingConfig.model_construct(mode="llm", llm_timeout_ms=1, fast_confidence=0.55,
                                                shadow_sample_rate=0.0)
            return await Router(cfg).route("show me the top vendors", client)
        finally:
            await client.close()

    d = asyncio.run(go())
    assert (d.agent, d.decided_by) == ("erp", "fallback")
    assert d.detail["fallback"].startswith("timeout")


def test_server_that_never_answers_times_out():
    """A socket that accepts and stays silent: the HTTP request hangs, the router does not."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(8)
    port = srv.getsockname()[1]
    held = []
    stop = threading.Event()

    def accept():
        srv.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(srv.accept()[0])
            except OSError:
                pass

    t = threading.Thread(target=accept, daemon=True)
    t.start()

    async def go():
        client = LLMClient(f"http://127.0.0.1:{port}", timeout=60)
        try:
            return await Router(RoutingConfig(mode="llm", llm_timeout_ms=300)).route("reset my password", client)
        finally:
            await client.close()

    try:
        d = asyncio.run(go())
    finally:
        stop.set()
        t.join()
        for c in held:
            c.close()
        srv.close()
    assert (d.agent, d.decided_by) == ("it_ops", "fallback")
    assert d.detail["fallback"].startswith("timeout") and d.ms < 1500


def test_server_down_the_fast_path_decides(free_port):
    async def go():
        client = LLMClient(f"http://127.0.0.1:{free_port}")   # nothing listens there
        try:
            return await Router(RoutingConfig(mode="hybrid", fast_confidence=1.0)).route(
                "show me the top vendors", client)
        finally:
            await client.close()

    d = asyncio.run(go())
    assert (d.agent, d.decided_by) == ("erp", "fallback")
    assert d.detail["fallback"].startswith("error")
