"""The two servers' default settings (heavy: the 14B agent model, light: the 7B router).

Plain data, importable without pydantic: `config.py` builds its defaults from it, and the GPU
benchmark (tools/gpu-bench/device.sh, on a machine whose Python has no pydantic) gets the same
llama-server command line through `python -m bestbox.servers.command --print heavy ...`.
"""
from __future__ import annotations

DEFAULTS: dict[str, dict] = {
    "heavy": {"model": "~/models/14b/qwen2.5-14b-instruct-q4_k_m.gguf", "port": 8080, "ctx_size": 8192,
              "parallel": 1, "n_gpu_layers": 999},
    "light": {"model": "~/models/7b/qwen2.5-7b-instruct-q5_k_m.gguf", "port": 8081, "ctx_size": 4096,
              "parallel": 2, "n_gpu_layers": 99},
}
