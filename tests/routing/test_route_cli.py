"""`bestbox route` as a user runs it: a subprocess, JSON out."""
import json
import os
import subprocess
import sys
from pathlib import Path


from bestbox.routing.decision import AGENTS


def bestbox(*args, timeout=300):
    exe = Path(sys.executable).with_name("bestbox")
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "bestbox"]
    return subprocess.run(cmd + list(args), capture_output=True, text=True, timeout=timeout, env=os.environ.copy())


def write_config(light_port: int, heavy_port: int, timeout_ms: int = 120_000) -> None:
    Path(os.environ["BESTBOX_CONFIG"]).write_text(
        f'[llama]\napi_key = "test-key"\n[servers.heavy]\nport = {heavy_port}\n'
        f'[servers.light]\nport = {light_port}\n[routing]\nllm_timeout_ms = {timeout_ms}\n')


def test_route_fast_json(free_port):
    write_config(free_port, free_port + 1 if free_port < 65535 else free_port - 1)
    p = bestbox("route", "top menders by spend", "--mode", "fast", "--json")
    assert p.returncode == 0, p.stderr
    d = json.loads(p.stdout)
    assert (d["agent"], d["tier"], d["decided_by"], d["text"]) == ("erp", "heavy", "fast", "top menders by spend")
    assert d["ms"] >= 0 and 0 < d["confidence"] <= 1


def test_route_llm_with_the_light_server_down_says_so(free_port):
    write_config(free_port, free_port - 1)
    p = bestbox("route", "reset my password", "--mode", "llm", "--json")
    assert p.returncode == 0, p.stderr
    assert "down" in p.stderr and "fast path" in p.stderr
    d = json.loads(p.stdout)
    assert (d["agent"], d["decided_by"]) == ("it_ops", "fallback")


def test_route_file_llm_against_the_real_server(light_server, tmp_path):
    port = int(light_server.rsplit(":", 1)[1])
    write_config(port, port - 1 if port > 1024 else port + 1)
    f = tmp_path / "utterances.txt"
    f.write_text("show me the top vendors\n\nthanks\nbook a rum for 3pm\n")
    p = bestbox("route", "--file", str(f), "--mode", "llm", "--json")
    assert p.returncode == 0, p.stderr
    lines = [json.loads(x) for x in p.stdout.splitlines()]
    assert [x["text"] for x in lines] == ["show me the top vendors", "thanks", "book a rum for 3pm"]
    for d in lines:
        assert d["agent"] in AGENTS and d["decided_by"] == "llm"
        assert d["detail"]["predicted_n"] <= 4
    assert lines[-1]["detail"]["cache_n"] > 0


def test_eval_fast_json_on_the_held_out_split(free_port):
    write_config(free_port, free_port - 1)
    p = bestbox("route", "--eval", "--mode", "fast", "--json")
    assert p.returncode == 0, p.stderr
    out = json.loads(p.stdout)
    assert out["split"] == "test" and out["overlap_with_training"] == 0
    r = out["modes"]["fast"]
    assert r["accuracy"] >= 0.85
    assert sum(sum(row.values()) for row in r["confusion"].values()) == out["examples"]
    assert r["latency"]["p50_ms"] is not None and r["latency"]["p90_ms"] is not None


def test_eval_text_all_modes_with_a_file(free_port, tmp_path):
    write_config(free_port, free_port - 1)
    f = tmp_path / "mine.jsonl"
    f.write_text('{"text": "the copier is out of toner again", "agent": "it_ops"}\n'
                 '{"text": "cheers", "agent": "general"}\n')
    p = bestbox("route", "--eval", str(f))
    assert p.returncode == 0, p.stderr
    for mode in ("[hybrid]", "[llm]", "[fast]"):
        assert mode in p.stdout
    assert "confusion" in p.stdout


def test_correct_report_export_reset(tmp_path, free_port):
    write_config(free_port, free_port - 1)
    assert bestbox("route", "--correct", "the shredder is jammed", "--agent", "it_ops").returncode == 0
    p = bestbox("route", "the shredder is jammed", "--mode", "fast", "--json")
    assert json.loads(p.stdout)["decided_by"] == "correction"
    out = tmp_path / "c.jsonl"
    p = bestbox("route", "--export", str(out), "--report", "--json")
    assert json.loads(p.stdout)["report"]["corrections"] == 1
    assert json.loads(out.read_text().splitlines()[0])["agent"] == "it_ops"
    assert bestbox("route", "--reset").returncode == 0
    p = bestbox("route", "the shredder is jammed", "--mode", "fast", "--json")
    assert json.loads(p.stdout)["decided_by"] == "fast"


def test_no_arguments_is_a_usage_error():
    p = bestbox("route")
    assert p.returncode == 2
