"""`bestbox bench --quick --json --out DIR` as a user runs it, against real servers (the bench starts
them from a throw-away config and stops them again). Benchmarks measure; this test asserts only
behaviour: every section is there, the plots are real PNGs, the grammar router stays within its
token budget, and no server is left behind. No timing is asserted."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import psutil
import pytest

SECTIONS = ("meta", "servers", "router", "asr", "cleanup", "turns", "ui", "supervision", "targets", "ratios")
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _llama_servers_on(ports) -> list[int]:
    out = []
    for c in psutil.net_connections(kind="tcp"):
        if c.status == psutil.CONN_LISTEN and c.laddr and c.laddr.port in ports and c.pid:
            out.append(c.pid)
    return out


def _root_conftest():
    """tests/conftest.py's helpers (imported by path: other test dirs have a conftest.py too)."""
    import importlib.util
    from pathlib import Path

    spec = importlib.util.spec_from_file_location("_bestbox_root_conftest", Path(__file__).parents[1] / "conftest.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="module")
def bench_run(tmp_path_factory, llama_server_bin, demo_model):
    """One quick run for all the assertions below (it takes a few minutes on 2 cores)."""
    root = _root_conftest()
    make_config, write_config = root.make_config, root.write_config
    tmp = tmp_path_factory.mktemp("bench")
    cfg = make_config(llama_server_bin, demo_model)
    cfg_path = write_config(cfg, tmp / "config" / "config.toml")
    out = tmp / "out"
    env = dict(os.environ, BESTBOX_CONFIG=str(cfg_path), BESTBOX_DATA_DIR=str(tmp / "data"),
               QT_QPA_PLATFORM="offscreen")
    proc = subprocess.run([sys.executable, "-m", "bestbox", "bench", "--quick", "--json", "--out", str(out)],
                          env=env, capture_output=True, text=True, timeout=1500)
    ports = (cfg.servers.heavy.port, cfg.servers.light.port)
    return proc, out, ports


def test_json_has_every_section(bench_run):
    proc, out, _ = bench_run
    assert proc.stdout.strip(), proc.stderr[-3000:]
    res = json.loads(proc.stdout)
    assert res == json.loads((out / "bench.json").read_text())
    missing = [s for s in SECTIONS if s not in res]
    assert not missing, (missing, res.get("errors"), proc.stderr[-3000:])
    assert not res.get("errors"), res["errors"]
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "small-model cpu numbers" in res["meta"]["note"].lower()
    r = res["router"]["methods"]
    assert set(r) == {"fast_path", "bestbox_hybrid", "light_grammar", "heavy_grammar", "light_json", "heavy_json"}
    for m, d in r.items():
        assert d["ms"]["n"] > 0 and {"median", "p90", "max"} <= set(d["ms"]), m
    assert res["asr"]["lengths"] and all(x["rtf"]["n"] > 0 for x in res["asr"]["lengths"])
    assert res["cleanup"]["latency_ms"]["n"] > 0
    assert set(res["cleanup"]["transcript_to_first_token_ms"]) == {"off", "after_answer", "before_answer"}
    for kind in ("typed", "voice"):
        for c in ("single", "dual", "bestbox"):
            d = res["turns"][kind][c]
            assert d["n"] > 0, (kind, c, d.get("errors"))
            assert d["first_token_ms"]["n"] > 0 and d["last_token_ms"]["n"] > 0
            assert d["app_overhead_ms"]["n"] > 0 and d["segments_median_ms"]
    assert res["turns"]["voice"]["bestbox"]["close_to_first_output_ms"]["n"] > 0
    ui = res["ui"]
    assert "max_stall_ms" in ui["stalls"]["answer"] and "max_stall_ms" in ui["stalls"]["voice"]
    assert ui["launch"]["launch_to_shown_ms"] and ui["launch"]["rss_at_shown_mb"] > 0
    sv = res["supervision"]
    assert len(sv["kill_to_crashed_ms"]) == len(sv["crashed_to_ready_ms"]) >= 1 and sv["start_to_ready_ms"]
    names = {t["name"] for t in res["targets"]}
    assert any("generated tokens" in n for n in names) and any("fast path" in n for n in names)
    assert any("UI stall" in n for n in names) and any("app overhead" in n for n in names)
    assert any("window shown" in n for n in names) and any("crash detected" in n for n in names)
    assert any(k.startswith("typed.first_token_ms.single/") for k in res["ratios"])


def test_grammar_router_generates_at_most_4_tokens(bench_run):
    proc, _, _ = bench_run
    res = json.loads(proc.stdout)
    gen = res["router"]["methods"]["light_grammar"]["generated_tokens"]
    assert gen["n"] > 0 and gen["max"] <= 4, gen
    check = next(t for t in res["targets"] if "generated tokens" in t["name"])
    assert check["ok"] is True


def test_plots_are_pngs(bench_run):
    proc, out, _ = bench_run
    res = json.loads(proc.stdout)
    names = sorted(os.path.basename(p) for p in res["plots"])
    assert names == ["bench-calibration.png", "bench-router.png", "bench-typed.png", "bench-voice.png"]
    for n in names:
        data = (out / n).read_bytes()
        assert data[:8] == PNG_MAGIC and len(data) > 10_000, n
        from PIL import Image  # matplotlib's dependency

        with Image.open(out / n) as im:
            im.verify()
            assert im.size[0] >= 800 and im.size[1] >= 300


def test_spoken_clips_written_and_servers_stopped(bench_run):
    proc, out, ports = bench_run
    wavs = sorted(p.name for p in (out / "wav").glob("*.wav"))
    assert "asr_1s.wav" in wavs and "v_vacation.wav" in wavs
    assert _llama_servers_on(ports) == []  # the bench started them, so it stopped them


def test_unknown_section_is_refused_before_any_server_starts(tmp_path):
    env = dict(os.environ, BESTBOX_CONFIG=str(tmp_path / "config.toml"), BESTBOX_DATA_DIR=str(tmp_path / "data"))
    proc = subprocess.run([sys.executable, "-m", "bestbox", "bench", "--only", "router,rooter", "--out",
                           str(tmp_path / "out")], env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert "unknown section rooter" in proc.stderr and "router" in proc.stderr.split("known:")[1]
    assert not (tmp_path / "out" / "bench.json").exists()
