"""Conversations in SQLite (WAL) in the user data dir. Every message is written when it happens,
so a crash of the app or a server mid-answer loses nothing: the partial answer is kept and marked."""
from __future__ import annotations

import json
import sqlite3
import threading
import time
import uuid
from pathlib import Path

from .. import paths

_SCHEMA = """
CREATE TABLE IF NOT EXISTS conversations (
  id TEXT PRIMARY KEY, title TEXT NOT NULL, created_at REAL NOT NULL, updated_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS messages (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  conversation_id TEXT NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
  turn_id TEXT, role TEXT NOT NULL, text TEXT NOT NULL, meta TEXT NOT NULL DEFAULT '{}',
  partial INTEGER NOT NULL DEFAULT 0, created_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS messages_conv ON messages(conversation_id, id);
"""


class History:
    def __init__(self, path: Path | None = None):
        self.path = Path(path) if path else paths.data_dir() / "history.sqlite"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        # WAL + NORMAL: a commit is durable against an app crash (what we promise), and costs no fsync.
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute("PRAGMA foreign_keys=ON")
        self._db.executescript(_SCHEMA)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def _x(self, sql: str, args: tuple = ()) -> list[tuple]:
        with self._lock:
            return self._db.execute(sql, args).fetchall()

    def new_conversation(self, title: str = "New conversation") -> str:
        cid = uuid.uuid4().hex[:12]
        now = time.time()
        self._x("INSERT INTO conversations VALUES (?,?,?,?)", (cid, title, now, now))
        return cid

    def ensure(self, conversation_id: str | None, first_text: str = "") -> str:
        if conversation_id and self._x("SELECT 1 FROM conversations WHERE id=?", (conversation_id,)):
            return conversation_id
        title = " ".join(first_text.split())[:60] or "New conversation"
        return self.new_conversation(title)

    def list_conversations(self) -> list[dict]:
        rows = self._x("SELECT id, title, updated_at FROM conversations ORDER BY updated_at DESC")
        return [{"id": r[0], "title": r[1], "updated_at": r[2]} for r in rows]

    def add_message(self, conversation_id: str, role: str, text: str, *, turn_id: str | None = None,
                    meta: dict | None = None, partial: bool = False) -> int:
        now = time.time()
        with self._lock:
            cur = self._db.execute(
                "INSERT INTO messages (conversation_id, turn_id, role, text, meta, partial, created_at)"
                " VALUES (?,?,?,?,?,?,?)",
                (conversation_id, turn_id, role, text, json.dumps(meta or {}, default=str), int(partial), now))
            self._db.execute("UPDATE conversations SET updated_at=? WHERE id=?", (now, conversation_id))
            return int(cur.lastrowid)

    def update_message(self, message_id: int, *, text: str | None = None, meta: dict | None = None,
                       partial: bool | None = None) -> None:
        sets, args = [], []
        if text is not None:
            sets.append("text=?"); args.append(text)
        if meta is not None:
            sets.append("meta=?"); args.append(json.dumps(meta, default=str))
        if partial is not None:
            sets.append("partial=?"); args.append(int(partial))
        if sets:
            self._x(f"UPDATE messages SET {', '.join(sets)} WHERE id=?", (*args, message_id))

    def load(self, conversation_id: str) -> list[dict]:
        rows = self._x("SELECT id, turn_id, role, text, meta, partial FROM messages WHERE conversation_id=?"
                       " ORDER BY id", (conversation_id,))
        return [{"id": r[0], "turn_id": r[1], "role": r[2], "text": r[3], "meta": json.loads(r[4] or "{}"),
                 "partial": bool(r[5])} for r in rows]

    def context(self, conversation_id: str, max_messages: int = 8) -> list[dict]:
        """Recent turns as chat messages for the model (tool chatter and empty partials left out).
        An answer that was a raw tool call (kept by older versions) is left out too: a model copies
        its arguments into the next, unrelated call."""
        msgs = [m for m in self.load(conversation_id) if m["role"] in ("user", "assistant") and m["text"].strip()
                and not (m["role"] == "assistant" and _raw_call(m["text"]))]
        return [{"role": m["role"], "content": m["text"]} for m in msgs[-max_messages:]]

    def annotate_turn(self, turn_id: str, **meta) -> int:
        """Merge `meta` into every message of a turn (e.g. corrected_agent after a route correction);
        returns how many messages changed."""
        rows = self._x("SELECT id, meta FROM messages WHERE turn_id=?", (turn_id,))
        for mid, old in rows:
            self.update_message(mid, meta={**json.loads(old or "{}"), **meta})
        return len(rows)

    def add_timings(self, turn_id: str, **timings) -> int:
        """Merge numbers measured after the answer was kept (a spoken reply's first audio) into the
        `timings` of the turn's answer; returns how many messages changed."""
        rows = self._x("SELECT id, meta FROM messages WHERE turn_id=? AND role='assistant'", (turn_id,))
        for mid, old in rows:
            meta = json.loads(old or "{}")
            meta["timings"] = {**(meta.get("timings") or {}), **timings}
            self.update_message(mid, meta=meta)
        return len(rows)

    def delete(self, conversation_id: str) -> None:
        self._x("DELETE FROM conversations WHERE id=?", (conversation_id,))

    def rename(self, conversation_id: str, title: str) -> None:
        title = " ".join(str(title).split())[:120]
        if not title:
            raise ValueError("a conversation needs a title")
        self._x("UPDATE conversations SET title=? WHERE id=?", (title, conversation_id))

    def search(self, query: str) -> list[dict]:
        """Conversations whose title or any message contains `query` (case-insensitive), newest first."""
        q = " ".join(str(query).split())
        if not q:
            return self.list_conversations()
        pat = "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        rows = self._x("SELECT id, title, updated_at FROM conversations c WHERE title LIKE ? ESCAPE '\\'"
                       " OR EXISTS (SELECT 1 FROM messages m WHERE m.conversation_id=c.id AND m.text LIKE ? ESCAPE '\\')"
                       " ORDER BY updated_at DESC", (pat, pat))
        return [{"id": r[0], "title": r[1], "updated_at": r[2]} for r in rows]

    def truncate_from_turn(self, conversation_id: str, turn_id: str) -> int:
        """Delete the messages of `turn_id` and every later one (regenerate, edit-and-resend);
        returns how many were deleted."""
        with self._lock:
            row = self._db.execute("SELECT MIN(id) FROM messages WHERE conversation_id=? AND turn_id=?",
                                   (conversation_id, turn_id)).fetchone()
            if not row or row[0] is None:
                return 0
            cur = self._db.execute("DELETE FROM messages WHERE conversation_id=? AND id>=?", (conversation_id, row[0]))
            return cur.rowcount


def _raw_call(text: str) -> bool:
    t = text.strip().strip("`").removeprefix("json").strip()
    return t.startswith("{") and '"arguments"' in t and ('"tool"' in t or '"name"' in t)
