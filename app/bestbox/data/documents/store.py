"""The one SQLite file of the document index, in BestBox's data dir: documents (path, size, mtime,
content hash, status), their chunks with page, an FTS5 table over chunk text, embeddings per chunk,
and the work queue (so indexing resumes after a restart). Only this file is ever written; the
user's documents are only read.
"""
from __future__ import annotations

import sqlite3
import time
from pathlib import Path

from ... import paths

SCHEMA_VERSION = 1
SCHEMA = """
CREATE TABLE IF NOT EXISTS documents (
    id INTEGER PRIMARY KEY, path TEXT UNIQUE NOT NULL, folder TEXT NOT NULL, size INTEGER, mtime REAL,
    hash TEXT, status TEXT NOT NULL DEFAULT 'ok', reason TEXT, chunks INTEGER DEFAULT 0, indexed_at REAL);
CREATE INDEX IF NOT EXISTS documents_hash ON documents(hash);
CREATE TABLE IF NOT EXISTS chunks (
    id INTEGER PRIMARY KEY, doc_id INTEGER NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
    seq INTEGER NOT NULL, page INTEGER, text TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS chunks_doc ON chunks(doc_id);
CREATE VIRTUAL TABLE IF NOT EXISTS chunks_fts USING fts5(
    text, content='chunks', content_rowid='id', tokenize='porter unicode61 remove_diacritics 2');
CREATE TRIGGER IF NOT EXISTS chunks_ai AFTER INSERT ON chunks BEGIN
    INSERT INTO chunks_fts(rowid, text) VALUES (new.id, new.text); END;
CREATE TRIGGER IF NOT EXISTS chunks_ad AFTER DELETE ON chunks BEGIN
    INSERT INTO chunks_fts(chunks_fts, rowid, text) VALUES ('delete', old.id, old.text); END;
CREATE TABLE IF NOT EXISTS embeddings (
    chunk_id INTEGER PRIMARY KEY REFERENCES chunks(id) ON DELETE CASCADE, vec BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS queue (
    path TEXT PRIMARY KEY, folder TEXT NOT NULL, size INTEGER, mtime REAL, why TEXT, queued_at REAL);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);
INSERT OR IGNORE INTO meta(key, value) VALUES ('embeddings_version', 0);
-- Searchers keep the vectors in memory and reload them when this number moves (cheaper than
-- counting rows on every search of a large index).
CREATE TRIGGER IF NOT EXISTS embeddings_ai AFTER INSERT ON embeddings BEGIN
    UPDATE meta SET value = value + 1 WHERE key = 'embeddings_version'; END;
CREATE TRIGGER IF NOT EXISTS embeddings_ad AFTER DELETE ON embeddings BEGIN
    UPDATE meta SET value = value + 1 WHERE key = 'embeddings_version'; END;
"""


def index_path() -> Path:
    return paths.data_dir() / "documents.sqlite3"


def connect(path: Path | None = None) -> sqlite3.Connection:
    path = path or index_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    # check_same_thread off: the UI's worker thread owns its own connection; the search tool opens
    # its own; WAL lets searches read while the indexer writes.
    con = sqlite3.connect(str(path), timeout=30, check_same_thread=False)
    con.row_factory = sqlite3.Row
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA synchronous=NORMAL")
    con.execute("PRAGMA foreign_keys=ON")
    if con.execute("PRAGMA user_version").fetchone()[0] < SCHEMA_VERSION:
        # Only once per file: a search must not take the write lock the indexer may be holding.
        con.executescript(SCHEMA + f"PRAGMA user_version = {SCHEMA_VERSION};")
    return con


def get_meta(con: sqlite3.Connection, key: str, default: str | None = None) -> str | None:
    row = con.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
    return row[0] if row else default


def set_meta(con: sqlite3.Connection, key: str, value: str) -> None:
    con.execute("INSERT INTO meta(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                (key, value))


def known_documents(con: sqlite3.Connection, folder: str) -> dict[str, sqlite3.Row]:
    return {r["path"]: r for r in con.execute("SELECT id, path, size, mtime, hash FROM documents WHERE folder = ?",
                                              (folder,))}


def enqueue(con: sqlite3.Connection, items: list[tuple[str, str, int, float, str]]) -> None:
    """(path, folder, size, mtime, why) rows; a path already queued keeps one entry, the newest."""
    now = time.time()
    con.executemany("INSERT INTO queue(path, folder, size, mtime, why, queued_at) VALUES (?, ?, ?, ?, ?, ?) "
                    "ON CONFLICT(path) DO UPDATE SET size = excluded.size, mtime = excluded.mtime",
                    [(*it, now) for it in items])


def replace_chunks(con: sqlite3.Connection, doc_id: int, chunks) -> None:
    con.execute("DELETE FROM chunks WHERE doc_id = ?", (doc_id,))
    con.executemany("INSERT INTO chunks(doc_id, seq, page, text) VALUES (?, ?, ?, ?)",
                    [(doc_id, c.seq, c.page, c.text) for c in chunks])


def upsert_document(con: sqlite3.Connection, path: str, folder: str, size: int, mtime: float, digest: str,
                    status: str, reason: str | None, n_chunks: int) -> int:
    con.execute("""INSERT INTO documents(path, folder, size, mtime, hash, status, reason, chunks, indexed_at)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(path) DO UPDATE SET folder = excluded.folder,
        size = excluded.size, mtime = excluded.mtime, hash = excluded.hash, status = excluded.status,
        reason = excluded.reason, chunks = excluded.chunks, indexed_at = excluded.indexed_at""",
                (path, folder, size, mtime, digest, status, reason, n_chunks, time.time()))
    return con.execute("SELECT id FROM documents WHERE path = ?", (path,)).fetchone()[0]


def delete_documents(con: sqlite3.Connection, paths_: list[str]) -> int:
    """Remove these paths' documents (chunks and embeddings go with them); returns how many were indexed."""
    if not paths_:
        return 0
    return con.executemany("DELETE FROM documents WHERE path = ?", [(p,) for p in paths_]).rowcount


def status(con: sqlite3.Connection) -> dict:
    folders = {}
    for r in con.execute("""SELECT folder, COUNT(*) AS files, SUM(status = 'ok') AS indexed,
            SUM(status = 'failed') AS failed, SUM(chunks) AS chunks FROM documents GROUP BY folder"""):
        folders[r["folder"]] = {"files": r["files"], "indexed": r["indexed"] or 0, "failed": r["failed"] or 0,
                                "chunks": r["chunks"] or 0}
    failed = [{"path": r["path"], "reason": r["reason"]} for r in
              con.execute("SELECT path, reason FROM documents WHERE status = 'failed' ORDER BY path")]
    n_chunks = con.execute("SELECT COUNT(*) FROM chunks").fetchone()[0]
    n_emb = con.execute("SELECT COUNT(*) FROM embeddings").fetchone()[0]
    queued = con.execute("SELECT COUNT(*) FROM queue").fetchone()[0]
    return {"folders": folders, "failed": failed, "chunks": n_chunks, "embedded_chunks": n_emb, "queued": queued}
