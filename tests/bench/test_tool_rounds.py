"""The `turns` section caps the agent loop at one tool round on random-weight models only
(bench/tool_rounds.py) and says so; the Assistant passes the cap to the loop."""
from __future__ import annotations

import asyncio

from bestbox.bench.context import Options
from bestbox.bench.tool_rounds import capped_on_random_weights, random_weight_tiers
from bestbox.config import Config
from bestbox.pipeline.assistant import Assistant, run_text_turn
from bestbox.pipeline.history import History
from bestbox.trace import TurnTrace


class NoServers:
    def client(self, name):
        return None


def cfg_with(heavy_model: str) -> Config:
    return Config(servers={"heavy": {"model": heavy_model}})


def test_random_weight_tiers_come_from_the_model_files_or_the_bench_flag(tmp_path):
    opt = Options(out_dir=tmp_path)
    assert random_weight_tiers(Config(), opt) == []
    assert random_weight_tiers(cfg_with("/m/qwen2.5-14b-random-Q4_K_M.gguf"), opt) == ["heavy"]
    assert random_weight_tiers(cfg_with("/m/Qwen2.5-14B-Instruct-Q4_K_M.gguf"), opt) == []
    assert random_weight_tiers(Config(), Options(out_dir=tmp_path, tool_call_tokens=40)) == ["light", "heavy"]


def test_the_cap_applies_on_random_weights_only_and_is_undone(tmp_path):
    logged = []
    opt = Options(out_dir=tmp_path, log=logged.append)
    for model, capped in (("/m/qwen2.5-14b-random-Q4_K_M.gguf", True), ("/m/Qwen2.5-14B-Instruct.gguf", False)):
        cfg = cfg_with(model)
        a = Assistant(cfg, NoServers(), history=History(tmp_path / f"h{capped}.sqlite"))
        out: dict = {}
        with capped_on_random_weights(cfg, opt, {"bestbox": a}, out):
            assert a.max_tool_rounds == (1 if capped else None)
        assert a.max_tool_rounds is None
        assert ("tool_rounds_cap" in out) is capped
        a.history.close()
    assert out == {} and any("capped at 1" in m for m in logged)


def test_a_capped_assistant_asks_for_one_tool_call_at_most(running_servers, tmp_path, monkeypatch):
    monkeypatch.setenv("BESTBOX_DATA_DIR", str(tmp_path / "data"))

    class Both:
        def client(self, name):
            return running_servers.client(name)

    a = Assistant(running_servers.config, Both(), history=History(tmp_path / "h.sqlite"))
    a.max_tool_rounds = 1
    trace = TurnTrace()
    # a request the demo model's calls rarely satisfy: uncapped, the loop asks up to three times
    res = asyncio.run(run_text_turn("how many vacation days do I have left this year", config=a.config,
                                    assistant=a, trace=trace))
    assert not res.get("error"), res
    assert sum(s.name == "tool_choice" for s in trace.stages) <= 1, [s.name for s in trace.stages]
    a.history.close()


def test_on_random_weights_a_tool_choice_is_timed_as_a_plain_decode_of_the_call_length(running_servers, tmp_path):
    import json

    from bestbox.agents.calls import call_schema
    from bestbox.agents.tools import tools_for
    from bestbox.bench.recording import RecordingEndpoints

    class Both:
        def client(self, name):
            return running_servers.client(name)

    rec = RecordingEndpoints(Both(), call_cap=8)
    cfg, out = cfg_with("/m/qwen2.5-14b-random-Q4_K_M.gguf"), {}
    tools = tools_for("erp")[:2]
    msgs = [{"role": "user", "content": "show me the top vendors"}]
    with capped_on_random_weights(cfg, Options(out_dir=tmp_path, tool_call_tokens=8), {}, out, rec):
        comp = asyncio.run(rec.client("heavy").complete(msgs, json_schema=call_schema(tools), max_tokens=200))
    assert rec.unconstrained is False and "tool_choice_timed_as" in out
    call = rec.calls[-1]
    assert call.unconstrained and call.substituted and call.purpose == "tool_choice"
    assert call.timings["predicted_n"] == 8        # ignore_eos: exactly the call's length
    assert json.loads(comp.text) == {"tool": tools[0].name, "arguments": {}}


def test_auto_call_tokens_count_the_apps_example_calls_with_the_servers_tokenizer(running_servers):
    """`--tool-call-tokens auto`: the median example call, tokenized by the heavy server, + 1."""
    import statistics

    from bestbox.agents.prompts import EXAMPLES
    from bestbox.bench.llama_http import Endpoint
    from bestbox.bench.tool_rounds import call_tokens_of_examples

    ep = Endpoint("heavy", running_servers.base_url("heavy"), running_servers.config.llama.api_key)
    n, detail = asyncio.run(call_tokens_of_examples(ep))
    counts = list(detail["per_call"].values())
    assert len(counts) == sum(len(v) for v in EXAMPLES.values()) and all(c and c > 5 for c in counts)
    assert n == int(statistics.median(counts)) + 1 == detail["tokens"]


def test_auto_call_tokens_say_so_when_the_server_cannot_tokenize():
    import pytest

    from bestbox.bench.llama_http import Endpoint
    from bestbox.bench.tool_rounds import call_tokens_of_examples

    with pytest.raises(RuntimeError, match="tokenize"):
        asyncio.run(call_tokens_of_examples(Endpoint("heavy", "http://127.0.0.1:9")))


def test_the_bench_flag_takes_a_number_or_auto():
    import argparse

    import pytest

    from bestbox.cli.bench_cmd import _call_tokens

    assert _call_tokens("auto") == "auto" and _call_tokens("21") == 21
    for bad in ("many", "0"):
        with pytest.raises(argparse.ArgumentTypeError):
            _call_tokens(bad)
