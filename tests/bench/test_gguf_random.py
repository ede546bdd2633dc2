"""The random-weight GGUF writer: exact Qwen2.5 shapes, and a tiny file the real llama-server loads."""
from __future__ import annotations

import json
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import numpy as np
import pytest

gguf = pytest.importorskip("gguf")

from bestbox import paths  # noqa: E402
from bestbox.bench import gguf_kquant as kq  # noqa: E402
from bestbox.bench import gguf_random as gr  # noqa: E402
from bestbox.bench import gguf_vocab as gv  # noqa: E402
from bestbox.servers.procs import stop_child  # noqa: E402


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_shapes_match_qwen25():
    s7, s14 = gr.SHAPES["7b"], gr.SHAPES["14b"]
    assert (s7.hidden, s7.layers, s7.ffn, s7.heads, s7.kv_heads, s7.vocab) == (3584, 28, 18944, 28, 4, 152064)
    assert (s14.hidden, s14.layers, s14.ffn, s14.heads, s14.kv_heads, s14.vocab) == (5120, 48, 13824, 40, 8, 152064)
    # Qwen2.5's model cards: 7.61B and 14.7B parameters.
    assert abs(s7.n_params() / 1e9 - 7.62) < 0.01
    assert abs(s14.n_params() / 1e9 - 14.77) < 0.01
    names = [n for n, _, _ in gr.tensor_plan(s14)]
    assert "blk.47.attn_k.bias" in names and "output.weight" in names and len(names) == 3 + 12 * 48


def test_qwen3_shape():
    s = gr.SHAPES["qwen3-8b"]
    # Qwen3-8B's model card: 8.2B parameters; no q/k/v biases, q/k norms per 128-wide head.
    assert abs(s.n_params() / 1e9 - 8.19) < 0.01
    names = [n for n, _, _ in gr.tensor_plan(s)]
    assert "blk.35.attn_q_norm.weight" in names and not any(n.endswith(".bias") for n in names)


def test_full_size_vocab_has_qwen_special_ids():
    v = gv.synthetic_vocab(152064)
    assert len(v.tokens) == 152064
    assert v.tokens[gv.QWEN_EOT] == "<|endoftext|>"
    assert v.tokens[gv.QWEN_IM_START] == "<|im_start|>"
    assert v.tokens[gv.QWEN_IM_END] == "<|im_end|>"
    have = set(v.tokens)
    assert v.merges and all(m.replace(" ", "", 1) in have for m in v.merges)


def _get(url: str, timeout: float = 2.0) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, b""


def _types(path: Path) -> dict[str, tuple[str, tuple[int, ...]]]:
    return {t.name: (t.tensor_type.name, tuple(int(d) for d in t.shape)) for t in gguf.GGUFReader(str(path)).tensors}


def test_direct_kquant_file_has_llama_quantizes_types(tmp_path: Path):
    """--direct writes the tensor types and sizes llama-quantize gives the same shape."""
    binary, where = paths.find_llama_server()
    quantizer = binary.with_name("llama-quantize") if binary else None
    if quantizer is None or not quantizer.exists():
        pytest.skip(f"no llama-quantize beside the llama-server ({where})")
    for ftype in ("Q4_K_M", "Q5_K_M"):
        direct, quant = tmp_path / f"direct-{ftype}.gguf", tmp_path / f"quant-{ftype}.gguf"
        assert gr.main(["--shape", "small", "--out", str(direct), "--quantize", ftype, "--direct"]) == 0
        assert gr.main(["--shape", "small", "--out", str(quant), "--quantize", ftype,
                        "--llama-quantize", str(quantizer), "--threads", "1"]) == 0
        assert _types(direct) == _types(quant)
        assert direct.stat().st_size == quant.stat().st_size
        r = gguf.GGUFReader(str(direct))
        assert r.fields["general.file_type"].contents() == gguf.LlamaFileType[f"MOSTLY_{ftype}"]
        # the weights dequantize to finite values spread like the F16 path's N(0, 0.02)
        for t in r.tensors:
            if t.name in ("blk.1.ffn_up.weight", "blk.0.ffn_down.weight"):
                w = gguf.quants.dequantize(t.data, t.tensor_type)
                assert np.isfinite(w).all() and 0.015 < w.std() < 0.03 and abs(w.mean()) < 0.005


def test_kquant_plan_of_the_14b_file():
    """Q4_K_M on 48 layers: Q6_K for output.weight and for attn_v / ffn_down in the first and last
    six layers and every third between (what llama-quantize logged on the GPU machine)."""
    s = gr.SHAPES["14b"]
    q6 = sorted({int(n.split(".")[1]) for n, _, k in gr.tensor_plan(s)
                 if n.startswith("blk.") and kq.tensor_type(n, k, 5120, "Q4_K_M", s.layers) == "Q6_K"})
    assert q6 == [0, 1, 2, 3, 4, 5, 8, 11, 14, 17, 20, 23, 26, 29, 32, 35, 38, 41, 42, 43, 44, 45, 46, 47]
    assert kq.tensor_type("output.weight", "w", 5120, "Q4_K_M", 48) == "Q6_K"
    assert kq.tensor_type("token_embd.weight", "w", 5120, "Q4_K_M", 48) == "Q4_K"
    assert kq.tensor_type("blk.7.ffn_down.weight", "w", 13824, "Q5_K_M", 48) == "Q5_K"
    with pytest.raises(ValueError, match="multiple of 256"):
        kq.tensor_type("blk.0.attn_q.weight", "w", 64, "Q4_K_M", 2)


@pytest.mark.parametrize("shape,extra", [("tiny", []), ("tiny-qwen3", []), ("small", ["--quantize", "Q4_K_M", "--direct"])])
def test_tiny_gguf_loads_and_answers(tmp_path: Path, shape: str, extra: list[str]):
    binary, where = paths.find_llama_server()
    if binary is None:
        pytest.skip(where)
    out = tmp_path / "tiny.gguf"
    assert gr.main(["--shape", shape, "--out", str(out), *extra]) == 0

    arch = gr.SHAPES[shape].arch
    r = gguf.GGUFReader(str(out))
    assert r.fields["general.architecture"].contents() == arch
    assert r.fields[f"{arch}.embedding_length"].contents() == gr.SHAPES[shape].hidden
    assert "<|im_start|>" in r.fields["tokenizer.chat_template"].contents()

    port = _free_port()
    log = (tmp_path / "server.log").open("w")
    proc = subprocess.Popen([str(binary), "-m", str(out), "--host", "127.0.0.1", "--port", str(port),
                             "--ctx-size", "512", "--parallel", "1", "--metrics", "--jinja"],
                            stdout=log, stderr=subprocess.STDOUT)
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        status = 0
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                status, _ = _get(base + "/health")
            except OSError:
                status = 0
            if status == 200:
                break
            time.sleep(0.2)
        assert status == 200, (tmp_path / "server.log").read_text()[-2000:]

        body = json.dumps({"messages": [{"role": "user", "content": "show me the top vendors"}],
                           "max_tokens": 8, "temperature": 0}).encode()
        req = urllib.request.Request(base + "/v1/chat/completions", data=body,
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=30) as resp:
            assert resp.status == 200
            data = json.loads(resp.read())
        t = data["timings"]
        assert 1 <= t["predicted_n"] <= 8 and t["prompt_n"] > 0
        assert data["choices"][0]["finish_reason"] in ("length", "stop")
        # The output matrix only has rows for printable-ASCII tokens: random weights still
        # stream text, so the app's first-token mark works on a random model.
        text = data["choices"][0]["message"]["content"]
        assert text and text.isprintable() and text.isascii(), repr(text)
    finally:
        stop_child(proc)
        log.close()
