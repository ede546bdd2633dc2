"""The model catalogue's family pairs: real repo/file names, memory for both servers with their
context, and whether the pair fits this machine."""
from __future__ import annotations

import json
import os
import subprocess
import sys

from bestbox.config import Config
from bestbox.models.catalog import CATALOG
from bestbox.models.families import FAMILIES, Shape, families_report, family_entry, pair_memory


def test_every_family_has_a_light_and_heavy_pair():
    assert {"qwen2.5", "qwen3", "gemma3", "llama3", "mistral"} <= set(FAMILIES)
    for fam in FAMILIES.values():
        for role in ("heavy", "light"):
            e = fam.entries[role]
            assert "/" in e.repo and e.files and all(f.endswith(".gguf") for f in e.files), e
            assert e.approx_gb and e.approx_gb > 0.5
    # The design's pair is the download catalogue's own entries, not a copy.
    assert FAMILIES["qwen2.5"].entries["heavy"] is CATALOG["heavy"]
    # A heavy model is the bigger one of its pair.
    assert all(f.entries["heavy"].approx_gb > f.entries["light"].approx_gb for f in FAMILIES.values())


def test_kv_cache_from_the_architecture():
    # Qwen2.5-7B: 28 layers, 4 KV heads of 128: 28 * 4096 * 4 * 128 * 2 (K, V) * 2 bytes.
    assert FAMILIES["qwen2.5"].shapes["light"].kv_bytes(4096, 2) == 28 * 4096 * 4 * 128 * 2 * 2
    # Gemma 3 keeps the full context on every sixth layer only; the rest hold a window per slot.
    g = Shape(layers=48, kv_heads=8, head_dim=256, trained_ctx=131072, swa_window=1024, full_every=6)
    per = 8 * 256 * 2 * 2
    assert g.kv_bytes(8192, 1) == (8 * 8192 + 40 * 1024) * per
    assert g.kv_bytes(8192, 1) < Shape(48, 8, 256, 131072).kv_bytes(8192)


def test_pair_memory_counts_both_servers_with_their_context():
    cfg = Config()
    m = pair_memory(FAMILIES["qwen3"], cfg)
    heavy, light = m["servers"]["heavy"], m["servers"]["light"]
    assert heavy["ctx_size"] == cfg.servers.heavy.ctx_size and light["parallel"] == cfg.servers.light.parallel
    assert m["total_bytes"] == heavy["total_bytes"] + light["total_bytes"]
    assert heavy["total_bytes"] > heavy["file_bytes"] + heavy["kv_bytes"]   # compute buffers on top
    rows = families_report(cfg, {"bytes": 16 * 1024 ** 3, "kind": "GPU", "detail": "test"})
    fits = {r["family"]: r["fits"] for r in rows}
    assert fits["llama3"] and not fits["mistral"]     # 4.9 + 2.0 GB fits 16 GiB; 14.3 + 4.9 GB does not


def test_family_entry_names_the_choices():
    assert family_entry("gemma3", "light").repo == "ggml-org/gemma-3-4b-it-GGUF"
    try:
        family_entry("nope", "heavy")
    except ValueError as e:
        assert "qwen3" in str(e)
    else:
        raise AssertionError("unknown family accepted")


def test_models_list_shows_the_families(tmp_path):
    env = {**os.environ, "BESTBOX_CONFIG": str(tmp_path / "c.toml"), "BESTBOX_DATA_DIR": str(tmp_path / "d")}
    r = subprocess.run([sys.executable, "-m", "bestbox", "models", "list", "--json"], capture_output=True,
                       text=True, timeout=60, env=env)
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["machine"]["kind"] in ("GPU", "RAM") and out["machine"]["bytes"] > 0
    fams = {f["family"]: f for f in out["families"]}
    assert fams["qwen3"]["models"]["heavy"]["files"] == ["Qwen3-14B-Q4_K_M.gguf"]
    assert all(isinstance(f["fits"], bool) for f in fams.values())
    text = subprocess.run([sys.executable, "-m", "bestbox", "models", "list"], capture_output=True, text=True,
                          timeout=60, env=env).stdout
    assert "Model families" in text and "mistral" in text and ("fits" in text)
