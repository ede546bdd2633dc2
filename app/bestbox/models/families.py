"""A light/heavy pair per model family, what each pair needs in memory, and whether it fits here.

    for f in FAMILIES.values():
        m = pair_memory(f, config)       # both servers loaded with their configured context
        print(f.label, m["total_bytes"], fits(m["total_bytes"], machine_memory()))

Memory per server = GGUF size + KV cache + compute buffers. The KV cache is
layers × ctx_size × kv_heads × (key + value head dims) × 2 bytes (f16), the `kv_cache_bytes` formula the
server manager uses on a GGUF's header; llama-server splits ctx_size across its parallel slots, so
parallel does not grow it. Gemma 3 keeps a full cache on every sixth layer only; the others hold a
1024-token sliding window per slot.

File sizes are from the Hugging Face repos as known when this was written (2025), in GB of 10^9
bytes, marked approximate: a download checks the server's Content-Length and sha256, never these.
"""
from __future__ import annotations

import shutil
import subprocess
import tomllib
from dataclasses import dataclass

from .catalog import CATALOG, ModelEntry

FAMILIES_TOML = """
["qwen2.5"]
label = "Qwen2.5 (the design's pair)"
heavy = { label = "Qwen2.5-14B-Instruct Q4_K_M", layers = 48, kv_heads = 8, head_dim = 128, trained_ctx = 32768 }
light = { label = "Qwen2.5-7B-Instruct Q5_K_M", layers = 28, kv_heads = 4, head_dim = 128, trained_ctx = 32768 }

[qwen3]
label = "Qwen3 (thinking: switched off except for heavy answers when configured)"
heavy = { label = "Qwen3-14B Q4_K_M", repo = "Qwen/Qwen3-14B-GGUF", files = ["Qwen3-14B-Q4_K_M.gguf"], approx_gb = 9.0, layers = 40, kv_heads = 8, head_dim = 128, trained_ctx = 40960 }
light = { label = "Qwen3-4B Q4_K_M", repo = "Qwen/Qwen3-4B-GGUF", files = ["Qwen3-4B-Q4_K_M.gguf"], approx_gb = 2.5, layers = 36, kv_heads = 8, head_dim = 128, trained_ctx = 40960 }

[gemma3]
label = "Gemma 3 (instruction-tuned; Gemma terms of use)"
heavy = { label = "gemma-3-12b-it Q4_K_M", repo = "ggml-org/gemma-3-12b-it-GGUF", files = ["gemma-3-12b-it-Q4_K_M.gguf"], approx_gb = 7.3, layers = 48, kv_heads = 8, head_dim = 256, trained_ctx = 131072, swa_window = 1024, full_every = 6 }
light = { label = "gemma-3-4b-it Q4_K_M", repo = "ggml-org/gemma-3-4b-it-GGUF", files = ["gemma-3-4b-it-Q4_K_M.gguf"], approx_gb = 2.5, layers = 34, kv_heads = 4, head_dim = 256, trained_ctx = 131072, swa_window = 1024, full_every = 6 }

[llama3]
label = "Llama 3.x (Llama 3.1/3.2 community licences)"
heavy = { label = "Llama-3.1-8B-Instruct Q4_K_M", repo = "bartowski/Meta-Llama-3.1-8B-Instruct-GGUF", files = ["Meta-Llama-3.1-8B-Instruct-Q4_K_M.gguf"], approx_gb = 4.9, layers = 32, kv_heads = 8, head_dim = 128, trained_ctx = 131072 }
light = { label = "Llama-3.2-3B-Instruct Q4_K_M", repo = "bartowski/Llama-3.2-3B-Instruct-GGUF", files = ["Llama-3.2-3B-Instruct-Q4_K_M.gguf"], approx_gb = 2.0, layers = 28, kv_heads = 8, head_dim = 128, trained_ctx = 131072 }

[mistral]
label = "Mistral Small 3.2 with Ministral 8B"
heavy = { label = "Mistral-Small-3.2-24B-Instruct-2506 Q4_K_M", repo = "bartowski/mistralai_Mistral-Small-3.2-24B-Instruct-2506-GGUF", files = ["mistralai_Mistral-Small-3.2-24B-Instruct-2506-Q4_K_M.gguf"], approx_gb = 14.3, layers = 40, kv_heads = 8, head_dim = 128, trained_ctx = 131072 }
light = { label = "Ministral-8B-Instruct-2410 Q4_K_M", repo = "bartowski/Ministral-8B-Instruct-2410-GGUF", files = ["Ministral-8B-Instruct-2410-Q4_K_M.gguf"], approx_gb = 4.9, layers = 36, kv_heads = 8, head_dim = 128, trained_ctx = 32768 }
"""

COMPUTE_OVERHEAD = 300 * 1024 ** 2   # per server; the same rough constant as servers/manager.py


@dataclass(frozen=True)
class Shape:
    """What the KV cache depends on (from the model's config.json / GGUF header)."""

    layers: int
    kv_heads: int
    head_dim: int
    trained_ctx: int
    swa_window: int = 0       # sliding-window layers keep this many tokens per slot
    full_every: int = 1       # every n-th layer keeps the full context (Gemma 3: 6)

    def kv_bytes(self, ctx_size: int, parallel: int = 1, bytes_per_value: float = 2.0) -> int:
        per_token_layer = self.kv_heads * self.head_dim * 2 * bytes_per_value   # K and V
        if not self.swa_window or self.full_every <= 1:
            return int(self.layers * ctx_size * per_token_layer)
        full = self.layers // self.full_every
        window = min(ctx_size, self.swa_window * max(1, parallel))
        return int((full * ctx_size + (self.layers - full) * window) * per_token_layer)


@dataclass(frozen=True)
class Family:
    key: str
    label: str
    entries: dict[str, ModelEntry]     # heavy, light
    shapes: dict[str, Shape]


def _load(text: str = FAMILIES_TOML) -> dict[str, Family]:
    out = {}
    for key, d in tomllib.loads(text).items():
        entries, shapes = {}, {}
        for role in ("heavy", "light"):
            r = d[role]
            shapes[role] = Shape(r["layers"], r["kv_heads"], r["head_dim"], r["trained_ctx"],
                                 r.get("swa_window", 0), r.get("full_every", 1))
            if "repo" not in r:      # the design's pair is the download catalogue's own entries
                entries[role] = CATALOG[role]
                continue
            entries[role] = ModelEntry(name=role, label=r["label"], repo=r["repo"], files=tuple(r["files"]),
                                       default_dir=f"~/models/{key}", approx_gb=r.get("approx_gb"))
        out[key] = Family(key, d["label"], entries, shapes)
    return out


FAMILIES: dict[str, Family] = _load()


def family_entry(family: str, role: str) -> ModelEntry:
    try:
        return FAMILIES[family].entries[role]
    except KeyError:
        raise ValueError(f"no model family {family!r}: use {', '.join(FAMILIES)}") from None


def server_memory(entry: ModelEntry, shape: Shape, ctx_size: int, parallel: int) -> dict:
    file_b = int((entry.approx_gb or 0) * 1e9)
    kv = shape.kv_bytes(ctx_size, parallel)
    return {"file_bytes": file_b, "kv_bytes": kv, "ctx_size": ctx_size, "parallel": parallel,
            "total_bytes": file_b + kv + COMPUTE_OVERHEAD}


def pair_memory(fam: Family, config) -> dict:
    """Both servers of a family loaded with the configured ctx_size/parallel of each server."""
    per = {}
    for role in ("heavy", "light"):
        sc = config.server(role)
        per[role] = server_memory(fam.entries[role], fam.shapes[role], sc.ctx_size, sc.parallel)
    return {"servers": per, "total_bytes": sum(p["total_bytes"] for p in per.values())}


def machine_memory() -> dict:
    """GPU memory in total (nvidia-smi; both servers may share or split GPUs), else the machine's RAM."""
    if shutil.which("nvidia-smi"):
        try:
            r = subprocess.run(["nvidia-smi", "--query-gpu=memory.total", "--format=csv,noheader,nounits"],
                               capture_output=True, text=True, timeout=5)
            mib = [int(x) for x in r.stdout.split() if x.strip().isdigit()]
            if mib:
                return {"bytes": sum(mib) * 1024 ** 2, "kind": "GPU", "detail": f"{len(mib)} GPU(s), nvidia-smi"}
        except (OSError, subprocess.SubprocessError):
            pass
    import psutil

    return {"bytes": psutil.virtual_memory().total, "kind": "RAM", "detail": "no GPU found (nvidia-smi): RAM"}


def families_report(config, machine: dict | None = None) -> list[dict]:
    """One row per family for `bestbox models list`: the pair, its memory, and whether it fits."""
    machine = machine or machine_memory()
    rows = []
    for fam in FAMILIES.values():
        mem = pair_memory(fam, config)
        rows.append({"family": fam.key, "label": fam.label,
                     "models": {r: {"label": e.label, "repo": e.repo, "files": list(e.files),
                                    "approx_bytes": int(e.approx_gb * 1e9) if e.approx_gb else None,
                                    **mem["servers"][r]} for r, e in fam.entries.items()},
                     "total_bytes": mem["total_bytes"], "fits": mem["total_bytes"] <= machine["bytes"],
                     "memory_kind": machine["kind"]})
    return rows
