"""Tool rounds on random-weight models: the GPU bench times the app with 7B/14B-shaped models of
random weights (`bench.gguf_random`); their calls are noise, so the agent loop asks again and again
(3 calls and no answer in the 2026-11-30 H200 run). On such models the `turns` section caps the
loop at one tool round and says so in its output; real models keep the loop's own bound."""
from __future__ import annotations

import statistics
from contextlib import contextmanager
from pathlib import Path

TIERS = ("light", "heavy")
CAP = 1


def random_weight_tiers(cfg, opt) -> list[str]:
    """The tiers that serve a random-weight model: their file names say so (`gguf_random` and
    tools/gpu-bench name them *-random-*), and `--tool-call-tokens` is given for them only."""
    names = {t: Path(str(getattr(cfg.server(t), "model", "") or "")).name.lower() for t in TIERS}
    tiers = [t for t, n in names.items() if "random" in n]
    if not tiers and getattr(opt, "tool_call_tokens", None) is not None:
        tiers = list(TIERS)
    return tiers


@contextmanager
def capped_on_random_weights(cfg, opt, assistants: dict, out: dict, rec=None):
    """Cap every assistant's tool rounds at CAP for the block when a tier serves random weights, and
    note it in `out`; with `--tool-call-tokens`, the recording endpoints `rec` time each tool choice
    as a plain decode of that many tokens (bench/recording.py). Undone afterwards."""
    tiers = random_weight_tiers(cfg, opt)
    if not tiers:
        yield
        return
    before = {k: a.max_tool_rounds for k, a in assistants.items()}
    out["tool_rounds_cap"] = {"cap": CAP, "tiers": tiers,
                              "why": "random-weight models never stop calling tools; real models are not capped"}
    opt.log(f"  random-weight models on {', '.join(tiers)}: tool rounds capped at {CAP}")
    calls = getattr(opt, "tool_call_tokens", None)
    if rec is not None and calls is not None:
        rec.unconstrained = True
        out["tool_choice_timed_as"] = (f"unconstrained decode of {calls} tokens (--tool-call-tokens) with a canned "
                                       "call: random weights make grammar-constrained sampling slow, trained "
                                       "models do not; the grammar path's cost per token is the router "
                                       "section's JSON-schema figures")
    for a in assistants.values():
        a.max_tool_rounds = CAP
    try:
        yield
    finally:
        for k, a in assistants.items():
            a.max_tool_rounds = before[k]
        if rec is not None:
            rec.unconstrained = False


async def call_tokens_of_examples(endpoint) -> tuple[int, dict]:
    """`--tool-call-tokens auto`: how long a trained model's call is, from the calls the app's own
    prompts show as examples (agents/prompts.EXAMPLES, the form a model imitates), counted by the
    heavy server's tokenizer (the GPU bench's random models carry Qwen2's real vocabulary), plus the
    end-of-generation token. The median, so one long call (a room booking) does not set it."""
    from ..agents.prompts import EXAMPLES
    from .llama_http import count_tokens, make_client

    calls = [c for pairs in EXAMPLES.values() for _q, c in pairs]
    async with make_client(30.0) as client:
        counts = [await count_tokens(client, endpoint, c) for c in calls]
    known = [n for n in counts if n]
    if not known:
        raise RuntimeError(f"--tool-call-tokens auto: the {endpoint.name} server's /tokenize did not answer")
    n = int(statistics.median(known)) + 1
    return n, {"tokens": n, "from": "median of the app's example calls (agents/prompts.EXAMPLES), by the "
               f"{endpoint.name} server's tokenizer, + 1 end token", "per_call": dict(zip(calls, counts))}
