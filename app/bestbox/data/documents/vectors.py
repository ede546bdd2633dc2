"""Nearest passages by embedding, loaded once per index version.

Up to EXACT_MAX vectors: one float32 matrix in memory, exact inner product (what the labelled set
is measured with). Above that, a full product reads the whole matrix per query (1.1 GB at 700,000
passages: ~1 s on 2 busy cores) and loading it from SQLite blobs took 45 s. So a large index gets
an inverted-file layout kept beside the SQLite file (`<index>.vectors/`): k-means centroids
(spherical, k ≈ √N) and the vectors as int8 with one scale each (a quarter of float32; numpy
widens int8 four times faster than float16), sorted by centroid, memory-mapped. A query scores the
centroids, then only the vectors of the NPROBE nearest ones (~3 % of them); the best 2n of those
are scored again from the stored vectors, so the cosines returned are exact. The probing is an
approximation (a passage whose nearest centroid is not probed is missed; keyword search and
fusion still find it by its words); the files are only ever derived from the index, so deleting
them is safe.

The files are built (about 80 s at 700,000 passages on 2 cores) on a thread of their own, started
by the indexer after a run that changed more than REBUILD_MIN / REBUILD_SHARE of the passages (or
by a search that finds none): a search never waits for a build. Meanwhile it uses the files it
has, with the passages embedded since searched exactly beside them, or, when too many of the
files' passages were deleted (or there are none), every vector's int8 copy, best hits re-scored
exactly (the exact result up to int8 rounding at the 2n-th place).
"""
from __future__ import annotations

import json
import shutil
import sqlite3
import threading
from pathlib import Path
from typing import Callable

import numpy as np

from . import store
from .embed import DIM, from_blobs

EXACT_MAX = 65_536
NPROBE = 24
FORMAT = 2          # of the files beside the index: int8 vectors + scales
_BATCH = 32_768
REBUILD_MIN = 2000      # changed passages (added + deleted since the files were built) …
REBUILD_SHARE = 0.1     # … or this share of the files' passages, whichever is larger, start a rebuild


def _folder(db_file: str) -> Path:
    return Path(db_file + ".vectors")


def _meta(db_file: str) -> dict:
    try:
        return json.loads((_folder(db_file) / "meta.json").read_text()) if db_file else {}
    except (OSError, ValueError):
        return {}


def _key(con: sqlite3.Connection) -> tuple:
    db_file = con.execute("PRAGMA database_list").fetchone()[2]
    try:        # a finished build replaces the files: reload then too
        stamp = (_folder(db_file) / "meta.json").stat().st_mtime_ns if db_file else None
    except OSError:
        stamp = None
    return store.get_meta(con, "embeddings_version"), db_file, stamp


def _top(ids: np.ndarray, sims: np.ndarray, n: int) -> list[tuple[int, float]]:
    k = min(n, len(sims))
    if k <= 0:
        return []
    top = np.argpartition(-sims, k - 1)[:k]
    top = top[np.argsort(-sims[top])]
    return [(int(ids[i]), float(sims[i])) for i in top]


def _quantize(part: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """float rows → (int8 rows, the scale that turns each back: row ≈ int8 * unscale)."""
    part = part.astype(np.float32)
    peak = np.maximum(np.abs(part).max(axis=1), 1e-12)
    return np.rint(part * (127.0 / peak)[:, None]).astype(np.int8), (peak / 127.0).astype(np.float32)


def _read_all(con: sqlite3.Connection) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(ids, int8 matrix, unscale), read and quantized in batches: at 700,000 vectors that is 270 MB
    in memory where the float16 matrix alone would be 540 MB."""
    n = con.execute("SELECT COUNT(*) FROM embeddings").fetchone()[0]
    ids, q8, unscale, i = np.zeros(n, np.int64), np.zeros((n, DIM), np.int8), np.zeros(n, np.float32), 0
    cur = con.execute("SELECT chunk_id, vec FROM embeddings ORDER BY chunk_id")
    while rows := cur.fetchmany(_BATCH):
        rows = rows[:n - i]
        j = i + len(rows)
        ids[i:j] = [r[0] for r in rows]
        q8[i:j], unscale[i:j] = _quantize(np.frombuffer(b"".join(r[1] for r in rows), np.float16).reshape(-1, DIM))
        i = j
    return ids[:i], q8[:i], unscale[:i]


def _rows(q8: np.ndarray, unscale: np.ndarray, idx) -> np.ndarray:
    return q8[idx].astype(np.float32) * unscale[idx][:, None]


def _kmeans(q8: np.ndarray, unscale: np.ndarray, k: int, iters: int = 8, seed: int = 0) -> np.ndarray:
    """Spherical k-means on a sample (40 per centroid): unit-length centroids."""
    rng = np.random.default_rng(seed)
    sample = _rows(q8, unscale, np.sort(rng.choice(len(q8), min(len(q8), 40 * k), replace=False)))
    cent = sample[rng.choice(len(sample), k, replace=False)].copy()
    for _ in range(iters):
        near = np.argmax(sample @ cent.T, axis=1)
        sums = np.zeros_like(cent)
        np.add.at(sums, near, sample)
        empty = ~sums.any(axis=1)
        sums[empty] = sample[rng.choice(len(sample), int(empty.sum()), replace=False)]
        cent = sums / np.linalg.norm(sums, axis=1, keepdims=True)
    return cent


def _assign(q8: np.ndarray, unscale: np.ndarray, cent: np.ndarray) -> np.ndarray:
    out = np.empty(len(q8), dtype=np.int32)
    for i in range(0, len(q8), _BATCH):
        out[i:i + _BATCH] = np.argmax(_rows(q8, unscale, slice(i, i + _BATCH)) @ cent.T, axis=1)
    return out


class _Exact:
    def __init__(self, ids: np.ndarray, mat: np.ndarray):
        self.ids, self.mat = ids, mat.astype(np.float32)

    def search(self, q: np.ndarray, n: int) -> list[tuple[int, float]]:
        return _top(self.ids, self.mat @ q, n)


def _rescore(con: sqlite3.Connection | None, rough: list[tuple[int, float]], q: np.ndarray, n: int):
    """The int8 estimates' best 2n, scored again from the stored vectors: exact cosines, and a
    passage deleted since drops out."""
    if con is None or not rough:
        return rough[:n]
    marks = ",".join("?" * len(rough))
    rows = con.execute(f"SELECT chunk_id, vec FROM embeddings WHERE chunk_id IN ({marks})",
                       [c for c, _ in rough]).fetchall()
    return _top(np.array([r[0] for r in rows], dtype=np.int64), from_blobs([r[1] for r in rows]) @ q, n)


class _AllInt8:
    """Every vector, while the files are being built: the int8 copy (270 MB at 700,000 passages where
    float32 would be 1.1 GB) scored in batches, the best re-scored exactly."""

    def __init__(self, ids: np.ndarray, q8: np.ndarray, unscale: np.ndarray):
        self.ids, self.q8, self.unscale = ids, q8, unscale

    def search(self, q: np.ndarray, n: int, con: sqlite3.Connection | None = None) -> list[tuple[int, float]]:
        sims = np.concatenate([(self.q8[i:i + _BATCH].astype(np.float32) @ q) * self.unscale[i:i + _BATCH]
                               for i in range(0, len(self.q8), _BATCH)])
        return _rescore(con, _top(self.ids, sims, 2 * n), q, n)


class _Inverted:
    def __init__(self, folder: Path, extra: _Exact | None = None):
        self.extra = extra          # vectors embedded since the files were built, searched exactly
        self.cent = np.load(folder / "centroids.npy")
        self.offsets = np.load(folder / "offsets.npy")
        self.ids = np.load(folder / "ids.npy", mmap_mode="r")
        self.vecs = np.load(folder / "vecs.npy", mmap_mode="r")
        self.unscale = np.load(folder / "unscale.npy", mmap_mode="r")

    def search(self, q: np.ndarray, n: int, con: sqlite3.Connection | None = None) -> list[tuple[int, float]]:
        probe = np.argpartition(-(self.cent @ q), min(NPROBE, len(self.cent)) - 1)[:NPROBE]
        spans = [(self.offsets[c], self.offsets[c + 1]) for c in np.sort(probe)]
        ids = np.concatenate([self.ids[a:b] for a, b in spans])
        sims = np.concatenate([(self.vecs[a:b].astype(np.float32) @ q) * self.unscale[a:b] for a, b in spans])
        if self.extra is not None:
            ids, sims = np.concatenate([ids, self.extra.ids]), np.concatenate([sims, self.extra.mat @ q])
        return _rescore(con, _top(ids, sims, 2 * n), q, n)

    @staticmethod
    def build(folder: Path, ids: np.ndarray, q8: np.ndarray, unscale: np.ndarray, version, model,
              report: Callable[[int, str], None] = lambda step, what: None) -> None:
        k = min(len(q8), int(np.clip(np.sqrt(len(q8)), 64, 4096)))
        report(1, f"clustering {len(q8)} vectors")
        cent = _kmeans(q8, unscale, k)
        report(2, "assigning vectors to clusters")
        near = _assign(q8, unscale, cent)
        report(3, "writing the vector files")
        order = np.argsort(near, kind="stable")
        tmp = folder.with_name(folder.name + ".tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        np.save(tmp / "centroids.npy", cent)
        np.save(tmp / "offsets.npy", np.concatenate([[0], np.cumsum(np.bincount(near, minlength=k))]))
        np.save(tmp / "ids.npy", ids[order])
        np.save(tmp / "unscale.npy", unscale[order])
        with open(tmp / "vecs.npy", "wb") as f:     # written in sorted batches: no second whole copy
            np.lib.format.write_array_header_1_0(f, {"descr": "|i1", "fortran_order": False, "shape": q8.shape})
            for i in range(0, len(order), _BATCH):
                f.write(q8[order[i:i + _BATCH]].tobytes())
        (tmp / "meta.json").write_text(json.dumps({"version": version, "n": len(ids), "k": k, "format": FORMAT,
                                                    "max_id": int(ids.max()), "model": model}))
        shutil.rmtree(folder, ignore_errors=True)
        tmp.rename(folder)


class VectorIndex:
    """The vectors of one index file, for every Searcher of this process."""

    def __init__(self):
        self.key = None
        self.impl: _Exact | _AllInt8 | _Inverted | None = None
        self.lock = threading.Lock()

    def search(self, con: sqlite3.Connection, q: np.ndarray, n: int) -> list[tuple[int, float]]:
        with self.lock:
            key = _key(con)
            if key != self.key:
                self.impl, self.key = self._load(con, key), key
            impl = self.impl
        if isinstance(impl, (_Inverted, _AllInt8)):
            return impl.search(q, n, con)
        return impl.search(q, n) if impl is not None else []

    @staticmethod
    def _load(con: sqlite3.Connection, key: tuple) -> _Exact | _AllInt8 | _Inverted | None:
        version, db_file, _ = key
        n = con.execute("SELECT COUNT(*) FROM embeddings").fetchone()[0]
        if n == 0:
            return None
        if n > EXACT_MAX and db_file:
            meta = _meta(db_file)
            if _usable(con, meta):
                # Passages indexed since the files were built (new chunks get higher ids) are searched
                # exactly beside them; deleted ones drop out when the hits are re-scored from the index.
                rows = [] if meta["version"] == version else con.execute(
                    "SELECT chunk_id, vec FROM embeddings WHERE chunk_id > ?", (meta["max_id"],)).fetchall()
                extra = _Exact(np.array([r[0] for r in rows], dtype=np.int64), from_blobs([r[1] for r in rows]))
                try:
                    return _Inverted(_folder(db_file), extra if rows else None)
                except (OSError, ValueError):
                    pass                 # replaced by a build this moment: exact this once
            start_build(db_file)         # none yet (an index from before): build it, do not wait
            return _AllInt8(*_read_all(con))
        rows = con.execute("SELECT chunk_id, vec FROM embeddings ORDER BY chunk_id").fetchall()
        return _Exact(np.array([r[0] for r in rows], dtype=np.int64), from_blobs([r[1] for r in rows]))


def _usable(con: sqlite3.Connection, meta: dict) -> bool:
    """The files match this index's model and format and few of their passages were deleted."""
    if meta.get("format") != FORMAT or meta.get("model") != store.get_meta(con, "embed_model"):
        return False
    old = con.execute("SELECT COUNT(*) FROM embeddings WHERE chunk_id <= ?", (meta["max_id"],)).fetchone()[0]
    return meta["n"] - old <= _tolerance(meta)


def _tolerance(meta: dict) -> int:
    return max(REBUILD_MIN, int(meta.get("n", 0) * REBUILD_SHARE))


def needs_build(con: sqlite3.Connection) -> bool:
    """More than EXACT_MAX vectors and no files, or files that many passages changed since."""
    db_file = con.execute("PRAGMA database_list").fetchone()[2]
    if not db_file or con.execute("SELECT COUNT(*) FROM embeddings").fetchone()[0] <= EXACT_MAX:
        return False
    meta = _meta(db_file)
    if meta.get("format") != FORMAT or meta.get("model") != store.get_meta(con, "embed_model"):
        return True
    old, new = con.execute("SELECT SUM(chunk_id <= ?), SUM(chunk_id > ?) FROM embeddings",
                           (meta["max_id"], meta["max_id"])).fetchone()
    return (meta["n"] - (old or 0)) + (new or 0) > _tolerance(meta)


_BUILDS: dict[str, threading.Thread] = {}
_builds_lock = threading.Lock()


def start_build(db_file: str, on_step: Callable[[int, int, str], None] | None = None) -> threading.Thread | None:
    """Build the files of this index on a thread of its own; None when one is already running.
    on_step(done, total, what) reports its steps, last (total, total, "done")."""
    with _builds_lock:
        running = _BUILDS.get(db_file)
        if running is not None and running.is_alive():
            return None
        # a daemon: quitting the app never waits for it (files are written to a .tmp folder and
        # renamed, so a build cut short leaves none); `bestbox docs index` waits for it itself
        t = _BUILDS[db_file] = threading.Thread(target=_build, args=(db_file, on_step or (lambda *a: None)),
                                                name="docs-vector-files", daemon=True)
        t.start()
        return t


def ensure_built(con: sqlite3.Connection) -> bool:
    """Wait for this index's files (a running build, or one started now when they are due); for the
    bench, which times searches on them. True when it waited for a build."""
    db_file = con.execute("PRAGMA database_list").fetchone()[2]
    t = start_build(db_file) if needs_build(con) else None
    with _builds_lock:
        t = t or _BUILDS.get(db_file)
    if t is None or not t.is_alive():
        return False
    t.join()
    return True


def _build(db_file: str, on_step: Callable[[int, int, str], None]) -> None:
    total = 4
    try:
        con = store.connect(Path(db_file))
        try:
            on_step(0, total, "reading the vectors")
            version, model = store.get_meta(con, "embeddings_version"), store.get_meta(con, "embed_model")
            ids, q8, unscale = _read_all(con)
        finally:
            con.close()
        if len(ids):
            _Inverted.build(_folder(db_file), ids, q8, unscale, version, model,
                            lambda step, what: on_step(step, total, what))
        on_step(total, total, "done")
    except Exception as e:  # the exact path keeps answering; say why the files are missing
        on_step(total, total, f"failed: {type(e).__name__}: {e}")


_INDEXES: dict[str, VectorIndex] = {}
_lock = threading.Lock()


def for_file(con: sqlite3.Connection) -> VectorIndex:
    db_file = con.execute("PRAGMA database_list").fetchone()[2]
    with _lock:
        return _INDEXES.setdefault(db_file, VectorIndex())
