"""The router's modes and fallbacks, with stand-in clients (the real server: test_llm_live.py)."""
import asyncio
import random

import pytest

from bestbox.config import Config, RoutingConfig
from bestbox.routing.corrections import CorrectionStore
from bestbox.routing.router import Router


def route(router, text, light=None, heavy=None, **kw):
    return asyncio.run(router.route(text, light, heavy, **kw))


def cfg(**kw) -> RoutingConfig:
    return RoutingConfig(**kw)


def test_fast_mode_needs_no_server():
    d = route(Router(cfg(mode="fast")), "show me the top five vendors by spend this quarter")
    assert (d.agent, d.tier, d.decided_by, d.needs_tools) == ("erp", "heavy", "fast", True)
    assert 0 < d.confidence <= 1 and d.ms > 0
    out = d.to_dict()
    assert set(out) >= {"agent", "tier", "needs_tools", "complexity", "est_output_tokens", "steps",
                        "decided_by", "confidence", "ms", "detail"}


def test_hybrid_confident_fast_path_skips_the_llm(stub_client):
    light = stub_client("crm")
    d = route(Router(cfg(mode="hybrid", fast_confidence=0.5)), "reset my password", light)
    assert (d.agent, d.decided_by) == ("it_ops", "fast") and light.calls == 0


def test_hybrid_unsure_asks_the_llm(stub_client):
    light = stub_client("crm")
    d = route(Router(cfg(mode="hybrid", fast_confidence=1.0)), "reset my password", light)
    assert (d.agent, d.decided_by, d.confidence) == ("crm", "llm", None) and light.calls == 1
    assert d.detail["predicted_n"] == 2 and d.detail["cache_n"] == 250
    assert d.detail["fast"]["agent"] == "it_ops"


def test_llm_mode_always_asks(stub_client):
    light = stub_client("it")            # the grammar's word for it_ops
    d = route(Router(cfg(mode="llm")), "show me the top vendors", light)
    assert (d.agent, d.decided_by) == ("it_ops", "llm")


def test_no_light_server_falls_back_to_the_fast_path():
    d = route(Router(cfg(mode="llm")), "show me the top vendors", None)
    assert (d.agent, d.decided_by) == ("erp", "fallback")
    assert d.detail["fallback"] == "no light server"


def test_garbage_output_falls_back(stub_client):
    d = route(Router(cfg(mode="llm")), "show me the top vendors", stub_client("Sure! The answer is ERP."))
    assert (d.agent, d.decided_by) == ("erp", "fallback")
    assert d.detail["fallback"].startswith("garbage")


def test_slow_llm_times_out_and_falls_back(stub_client):
    d = route(Router(cfg(mode="llm", llm_timeout_ms=100)), "show me the top vendors", stub_client("crm", delay=5))
    assert (d.agent, d.decided_by) == ("erp", "fallback")
    assert d.detail["fallback"].startswith("timeout") and d.ms < 2000


def test_server_error_falls_back(stub_client):
    d = route(Router(cfg(mode="llm")), "reset my password", stub_client(error=ConnectionError("refused")))
    assert (d.agent, d.decided_by) == ("it_ops", "fallback")


def test_tier_follows_the_policy():
    r = Router(cfg(mode="fast"))
    assert (route(r, "thanks").tier, route(r, "thanks").tier_reason) == ("light", "quick answer")
    assert route(r, "what's 15% of 80").tier == "light"
    assert route(r, "explain how photosynthesis works").tier == "heavy"
    for text in ("show me the top vendors", "log a call with Jane at Acme", "is the vpn down",
                 "how many vacation days do I have left"):
        d = route(r, text)
        assert d.tier == "heavy" and "domain" in d.tier_reason


def test_empty_or_filler_only_is_general():
    r = Router(cfg(mode="llm"))
    for text in ("", "  ", "um uh"):
        d = route(r, text)
        assert (d.agent, d.tier) == ("general", "light")


def test_unknown_mode_is_an_error():
    with pytest.raises(ValueError):
        route(Router(cfg()), "hi", mode="magic")


def test_accepts_the_whole_config():
    r = Router(Config())
    assert r.cfg.mode == "hybrid"


def test_shadow_check_records_agreement(stub_client):
    store = CorrectionStore()
    router = Router(cfg(mode="fast", shadow_sample_rate=1.0), store, rng=random.Random(1))
    heavy = stub_client("erp")

    async def go():
        await router.route("show me the top vendors", None, heavy, turn_id="a")
        await router.route("reset my password", None, heavy, turn_id="b")
        await router.drain()

    asyncio.run(go())
    assert [r["agree"] for r in router.shadow_results] == [True, False]
    assert store.report()["shadow"]["agreement"] == 0.5


def test_shadow_rate_zero_never_asks(stub_client):
    heavy = stub_client("erp")
    route(Router(cfg(mode="fast", shadow_sample_rate=0.0)), "show me the top vendors", None, heavy)
    assert heavy.calls == 0


def test_preroute_decides_once_and_the_turn_takes_it(stub_client):
    """A voice turn's speculative transcript is routed in the silence window; the turn with the
    same text takes that decision instead of asking the light model again."""
    light = stub_client("crm", delay=0.05)
    r = Router(cfg(mode="llm"))

    async def go():
        r.preroute("Reset my password", light)
        await asyncio.sleep(0.1)  # the silence window
        same = await r.route("reset my password.", light)  # the same words, as the answer gets them
        other = await r.route("show me the top vendors", light)
        return same, other

    same, other = asyncio.run(go())
    assert (same.agent, same.decided_by) == ("crm", "llm") and light.calls == 2
    assert same.detail["speculative"]["decided_ms"] > 0
    assert "speculative" not in other.detail


def test_preroute_still_running_is_awaited_not_repeated(stub_client):
    light = stub_client("oa", delay=0.1)
    r = Router(cfg(mode="llm"))

    async def go():
        r.preroute("book a room", light)
        return await r.route("book a room", light)

    d = asyncio.run(go())
    assert d.agent == "oa" and light.calls == 1 and "speculative" in d.detail


def test_correction_drops_pending_preroutes(stub_client, tmp_path):
    light = stub_client("crm")
    r = Router(cfg(mode="hybrid", fast_confidence=1.0), CorrectionStore(tmp_path / "c.sqlite"))

    async def go():
        r.preroute("reset my password", light)
        await asyncio.sleep(0.01)
        r.correct("reset my password", "it_ops")
        return await r.route("reset my password", light)

    d = asyncio.run(go())
    assert (d.agent, d.decided_by) == ("it_ops", "correction") and "speculative" not in d.detail


def test_cancelling_the_turn_is_not_swallowed_by_a_preroute(stub_client):
    light = stub_client("crm", delay=0.5)
    r = Router(cfg(mode="llm"))

    async def go():
        r.preroute("reset my password", light)
        turn = asyncio.ensure_future(r.route("reset my password", light))
        await asyncio.sleep(0.05)
        turn.cancel()
        with pytest.raises(asyncio.CancelledError):
            await turn

    asyncio.run(go())
