"""Keep the index in step with the configured folders, without rescanning contents.

A sync is: scan (stat only) → queue what is new or changed (size/mtime) → drain the queue (hash;
same hash at a vanished path = a rename, no re-reading or re-embedding; else read + chunk) →
delete what vanished → embed chunks that have no embedding yet → when that changed enough
passages of a large index, rebuild its vector files on a thread of their own (stage "vectors",
reported through on_progress, done == total when finished; searches meanwhile do not wait, see vectors.py). The queue and the "chunks without
embeddings" live in the store, so an interrupted sync resumes where it stopped. Pause and cancel
are checked between files; progress goes to a callback (the CLI's line, the window's widget).
"""
from __future__ import annotations

import hashlib
import os
import sqlite3
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable

from . import store, vectors
from .chunk import chunk_blocks
from .extract import ISOLATED, Unreadable, extract, supported

COMMIT_EVERY_S = 0.1     # short write transactions: searches never wait long for the lock
EMBED_BATCH = 16


@dataclass
class Progress:
    stage: str = "idle"            # scan | read | embed | done | cancelled
    done: int = 0
    total: int = 0
    current: str = ""
    rate: float = 0.0              # items per second (files while reading, chunks while embedding)
    eta_s: float | None = None
    mb_done: float = 0.0
    paused: bool = False

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass
class SyncReport:
    added: int = 0
    changed: int = 0
    renamed: int = 0
    unchanged: int = 0
    deleted: int = 0
    failed: int = 0
    embedded: int = 0
    files: int = 0
    mb: float = 0.0
    seconds: float = 0.0
    cancelled: bool = False
    vector_files: bool = False     # a rebuild of the vector files was started (it runs on after sync)
    failures: list[dict] = field(default_factory=list)

    def as_dict(self) -> dict:
        return asdict(self)


def _hash(path: str) -> str:
    h = hashlib.blake2b(digest_size=20)
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


class Indexer:
    def __init__(self, folders: list[str], *, db: Path | None = None, max_mb: float = 50.0, timeout_s: float = 30.0,
                 embed: bool = True, on_progress: Callable[[Progress], None] | None = None):
        self.folders = [str(Path(f).expanduser().resolve()) for f in folders]
        self.db = db
        self.max_bytes = int(max_mb * 1024 * 1024)
        self.timeout_s = timeout_s
        self.embed = embed
        self.on_progress = on_progress or (lambda p: None)
        self.cancel_event = threading.Event()
        self.resume_event = threading.Event()
        self.resume_event.set()
        self._pool: ProcessPoolExecutor | None = None
        self._pool_worked = False
        self._pool_broken = False
        self.progress = Progress()
        self.vector_build: threading.Thread | None = None

    # control (any thread) ----------------------------------------------------------------------------
    def pause(self) -> None:
        self.resume_event.clear()

    def resume(self) -> None:
        self.resume_event.set()

    def cancel(self) -> None:
        self.cancel_event.set()
        self.resume_event.set()

    def _checkpoint(self) -> bool:
        """Between items: wait while paused; True when cancelled."""
        if not self.resume_event.is_set():
            self.progress.paused = True
            self.on_progress(self.progress)
            self.resume_event.wait()
            self.progress.paused = False
        return self.cancel_event.is_set()

    # the sync ------------------------------------------------------------------------------------------
    def sync(self, *, rebuild: bool = False, settle_s: float = 0.0) -> SyncReport:
        t0 = time.perf_counter()
        rep = SyncReport()
        con = store.connect(self.db)
        try:
            if rebuild:
                with con:
                    con.execute("DELETE FROM documents")
                    con.execute("DELETE FROM queue")
                    con.execute("INSERT INTO chunks_fts(chunks_fts) VALUES ('rebuild')")
            missing = self._scan(con, settle_s)
            self._drain(con, rep)
            if not rep.cancelled:
                gone = [p for p in missing if not os.path.exists(p)]
                with con:
                    rep.deleted = store.delete_documents(con, gone)
                if self.embed:
                    rep.embedded = self._embed_pending(con, rep)
                if self.embed and not rep.cancelled and (rep.embedded or rep.deleted) and vectors.needs_build(con):
                    db_file = con.execute("PRAGMA database_list").fetchone()[2]
                    self.vector_build = vectors.start_build(db_file, self._vector_step)
                    rep.vector_files = self.vector_build is not None
            rep.failures = [{"path": r["path"], "reason": r["reason"]} for r in con.execute(
                "SELECT path, reason FROM documents WHERE status = 'failed' ORDER BY path")]
        finally:
            con.close()
            self._close_pool()
        rep.seconds = round(time.perf_counter() - t0, 3)
        self.progress.stage = "cancelled" if rep.cancelled else "done"
        self.on_progress(self.progress)
        return rep

    def _vector_step(self, done: int, total: int, what: str) -> None:
        """Progress of the vector files' build (its own thread; usually after this sync's "done").
        done == total is its last report; `current` then says "done" or why it failed."""
        self.on_progress(Progress(stage="vectors", done=done, total=total, current=what))

    def _scan(self, con: sqlite3.Connection, settle_s: float) -> list[str]:
        """Queue new and changed files; return the known paths not seen (deleted or renamed)."""
        self.progress = Progress(stage="scan")
        self.on_progress(self.progress)
        with con:
            placeholders = ",".join("?" * len(self.folders)) or "''"
            con.execute(f"DELETE FROM documents WHERE folder NOT IN ({placeholders})", self.folders)
            con.execute(f"DELETE FROM queue WHERE folder NOT IN ({placeholders})", self.folders)
        missing: list[str] = []
        now = time.time()
        for folder in self.folders:
            known = store.known_documents(con, folder)
            seen: set[str] = set()
            todo = []
            for path, st in _walk(folder):
                if settle_s and now - st.st_mtime < settle_s:
                    seen.add(path)       # still being written: next round (size-stable debounce)
                    continue
                seen.add(path)
                k = known.get(path)
                if k is None or k["size"] != st.st_size or k["mtime"] != st.st_mtime:
                    todo.append((path, folder, st.st_size, st.st_mtime, "new" if k is None else "changed"))
            with con:
                store.enqueue(con, todo)
            missing += [p for p in known if p not in seen]
        return missing

    def _drain(self, con: sqlite3.Connection, rep: SyncReport) -> None:
        total = con.execute("SELECT COUNT(*) FROM queue").fetchone()[0]
        p = self.progress = Progress(stage="read", total=total)
        t0 = time.perf_counter()
        last_commit = time.perf_counter()
        con.execute("BEGIN")
        try:
            while True:
                rows = con.execute("SELECT path, folder, size, mtime, why FROM queue ORDER BY rowid LIMIT 64").fetchall()
                if not rows:
                    break
                for row in rows:
                    if self._checkpoint_commit(con):
                        rep.cancelled = True
                        return
                    p.current = row["path"]
                    self._one(con, row, rep)
                    con.execute("DELETE FROM queue WHERE path = ?", (row["path"],))
                    p.done += 1
                    p.mb_done += (row["size"] or 0) / 1e6
                    el = time.perf_counter() - t0
                    p.rate = p.done / el if el > 0 else 0.0
                    p.eta_s = (p.total - p.done) / p.rate if p.rate > 0 else None
                    if time.perf_counter() - last_commit > COMMIT_EVERY_S:
                        con.execute("COMMIT")
                        con.execute("BEGIN")
                        last_commit = time.perf_counter()
                        self.on_progress(p)
        finally:
            con.execute("COMMIT")
            rep.files = p.done
            rep.mb = round(p.mb_done, 3)

    def _checkpoint_commit(self, con: sqlite3.Connection) -> bool:
        if self.resume_event.is_set() and not self.cancel_event.is_set():
            return False
        con.execute("COMMIT")      # never hold the write lock while paused
        cancelled = self._checkpoint()
        con.execute("BEGIN")
        return cancelled

    def _one(self, con: sqlite3.Connection, row: sqlite3.Row, rep: SyncReport) -> None:
        path, folder, why = row["path"], row["folder"], row["why"]
        try:
            st = os.stat(path)
        except OSError:
            return  # vanished since the scan; the deletion pass removes it
        if st.st_size > self.max_bytes:
            self._failed(con, path, folder, st, None, f"too large ({st.st_size / 1e6:.0f} MB; the limit is "
                         f"{self.max_bytes / 1e6:.0f} MB, [data] documents_max_mb)", rep)
            return
        try:
            digest = _hash(path)
        except OSError as e:
            self._failed(con, path, folder, st, None, f"cannot open: {e.strerror or e}", rep)
            return
        same = con.execute("SELECT id, path FROM documents WHERE hash = ? AND status = 'ok'", (digest,)).fetchall()
        if any(r["path"] == path for r in same):       # touched, not changed
            con.execute("UPDATE documents SET size = ?, mtime = ? WHERE path = ?", (st.st_size, st.st_mtime, path))
            rep.unchanged += 1
            return
        moved = next((r for r in same if not os.path.exists(r["path"])), None)
        if moved is not None:                          # renamed or moved: keep chunks and embeddings
            con.execute("DELETE FROM documents WHERE path = ?", (path,))
            con.execute("UPDATE documents SET path = ?, folder = ?, size = ?, mtime = ? WHERE id = ?",
                        (path, folder, st.st_size, st.st_mtime, moved["id"]))
            rep.renamed += 1
            return
        try:
            blocks = self._extract(path)
        except Unreadable as e:
            self._failed(con, path, folder, st, digest, str(e), rep)
            return
        chunks = chunk_blocks(blocks)
        doc_id = store.upsert_document(con, path, folder, st.st_size, st.st_mtime, digest, "ok", None, len(chunks))
        store.replace_chunks(con, doc_id, chunks)
        if why == "new":
            rep.added += 1
        else:
            rep.changed += 1

    def _failed(self, con, path, folder, st, digest, reason, rep) -> None:
        doc_id = store.upsert_document(con, path, folder, st.st_size, st.st_mtime, digest, "failed", reason, 0)
        con.execute("DELETE FROM chunks WHERE doc_id = ?", (doc_id,))
        rep.failed += 1

    # reading with a time limit ---------------------------------------------------------------------------
    def _extract(self, path: str):
        if Path(path).suffix.lower() not in ISOLATED:
            return extract(path)
        if self._pool_broken:
            return _extract_in_thread(path, self.timeout_s)
        if self._pool is None:
            import multiprocessing

            # spawn, not fork: the caller may be a Qt app with threads
            self._pool = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"))
        fut = self._pool.submit(extract, path)
        try:
            out = fut.result(timeout=self.timeout_s)
            self._pool_worked = True
            return out
        except FutureTimeout:
            self._close_pool(kill=True)
            raise Unreadable(f"reading took longer than {self.timeout_s:g} s ([data] documents_timeout_s)") from None
        except Unreadable:
            self._pool_worked = True
            raise
        except Exception as e:  # the child died (memory, a crash in a reader)
            self._close_pool(kill=True)
            if not self._pool_worked:
                # The child could not even start (e.g. a host whose __main__ cannot be re-imported):
                # read in a thread instead, with the same time limit.
                self._pool_broken = True
                return _extract_in_thread(path, self.timeout_s)
            raise Unreadable(f"the reader failed: {type(e).__name__}: {e}") from None

    def _close_pool(self, kill: bool = False) -> None:
        pool, self._pool = self._pool, None
        if pool is None:
            return
        if kill:
            for proc in list((getattr(pool, "_processes", None) or {}).values()):
                proc.kill()
        pool.shutdown(wait=not kill, cancel_futures=True)

    # embeddings ---------------------------------------------------------------------------------------------
    def _embed_pending(self, con: sqlite3.Connection, rep: SyncReport) -> int:
        from .embed import get_embedder, to_blob

        emb = get_embedder()
        if emb is None:
            return 0
        if store.get_meta(con, "embed_model") != emb.name:
            with con:
                con.execute("DELETE FROM embeddings")
                store.set_meta(con, "embed_model", emb.name)
        sql_todo = "FROM chunks c LEFT JOIN embeddings e ON e.chunk_id = c.id WHERE e.chunk_id IS NULL"
        total = con.execute(f"SELECT COUNT(*) {sql_todo}").fetchone()[0]
        p = self.progress = Progress(stage="embed", total=total)
        t0 = time.perf_counter()
        while True:
            if self._checkpoint():
                rep.cancelled = True
                break
            rows = con.execute(f"SELECT c.id, c.text {sql_todo} LIMIT {EMBED_BATCH}").fetchall()
            if not rows:
                break
            vecs = emb.passages([r["text"] for r in rows])
            with con:
                con.executemany("INSERT OR REPLACE INTO embeddings(chunk_id, vec) VALUES (?, ?)",
                                [(r["id"], to_blob(v)) for r, v in zip(rows, vecs)])
            p.done += len(rows)
            el = time.perf_counter() - t0
            p.rate = p.done / el if el > 0 else 0.0
            p.eta_s = (p.total - p.done) / p.rate if p.rate > 0 else None
            self.on_progress(p)
        return p.done


def _extract_in_thread(path: str, timeout_s: float):
    """The fallback time limit: a reader that overruns is abandoned (its thread ends on its own)."""
    box: dict = {}

    def work():
        try:
            box["out"] = extract(path)
        except Unreadable as e:
            box["err"] = e

    t = threading.Thread(target=work, daemon=True, name="docs-extract")
    t.start()
    t.join(timeout_s)
    if t.is_alive():
        raise Unreadable(f"reading took longer than {timeout_s:g} s ([data] documents_timeout_s)")
    if "err" in box:
        raise box["err"]
    return box["out"]


def _walk(folder: str):
    """(path, stat) of every supported file under folder; unreadable subfolders are skipped."""
    stack = [folder]
    while stack:
        d = stack.pop()
        try:
            with os.scandir(d) as it:
                entries = list(it)
        except OSError:
            continue
        for e in entries:
            if e.name.startswith("."):
                continue
            try:
                if e.is_dir(follow_symlinks=False):
                    stack.append(e.path)
                elif e.is_file() and supported(Path(e.name)):
                    yield e.path, e.stat()
            except OSError:
                continue
