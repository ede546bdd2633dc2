"""GPU targets are checked when the bench ran on a GPU with real-sized models, and only reported on the
CPU demo model (where they cannot mean anything)."""
from __future__ import annotations

from bestbox.bench.report import add_checks


def _result(gpu: str | None, demo: bool) -> dict:
    voice = {"close_to_first_output_ms": {"n": 4, "median": 250.0},
             "first_token_ms_tool": {"n": 2, "median": 900.0}, "first_token_ms_no_tool": {"n": 2, "median": 720.0}}
    return {"meta": {"machine": {"gpu": gpu}},
            "servers": {"light": {"demo_model": demo}, "heavy": {"demo_model": demo}},
            "turns": {"voice": {"bestbox": voice}}}


def _by_name(res: dict) -> dict:
    return {c["name"]: c for c in add_checks(res)}


def test_gpu_targets_are_checked_on_a_gpu_with_real_sized_models():
    checks = _by_name(_result("NVIDIA H200, 143771 MiB", demo=False))
    assert checks["voice: close of recording -> first output (median)"]["ok"] is True
    assert checks["voice: last voiced sample -> first token, tool questions (median)"]["ok"] is False
    assert checks["voice: last voiced sample -> first token, no-tool questions (median)"]["ok"] is True
    assert "300" in checks["voice: close of recording -> first output (median)"]["target"]


def test_gpu_targets_are_only_reported_on_the_demo_model_or_without_a_gpu():
    for gpu, demo in ((None, False), ("NVIDIA H200", True)):
        checks = _by_name(_result(gpu, demo))
        assert all(c["ok"] is None and "note" in c for c in checks.values()), checks


def test_a_turns_only_run_is_judged_by_the_models_it_ran():
    res = _result("NVIDIA H200", demo=False)
    del res["servers"]
    assert all(c["ok"] is None for c in add_checks(res))  # nothing says which models ran
    res["meta"]["demo_model"] = False
    assert _by_name(res)["voice: close of recording -> first output (median)"]["ok"] is True
