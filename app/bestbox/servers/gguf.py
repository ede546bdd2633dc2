"""Just enough of the GGUF format to read a model's shape from its header (for memory estimates)."""
from __future__ import annotations

import struct
from pathlib import Path

_SCALARS = {0: "<B", 1: "<b", 2: "<H", 3: "<h", 4: "<I", 5: "<i", 6: "<f", 7: "<?", 10: "<Q", 11: "<q", 12: "<d"}
_STRING, _ARRAY = 8, 9


class _Reader:
    def __init__(self, f):
        self.f = f

    def read(self, fmt: str):
        n = struct.calcsize(fmt)
        data = self.f.read(n)
        if len(data) != n:
            raise ValueError("truncated GGUF header")
        return struct.unpack(fmt, data)[0]

    def string(self) -> str:
        n = self.read("<Q")
        if n > 1 << 24:
            raise ValueError("implausible string length")
        return self.f.read(n).decode("utf-8", "replace")

    def value(self, vtype: int, keep: bool):
        if vtype in _SCALARS:
            return self.read(_SCALARS[vtype])
        if vtype == _STRING:
            return self.string()
        if vtype == _ARRAY:
            itype, n = self.read("<I"), self.read("<Q")
            if itype in _SCALARS and not keep:
                self.f.seek(struct.calcsize(_SCALARS[itype]) * n, 1)
                return None
            items = [self.value(itype, keep) for _ in range(n)]
            return items if keep else None
        raise ValueError(f"unknown GGUF value type {vtype}")


def read_metadata(path: Path) -> dict:
    """Scalar metadata of a GGUF file (arrays skipped). Stops early once the model-shape keys are
    known. Raises ValueError/OSError for a file that is not GGUF."""
    out: dict = {}
    with open(path, "rb") as f:
        r = _Reader(f)
        if f.read(4) != b"GGUF":
            raise ValueError("not a GGUF file")
        version = r.read("<I")
        if version < 2:
            raise ValueError(f"GGUF version {version} is too old")
        r.read("<Q")  # tensor count
        n_kv = r.read("<Q")
        for _ in range(n_kv):
            key = r.string()
            arch = out.get("general.architecture")
            if arch and key.startswith("tokenizer.") and f"{arch}.block_count" in out:
                break  # the shape comes before the (large) tokenizer arrays
            vtype = r.read("<I")
            val = r.value(vtype, keep=False)
            if val is not None:
                out[key] = val
    return out


def read_keys(path: Path, wanted: set[str]) -> dict:
    """The named metadata keys (scalars or strings) wherever they are in the header, e.g.
    `tokenizer.chat_template`, which comes after the (large) tokenizer arrays. Arrays are skipped,
    not kept. Raises ValueError/OSError for a file that is not GGUF."""
    out: dict = {}
    with open(path, "rb") as f:
        r = _Reader(f)
        if f.read(4) != b"GGUF":
            raise ValueError("not a GGUF file")
        if r.read("<I") < 2:
            raise ValueError("GGUF version too old")
        r.read("<Q")
        for _ in range(r.read("<Q")):
            key = r.string()
            vtype = r.read("<I")
            if vtype == _ARRAY:
                _skip_array(r)
                continue
            val = r.value(vtype, keep=False)
            if key in wanted:
                out[key] = val
                if len(out) == len(wanted):
                    break
    return out


def _skip_array(r: _Reader) -> None:
    itype, n = r.read("<I"), r.read("<Q")
    if itype in _SCALARS:
        r.f.seek(struct.calcsize(_SCALARS[itype]) * n, 1)
    elif itype == _STRING:
        for _ in range(n):
            r.f.seek(r.read("<Q"), 1)
    else:
        for _ in range(n):
            r.value(itype, keep=False)


def kv_cache_bytes(meta: dict, n_ctx: int, bytes_per_value: float = 2.0) -> int | None:
    """f16 K+V cache size for n_ctx tokens, or None when the header lacks the shape."""
    arch = meta.get("general.architecture")
    if not arch:
        return None
    try:
        n_layer = int(meta[f"{arch}.block_count"])
        n_embd = int(meta[f"{arch}.embedding_length"])
        n_head = int(meta[f"{arch}.attention.head_count"])
        n_head_kv = int(meta.get(f"{arch}.attention.head_count_kv", n_head))
    except (KeyError, TypeError, ValueError):
        return None
    head_k = int(meta.get(f"{arch}.attention.key_length", n_embd // max(1, n_head)))
    head_v = int(meta.get(f"{arch}.attention.value_length", head_k))
    return int(n_layer * n_ctx * n_head_kv * (head_k + head_v) * bytes_per_value)


_SPLIT = __import__("re").compile(r"^(?P<stem>.+)-(?P<i>\d{5})-of-(?P<n>\d{5})\.gguf$")


def model_bytes(path: Path) -> int:
    """Size of a model on disk, counting every part of a split GGUF (name-00001-of-00003.gguf):
    llama.cpp loads the parts beside the first one, and all of them take memory."""
    m = _SPLIT.match(path.name)
    if not m:
        return path.stat().st_size
    total = 0
    for i in range(1, int(m["n"]) + 1):
        part = path.with_name(f"{m['stem']}-{i:05d}-of-{m['n']}.gguf")
        if part.is_file():
            total += part.stat().st_size
    return total
