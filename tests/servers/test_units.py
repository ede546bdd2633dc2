"""Pure parts of the supervision: log progress, failure reasons, metrics, GGUF header, commands."""
from __future__ import annotations

from bestbox.config import ServerConfig
from bestbox.servers import build_command
from bestbox.servers.gguf import kv_cache_bytes, read_metadata
from bestbox.servers.logs import LoadProgress, readable_reason
from bestbox.servers.metrics import apply_metrics, apply_slots
from bestbox.servers.state import ServerSnapshot, ServerState, ServerStats


def test_load_progress_from_log_lines_and_dots():
    p = LoadProgress()
    p.feed("srv    load_model: loading model '/m/qwen.gguf'")
    assert p.value == 0.05
    p.feed("load_tensors: loading model tensors, this can take a while... (mmap = true)")
    assert p.value == 0.2
    p.feed("." * 50)
    assert abs(p.value - 0.5) < 1e-9
    p.feed("llama_context: constructing llama_context")
    assert p.value == 0.85
    p.feed("load_model: initializing, n_slots = 1, n_ctx_slot = 512")
    p.feed("srv  llama_server: model loaded")
    assert p.value == 1.0
    p.feed("loading model")  # never goes back
    assert p.value == 1.0
    q = LoadProgress()
    q.estimate_from_time(5.0, 10.0)
    assert abs(q.value - 0.475) < 1e-9


def test_readable_reasons_from_real_log_lines():
    r = readable_reason(["srv    load_model: loading model '/x.gguf'",
                         "gguf_init_from_file: failed to open GGUF file '/x.gguf' (No such file or directory)",
                         "llama_model_load: error loading model: ...", "srv  failed to load model"],
                        port=8080, model="/x.gguf", returncode=1)
    assert r.startswith("llama-server could not load the model /x.gguf") and "No such file" in r
    r = readable_reason(["srv  start: couldn't bind HTTP server socket, hostname: 127.0.0.1, port: 8080"],
                        port=8080, model="m", returncode=1)
    assert "port 8080 is already in use" in r
    r = readable_reason(["ggml_backend_cuda_buffer_type_alloc_buffer: allocating 9000 MiB on device 0: "
                         "cudaMalloc failed: out of memory"], port=1, model="big.gguf", returncode=1)
    assert r.startswith("not enough memory for big.gguf")
    assert "killed by SIGKILL" in readable_reason([], port=1, model="m", returncode=-9)
    assert "exited with code 3; last log line: bye" in readable_reason(["bye"], port=1, model="m", returncode=3)


def test_metrics_and_slots():
    st = ServerStats()
    apply_metrics(st, "llamacpp:tokens_predicted_total 1\nllamacpp:tokens_predicted_seconds_total 0.000001\n"
                      "llamacpp:requests_processing 0\n")
    assert st.tokens_per_s is None  # a 1-token probe is no speed
    apply_metrics(st, "llamacpp:tokens_predicted_total 101\nllamacpp:tokens_predicted_seconds_total 2.000001\n"
                      "llamacpp:requests_processing 1\n")
    assert st.tokens_per_s == 50.0 and st.requests_processing == 1
    apply_slots(st, [{"id": 0, "id_task": 3, "is_processing": True}, {"id": 1, "id_task": -1,
                                                                      "is_processing": False}])
    assert st.busy_slots == 1 and st.total_slots == 2 and st.requests_total == 0
    apply_slots(st, [{"id": 0, "id_task": 7, "is_processing": False}, {"id": 1, "id_task": 8,
                                                                       "is_processing": False}])
    # both slots took a new task: slot 1 had never worked (-1) and counts too (it used to be missed)
    assert st.busy_slots == 0 and st.requests_total == 2


def test_gguf_header_of_the_demo_model(demo_model):
    meta = read_metadata(demo_model)
    assert meta["general.architecture"] == "llama" and meta["llama.block_count"] == 30
    # 30 layers x 512 tokens x 3 KV heads x (64 + 64) dims x 2 bytes
    assert kv_cache_bytes(meta, 512) == 30 * 512 * 3 * 128 * 2


def test_build_command(tmp_path, demo_model):
    cfg = ServerConfig(model=str(demo_model), port=9999, threads=0, extra_args=["--flash-attn", "on"])
    cmd = build_command("heavy", cfg, api_key="k", server_binary="")
    assert cmd.ok and cmd.argv[-2:] == ["--flash-attn", "on"] and "--threads" not in cmd.argv
    assert cmd.base_url == "http://127.0.0.1:9999" and not cmd.using_demo_model
    fallback = build_command("heavy", cfg.model_copy(update={"model": str(tmp_path / "x.gguf")}), api_key="k")
    assert fallback.using_demo_model and fallback.model_path == demo_model and "x.gguf" in fallback.notes[0]
    strict = build_command("heavy", cfg.model_copy(update={"model": str(tmp_path / "x.gguf")}), api_key="k",
                           allow_demo=False)
    assert not strict.ok and "model file not found" in strict.error
    bad = build_command("light", cfg.model_copy(update={"command": ["srv", "{nope}"]}), api_key="k")
    assert not bad.ok and "{nope}" in bad.error


def test_snapshot_to_dict():
    d = ServerSnapshot(name="heavy", state=ServerState.PORT_CONFLICT).to_dict()
    assert d["state"] == "port_conflict" and d["name"] == "heavy" and "vram_bytes" in d


def test_model_bytes_counts_every_part_of_a_split_gguf(tmp_path):
    from bestbox.servers.gguf import model_bytes

    for i, size in ((1, 10), (2, 20), (3, 30)):
        (tmp_path / f"qwen2.5-14b-instruct-q4_k_m-0000{i}-of-00003.gguf").write_bytes(b"x" * size)
    (tmp_path / "single.gguf").write_bytes(b"x" * 7)
    assert model_bytes(tmp_path / "qwen2.5-14b-instruct-q4_k_m-00001-of-00003.gguf") == 60
    assert model_bytes(tmp_path / "single.gguf") == 7


def test_gpu_bench_gets_the_apps_command_line_without_pydantic(tmp_path):
    """tools/gpu-bench/device.sh asks `python -m bestbox.servers.command --print TIER` for the flags;
    the GPU machine's Python has no pydantic or platformdirs, so it must run on the stdlib alone
    (`-S`: no site-packages) and print what build_command builds for the default tier."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    from bestbox.config import Config

    app = Path(__file__).resolve().parents[2] / "app"
    binary, model = tmp_path / "llama-server", tmp_path / "m 14b.gguf"
    binary.write_text("#!/bin/sh\n")
    binary.chmod(0o755)
    model.write_bytes(b"GGUF")
    for tier in ("heavy", "light"):
        out = subprocess.run([sys.executable, "-S", "-m", "bestbox.servers.command", "--print", tier, "--null",
                              "--binary", str(binary), "--model", str(model), "--port", "9123"],
                             capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(app)}, check=True)
        argv = out.stdout.split("\0")[:-1]
        cfg = Config().server(tier).model_copy(update={"model": str(model), "port": 9123})
        assert argv == build_command(tier, cfg, api_key="", server_binary=str(binary)).argv


def test_stop_child_terminates_and_kills_one_that_ignores_sigterm():
    import subprocess
    import sys

    from bestbox.servers.procs import stop_child

    polite = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    stop_child(polite)
    assert polite.returncode == -15  # SIGTERM was enough
    stubborn = subprocess.Popen([sys.executable, "-c", "import signal, time; signal.signal(signal.SIGTERM, "
                                 "signal.SIG_IGN); print('ready', flush=True); time.sleep(60)"],
                                stdout=subprocess.PIPE, text=True)
    assert stubborn.stdout.readline().strip() == "ready"
    stop_child(stubborn, grace_s=0.5)
    assert stubborn.returncode == -9  # killed after the grace period, and reaped
    stubborn.stdout.close()
    stop_child(stubborn)  # an exited child: nothing to do
