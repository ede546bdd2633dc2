"""Random K-quant blocks for `gguf_random`: a Q4_K_M / Q5_K_M file written directly, in seconds,
instead of an F16 file that `llama-quantize` then takes minutes over.

llama.cpp's speed depends on each tensor's type and shape, never on the values, so random quant
bytes time like a real model's once the types are the ones `llama-quantize` would pick. The
per-tensor choice below follows llama.cpp's `llama_tensor_get_type_impl` (src/llama-quant.cpp) for
a dense model without experts: the file type's base type (Q4_K or Q5_K) everywhere, Q6_K for
`output.weight`, and Q6_K for `attn_v` and `ffn_down` in the layers `use_more_bits` names. The
block scales are small finite f16 values chosen so a weight's spread is about that of the F16
path's N(0, 0.02): no NaN or Inf reaches the activations.
"""
from __future__ import annotations

QK_K = 256  # weights per K-quant block
# Bytes per block and where the f16 scales sit (ggml-common.h: block_q4_K, block_q5_K, block_q6_K).
BLOCK_BYTES = {"Q4_K": 144, "Q5_K": 176, "Q6_K": 210}
_F16_FIELDS = {"Q4_K": (0, 2), "Q5_K": (0, 2), "Q6_K": (208,)}
# (d, dmin) per type: d * scale * q has a spread of ~0.02 with random 6-bit scales and quants
# (Q6_K: signed 8-bit scales, q - 32), and dmin * min centres Q4_K / Q5_K near zero.
_SCALES = {"Q4_K": (8e-5, 6e-4), "Q5_K": (4e-5, 6e-4), "Q6_K": (1.5e-5,)}
# File types (llama.h's LLAMA_FTYPE_MOSTLY_*) and their base tensor type.
FTYPES = {"Q4_K_M": (15, "Q4_K"), "Q5_K_M": (17, "Q5_K")}


def use_more_bits(i_layer: int, n_layers: int) -> bool:
    """llama-quantize's layers that get more bits in the *_M mixes (first and last eighth, every third between)."""
    return i_layer < n_layers // 8 or i_layer >= 7 * n_layers // 8 or (i_layer - n_layers // 8) % 3 == 2


def tensor_type(name: str, kind: str, cols: int, ftype: str, n_layers: int) -> str:
    """The ggml type llama-quantize gives this tensor in an `ftype` (Q4_K_M / Q5_K_M) file."""
    if kind != "w":
        return "F32"  # norms and biases stay F32
    if cols % QK_K:
        raise ValueError(f"{name}: rows of {cols} are not a multiple of {QK_K}; a K-quant file of this shape "
                         "needs llama-quantize's fallback types (use --quantize)")
    base = FTYPES[ftype][1]
    if name == "output.weight":
        return "Q6_K"
    if name.startswith("blk.") and (".attn_v." in name or ".ffn_down." in name):
        return "Q6_K" if use_more_bits(int(name.split(".")[1]), n_layers) else base
    return base


def nbytes(qtype: str, rows: int, cols: int) -> int:
    return rows * (cols // QK_K) * BLOCK_BYTES[qtype]


class RandomBlocks:
    """A pool of valid random blocks of one type, served as block-aligned slices at random offsets."""

    def __init__(self, qtype: str, rng, n_blocks: int = 1 << 16, scale: float = 1.0):
        import numpy as np

        bs = BLOCK_BYTES[qtype]
        self.np, self.rng, self.bs, self.n = np, rng, bs, n_blocks
        blocks = rng.integers(0, 256, size=(n_blocks, bs), dtype=np.uint8)
        for off, value in zip(_F16_FIELDS[qtype], _SCALES[qtype]):
            f = (value * scale * rng.uniform(0.5, 1.5, n_blocks)).astype(np.float16)
            blocks[:, off:off + 2] = f.view(np.uint8).reshape(n_blocks, 2)
        self.blocks = blocks
        self.flat = memoryview(blocks.reshape(-1))

    def take(self, k: int):
        """k blocks (k <= the pool's size) as bytes."""
        start = int(self.rng.integers(0, self.n - k + 1))
        return self.flat[start * self.bs:(start + k) * self.bs]

    def write(self, fout, n_blocks: int) -> None:
        left = n_blocks
        while left:
            k = min(left, self.n)
            fout.write(self.take(k))
            left -= k

    def write_rows(self, fout, rows: int, cols: int, keep) -> None:
        """A matrix whose rows where `keep` is false are all zero (d = 0: exact zeros), the others random."""
        np = self.np
        per_row = cols // QK_K
        chunk = max(1, self.n // per_row)
        for r0 in range(0, rows, chunk):
            r1 = min(rows, r0 + chunk)
            arr = np.zeros((r1 - r0, per_row * self.bs), dtype=np.uint8)
            m = keep[r0:r1]
            k = int(m.sum())
            if k:
                arr[m] = np.frombuffer(self.take(k * per_row), dtype=np.uint8).reshape(k, per_row * self.bs)
            fout.write(memoryview(arr).cast("B"))
