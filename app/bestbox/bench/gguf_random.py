"""Write a GGUF with Qwen2.5's architecture and exact tensor shapes, filled with random weights.

llama.cpp's speed does not depend on the weight values, so such a file times like the real model
wherever the real one cannot be had (no network, no licence click-through, a CI machine):

    python -m bestbox.bench.gguf_random --shape 14b --out qwen14b.gguf \
        --quantize Q4_K_M --llama-quantize build/bin/llama-quantize

- Shapes: `7b` (Qwen2.5-7B: hidden 3584, 28 layers, FFN 18944, 28 heads, 4 KV heads), `14b`
  (5120, 48, 13824, 40, 8), both with a 152064-row embedding and output matrix, rope base 1e6,
  RMS eps 1e-6, q/k/v biases, untied output; `tiny` (hidden 64, 2 layers) for CPU tests.
- Tensors are F16 (norms and biases F32, as llama.cpp's converter writes them) and are written
  streaming, a chunk at a time, from a pool of random normal values: memory stays ~100 MB even
  for the 30 GB F16 14B file.
- Tokenizer: a byte-level BPE ("gpt2" model, "qwen2" pre-tokenizer) that llama.cpp's loader
  accepts: the 256 byte tokens, merges whose results are in the vocab, Qwen2.5's special tokens
  (`<|endoftext|>` 151643, `<|im_start|>` 151644, `<|im_end|>` 151645, `<tool_call>` ...) and
  padding up to the embedding size. With `--vocab-from` (e.g. llama.cpp's
  `models/ggml-vocab-qwen2.gguf`) the real Qwen2 tokens and merges are used instead, so prompts
  tokenize to the same lengths as with the real model.
- Chat template: Qwen2.5-Instruct's own (ChatML with tool support), so `--jinja` renders tools
  the way the real model's GGUF does; `--chat-template chatml` gives a plain ChatML one.
- `--quantize TYPE` then runs `llama-quantize` (F16 → e.g. Q5_K_M / Q4_K_M) and deletes the F16
  file unless `--keep-f16`. `--quantize Q4_K_M --direct` (or Q5_K_M) writes the quantized file
  itself instead: random K-quant blocks in the tensor types llama-quantize picks (`gguf_kquant`),
  seconds instead of the minutes quantizing a 14B F16 file takes; the shape's row lengths must be
  multiples of 256 (all but `tiny`).

`qwen3-8b` gives a current family's shapes (the qwen3 architecture); the tokenizer side lives in
`gguf_vocab.py`.

Needs the `gguf` package (the `bench` extra; llama.cpp's `gguf-py` is the same package) and numpy.
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from . import gguf_kquant as KQ
from .gguf_vocab import CHATML_TEMPLATE, QWEN25_CHAT_TEMPLATE, Vocab, readable_rows, synthetic_vocab, vocab_from_gguf

@dataclass(frozen=True)
class Shape:
    name: str
    hidden: int
    layers: int
    ffn: int
    heads: int
    kv_heads: int
    vocab: int            # rows of token_embd / output (the model's padded vocabulary)
    context: int = 32768
    rope_base: float = 1_000_000.0
    rms_eps: float = 1e-6
    arch: str = "qwen2"   # qwen2 (Qwen2.5: q/k/v biases) or qwen3 (no biases, q/k norms, own head size)
    head_size: int = 0    # 0: hidden / heads

    @property
    def head_dim(self) -> int:
        return self.head_size or self.hidden // self.heads

    def n_params(self) -> int:
        n = 0
        for _, shp, _ in tensor_plan(self):
            k = 1
            for d in shp:
                k *= d
            n += k
        return n


SHAPES: dict[str, Shape] = {
    "7b": Shape("7b", hidden=3584, layers=28, ffn=18944, heads=28, kv_heads=4, vocab=152064),
    "14b": Shape("14b", hidden=5120, layers=48, ffn=13824, heads=40, kv_heads=8, vocab=152064),
    # Qwen3-8B (a current family, with thinking): hidden 4096, 36 layers, FFN 12288, 32 heads of
    # 128, 8 KV heads, no q/k/v biases, RMS norms on q and k, untied output, 151936-row vocab.
    "qwen3-8b": Shape("qwen3-8b", hidden=4096, layers=36, ffn=12288, heads=32, kv_heads=8, vocab=151936,
                      context=40960, arch="qwen3", head_size=128),
    # For CPU tests: a vocabulary just large enough for the byte tokens, merges and specials.
    "tiny": Shape("tiny", hidden=64, layers=2, ffn=128, heads=4, kv_heads=2, vocab=0, context=2048),
    # For CPU tests of the K-quant files: row lengths that are multiples of 256, 8 layers so the
    # *_M mixes' use_more_bits pattern shows.
    "small": Shape("small", hidden=256, layers=8, ffn=768, heads=4, kv_heads=2, vocab=0),
    "tiny-qwen3": Shape("tiny-qwen3", hidden=64, layers=2, ffn=128, heads=4, kv_heads=2, vocab=0, context=2048,
                        arch="qwen3", head_size=32),
}


# --- tensors --------------------------------------------------------------------------------

def tensor_plan(s: Shape) -> list[tuple[str, tuple[int, ...], str]]:
    """(name, numpy shape (rows, cols), kind) in llama.cpp's qwen2 naming; kind is
    'w' (F16 matrix), 'norm' (F32, ~1.0) or 'bias' (F32, small)."""
    h, f, kv, q = s.hidden, s.ffn, s.kv_heads * s.head_dim, s.heads * s.head_dim
    plan: list[tuple[str, tuple[int, ...], str]] = [("token_embd.weight", (s.vocab, h), "w")]
    for i in range(s.layers):
        p = f"blk.{i}."
        if s.arch == "qwen3":
            attn = [(p + "attn_q.weight", (q, h), "w"), (p + "attn_k.weight", (kv, h), "w"),
                    (p + "attn_v.weight", (kv, h), "w"),
                    (p + "attn_q_norm.weight", (s.head_dim,), "norm"), (p + "attn_k_norm.weight", (s.head_dim,), "norm")]
        else:
            attn = [(p + "attn_q.weight", (h, h), "w"), (p + "attn_q.bias", (h,), "bias"),
                    (p + "attn_k.weight", (kv, h), "w"), (p + "attn_k.bias", (kv,), "bias"),
                    (p + "attn_v.weight", (kv, h), "w"), (p + "attn_v.bias", (kv,), "bias")]
        plan += [
            (p + "attn_norm.weight", (h,), "norm"),
            *attn,
            (p + "attn_output.weight", (h, q), "w"),
            (p + "ffn_norm.weight", (h,), "norm"),
            (p + "ffn_gate.weight", (f, h), "w"),
            (p + "ffn_up.weight", (f, h), "w"),
            (p + "ffn_down.weight", (h, f), "w"),
        ]
    plan += [("output_norm.weight", (h,), "norm"), ("output.weight", (s.vocab, h), "w")]
    return plan


CHUNK = 1 << 24  # elements per write (32 MiB of F16)


class RandomPool:
    """Random normal values generated once and served as slices at random offsets: writing
    tens of GB costs disk time, not random-number time, and memory stays bounded."""

    def __init__(self, seed: int, std: float = 0.02, size: int = 2 * CHUNK):
        import numpy as np

        self.np = np
        self.rng = np.random.default_rng(seed)
        base = self.rng.standard_normal(max(size, 1 << 16), dtype=np.float32) * std
        self.f16 = base.astype(np.float16)
        self.f32 = base[: 1 << 20].copy()

    def f16_slice(self, n: int):
        start = int(self.rng.integers(0, len(self.f16) - n + 1))
        return self.f16[start:start + n]

    def f32_values(self, n: int, kind: str):
        out = []
        left = n
        while left:
            k = min(left, len(self.f32))
            start = int(self.rng.integers(0, len(self.f32) - k + 1))
            v = self.f32[start:start + k]
            out.append((v + 1.0) if kind == "norm" else v)
            left -= k
        return self.np.concatenate(out).astype(self.np.float32)


def _write_readable_output(fout, pool, shp: tuple[int, int], readable) -> None:
    """The output matrix with rows only for readable tokens (8x the usual scale) and zeros
    elsewhere: the random model then samples printable ASCII, so a streamed answer carries text
    (with the full random matrix, byte tokens make invalid UTF-8 and the stream's content can stay
    empty), while the shapes, the quantization and so the speed stay the real model's."""
    import numpy as np

    rows, cols = shp
    block = max(1, CHUNK // cols)
    for r0 in range(0, rows, block):
        r1 = min(rows, r0 + block)
        arr = np.zeros((r1 - r0, cols), dtype=np.float16)
        m = readable[r0:r1]
        k = int(m.sum())
        if k:
            arr[m] = (pool.f16_slice(k * cols).astype(np.float32) * 8).astype(np.float16).reshape(k, cols)
        fout.write(memoryview(arr).cast("B"))


def write_gguf(shape: Shape, out: Path, *, vocab: Vocab, chat_template: str, seed: int = 0,
               log=print, readable_output: bool = True, qtype: str | None = None) -> Path:
    """An F16 file, or with `qtype` (Q4_K_M / Q5_K_M) the quantized file itself, its K-quant
    blocks random (`gguf_kquant`): the types llama-quantize would write, with no F16 step."""
    import gguf
    import numpy as np

    if shape.vocab == 0:  # tiny: the vocabulary decides the embedding size
        shape = Shape(**{**shape.__dict__, "vocab": len(vocab.tokens)})
    if len(vocab.tokens) != shape.vocab:
        raise ValueError(f"vocab has {len(vocab.tokens)} tokens, the shape wants {shape.vocab}")

    out.parent.mkdir(parents=True, exist_ok=True)
    w = gguf.GGUFWriter(str(out), shape.arch)
    w.add_name(f"BestBox random-weight Qwen2.5-{shape.name.upper()}-shaped model (for speed tests only)")
    w.add_description("Random weights with Qwen2.5's architecture and shapes; its output is noise.")
    w.add_context_length(shape.context)
    w.add_embedding_length(shape.hidden)
    w.add_block_count(shape.layers)
    w.add_feed_forward_length(shape.ffn)
    w.add_head_count(shape.heads)
    w.add_head_count_kv(shape.kv_heads)
    if shape.head_size:
        w.add_key_length(shape.head_size)
        w.add_value_length(shape.head_size)
    w.add_rope_freq_base(shape.rope_base)
    w.add_layer_norm_rms_eps(shape.rms_eps)
    if qtype:
        w.add_file_type(KQ.FTYPES[qtype][0])
        w.add_quantization_version(gguf.GGML_QUANT_VERSION)
    else:
        w.add_file_type(1)  # LLAMA_FTYPE_MOSTLY_F16
    w.add_tokenizer_model("gpt2")
    w.add_tokenizer_pre("qwen2")
    w.add_token_list(vocab.tokens)
    w.add_token_types(vocab.types)
    w.add_token_merges(vocab.merges)
    w.add_eos_token_id(vocab.im_end)      # Qwen2.5-Instruct ends a turn with <|im_end|>
    w.add_pad_token_id(vocab.eot)
    w.add_bos_token_id(vocab.eot)
    w.add_add_bos_token(False)
    w.add_chat_template(chat_template)

    readable = readable_rows(vocab.tokens, vocab.types) if readable_output else None
    plan = tensor_plan(shape)
    types = {name: (KQ.tensor_type(name, kind, shp[-1], qtype, shape.layers) if qtype else
                    "F16" if kind == "w" else "F32") for name, shp, kind in plan}
    sizes: dict[str, int] = {}
    for name, shp, kind in plan:
        t = types[name]
        if t in KQ.BLOCK_BYTES:
            sizes[name] = KQ.nbytes(t, shp[0], shp[1])
            w.add_tensor_info(name, (shp[0], sizes[name] // shp[0]), np.dtype(np.uint8), sizes[name],
                              raw_dtype=gguf.GGMLQuantizationType[t])
        else:
            dt = np.dtype(np.float16 if t == "F16" else np.float32)
            sizes[name] = int(np.prod(shp)) * dt.itemsize
            w.add_tensor_info(name, shp, dt, sizes[name])

    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_ti_data_to_file()
    fout = w.fout[0]
    biggest = max(int(np.prod(s)) for _, s, _ in plan)
    pool = RandomPool(seed, size=min(2 * CHUNK, 2 * biggest))
    rng = np.random.default_rng(seed + 1)
    blocks = {t: KQ.RandomBlocks(t, rng) for t in set(types.values()) if t in KQ.BLOCK_BYTES}
    # the readable output rows at 8x the usual scale, as in _write_readable_output
    out_blocks = (KQ.RandomBlocks(types["output.weight"], rng, scale=8.0 if readable is not None else 1.0)
                  if qtype else None)
    total = sum(sizes.values())
    t0 = time.monotonic()
    done, last = 0, t0
    for name, shp, kind in plan:
        n = int(np.prod(shp))
        t = types[name]
        w.write_padding(fout, fout.tell())      # align the tensor's start, as write_tensor_data does
        if t in blocks:
            if name == "output.weight" and readable is not None:
                out_blocks.write_rows(fout, shp[0], shp[1], readable)
            elif name == "output.weight":
                out_blocks.write(fout, sizes[name] // KQ.BLOCK_BYTES[t])
            else:
                blocks[t].write(fout, sizes[name] // KQ.BLOCK_BYTES[t])
            nbytes = sizes[name]
        elif name == "output.weight" and readable is not None:
            _write_readable_output(fout, pool, shp, readable)
            nbytes = 2 * n
        elif kind == "w":
            left = n
            while left:
                k = min(left, CHUNK, len(pool.f16))
                fout.write(memoryview(pool.f16_slice(k)))
                left -= k
            nbytes = 2 * n
        else:
            fout.write(pool.f32_values(n, kind).tobytes())
            nbytes = 4 * n
        w.write_padding(fout, nbytes)
        done += nbytes
        now = time.monotonic()
        if now - last > 5:
            last = now
            log(f"  {out.name}: {done / 2**30:6.1f} / {total / 2**30:.1f} GiB ({done / 2**30 / max(now - t0, 1e-9):.2f} GiB/s)")
    w.close()
    log(f"wrote {out} ({out.stat().st_size / 2**30:.2f} GiB, {shape.n_params() / 1e9:.2f} B params, "
        f"{len(vocab.tokens)} tokens) in {time.monotonic() - t0:.1f} s")
    return out


def quantize(src: Path, dst: Path, qtype: str, llama_quantize: str, threads: int | None = None,
             log=print) -> float:
    cmd = [llama_quantize, str(src), str(dst), qtype]
    if threads:
        cmd.append(str(threads))
    log("$ " + " ".join(cmd))
    t0 = time.monotonic()
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    dt = time.monotonic() - t0
    if proc.returncode != 0:
        log(proc.stdout[-4000:])
        raise SystemExit(f"llama-quantize failed ({proc.returncode})")
    tail = [ln for ln in proc.stdout.splitlines() if "size" in ln or "quant" in ln.lower()][-3:]
    for ln in tail:
        log("  " + ln.strip())
    log(f"quantized to {qtype}: {dst} ({dst.stat().st_size / 2**30:.2f} GiB) in {dt:.1f} s")
    return dt


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bestbox.bench.gguf_random", description=__doc__.split("\n\n")[0])
    ap.add_argument("--shape", choices=sorted(SHAPES), required=True)
    ap.add_argument("--out", required=True, help="the GGUF to write (the quantized one with --quantize)")
    ap.add_argument("--quantize", metavar="TYPE", help="e.g. Q5_K_M, Q4_K_M (runs llama-quantize)")
    ap.add_argument("--direct", action="store_true",
                    help="with --quantize Q4_K_M/Q5_K_M: write the quantized file itself (random K-quant blocks, "
                         "no F16 file, no llama-quantize; seconds instead of minutes)")
    ap.add_argument("--llama-quantize", metavar="PATH", default=shutil.which("llama-quantize") or "llama-quantize")
    ap.add_argument("--threads", type=int, default=None, help="llama-quantize threads (default: its own)")
    ap.add_argument("--f16-out", metavar="PATH", help="where the F16 file goes with --quantize (default: next to --out)")
    ap.add_argument("--keep-f16", action="store_true")
    ap.add_argument("--vocab-from", metavar="GGUF",
                    help="take the real Qwen2 tokens and merges from a vocab GGUF (llama.cpp's models/ggml-vocab-qwen2.gguf)")
    ap.add_argument("--chat-template", default="qwen2.5",
                    help="qwen2.5, chatml, or a .jinja file (e.g. llama.cpp's models/templates/Qwen-Qwen3-0.6B.jinja)")
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args(argv)

    shape = SHAPES[a.shape]
    out = Path(a.out)
    if a.vocab_from:
        if shape.vocab == 0:
            raise SystemExit("--vocab-from needs a full-size shape (7b, 14b, qwen3-8b)")
        vocab = vocab_from_gguf(Path(a.vocab_from), shape.vocab)
    else:
        vocab = synthetic_vocab(shape.vocab or None)
    template = {"qwen2.5": QWEN25_CHAT_TEMPLATE, "chatml": CHATML_TEMPLATE}.get(a.chat_template)
    if template is None:
        template = Path(a.chat_template).read_text(encoding="utf-8")

    def log(msg: str) -> None:
        print(msg, flush=True)

    if a.direct and a.quantize not in KQ.FTYPES:
        raise SystemExit(f"--direct writes {', '.join(KQ.FTYPES)} (got --quantize {a.quantize})")
    if not a.quantize or a.direct:
        write_gguf(shape, out, vocab=vocab, chat_template=template, seed=a.seed, log=log,
                   qtype=a.quantize if a.direct else None)
        return 0
    f16 = Path(a.f16_out) if a.f16_out else out.with_name(out.stem + ".f16.gguf")
    write_gguf(shape, f16, vocab=vocab, chat_template=template, seed=a.seed, log=log)
    try:
        quantize(f16, out, a.quantize, a.llama_quantize, a.threads, log=log)
    finally:
        if not a.keep_f16:
            try:
                os.unlink(f16)
            except OSError:
                pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
