"""Every routing decision, the user's corrections of them, and shadow-check agreement, in SQLite.

A correction is stored and handed at once to the attached fast path(s), so the same or a similar
request routes right on the next turn; on the next start the fast path is built with
`store.corrections()`. `report()` is what the routing report shows: accuracy judged by the
corrections, agreement with the heavy model, and route time per mode and per decider. No Qt.
"""
from __future__ import annotations

import json
import sqlite3
import threading
import time
from pathlib import Path

from .decision import AGENTS, RouteDecision
from .fast_path import norm_key
from ..stats import latency_summary

SCHEMA = """
CREATE TABLE IF NOT EXISTS decisions (
  turn_id TEXT PRIMARY KEY, ts REAL NOT NULL, text TEXT NOT NULL, norm TEXT NOT NULL,
  agent TEXT NOT NULL, tier TEXT, decided_by TEXT, mode TEXT, confidence REAL, ms REAL, detail TEXT);
CREATE INDEX IF NOT EXISTS decisions_norm ON decisions(norm);
CREATE TABLE IF NOT EXISTS corrections (
  id INTEGER PRIMARY KEY AUTOINCREMENT, ts REAL NOT NULL, turn_id TEXT, text TEXT NOT NULL,
  norm TEXT NOT NULL, agent TEXT NOT NULL, previous_agent TEXT);
CREATE TABLE IF NOT EXISTS shadow (
  turn_id TEXT, ts REAL NOT NULL, text TEXT NOT NULL, agent TEXT NOT NULL, heavy_agent TEXT,
  agree INTEGER, ms REAL, error TEXT);
"""


class CorrectionStore:
    def __init__(self, path: Path | str | None = None):
        if path is None:
            from .. import paths

            path = paths.data_dir() / "routing.sqlite"
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(str(self.path), check_same_thread=False, isolation_level=None, timeout=5.0)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(SCHEMA)
        self._listeners: list = []

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def attach(self, fast_path) -> None:
        """Corrections from now on also go straight into this fast path (FastPath.add_example)."""
        self._listeners.append(fast_path)

    # -- writing --------------------------------------------------------------------------------
    def record(self, turn_id: str, text: str, decision: RouteDecision) -> None:
        with self._lock:
            self._db.execute(
                "INSERT OR REPLACE INTO decisions VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                (str(turn_id), time.time(), text, norm_key(text), decision.agent, decision.tier,
                 decision.decided_by, decision.mode, decision.confidence, decision.ms,
                 json.dumps(decision.detail, default=str)),
            )

    def correct(self, turn_or_text: str, agent: str) -> dict:
        """Correct a recorded turn (by its id) or a request (by its text). Takes effect at once."""
        if agent not in AGENTS:
            raise ValueError(f"unknown agent {agent!r}; one of {', '.join(AGENTS)}")
        key = str(turn_or_text)
        with self._lock:
            row = self._db.execute("SELECT turn_id, text, agent FROM decisions WHERE turn_id=?", (key,)).fetchone()
            if row is None:
                row = self._db.execute(
                    "SELECT turn_id, ?, agent FROM decisions WHERE norm=? ORDER BY ts DESC LIMIT 1",
                    (key, norm_key(key))).fetchone()
            turn_id, text, previous = row if row else (None, key, None)
            if not norm_key(text):
                raise ValueError("nothing to correct: empty text")
            self._db.execute(
                "INSERT INTO corrections (ts, turn_id, text, norm, agent, previous_agent) VALUES (?,?,?,?,?,?)",
                (time.time(), turn_id, text, norm_key(text), agent, previous))
        for fp in self._listeners:
            fp.add_example(text, agent)
        return {"turn_id": turn_id, "text": text, "agent": agent, "previous_agent": previous}

    def record_shadow(self, turn_id: str | None, text: str, agent: str, heavy_agent: str | None,
                      ms: float, error: str | None = None) -> None:
        agree = None if heavy_agent is None else int(heavy_agent == agent)
        with self._lock:
            self._db.execute("INSERT INTO shadow VALUES (?,?,?,?,?,?,?,?)",
                             (turn_id, time.time(), text, agent, heavy_agent, agree, ms, error))

    def reset(self, everything: bool = False) -> None:
        """Forget the corrections (and, with everything=True, the decisions and shadow checks)."""
        with self._lock:
            self._db.execute("DELETE FROM corrections")
            if everything:
                self._db.execute("DELETE FROM decisions")
                self._db.execute("DELETE FROM shadow")
        for fp in self._listeners:
            fp.clear_corrections()

    # -- reading --------------------------------------------------------------------------------
    def corrections(self) -> list[tuple[str, str]]:
        """(text, agent) in the order they were made; the fast path keeps the last per text."""
        with self._lock:
            return [(t, a) for t, a in self._db.execute("SELECT text, agent FROM corrections ORDER BY id")]

    def decision(self, turn_id: str) -> dict | None:
        with self._lock:
            cur = self._db.execute("SELECT * FROM decisions WHERE turn_id=?", (str(turn_id),))
            row = cur.fetchone()
            return dict(zip([c[0] for c in cur.description], row)) if row else None

    def export(self, path: Path | str) -> int:
        """Corrections as JSONL lines of {"text", "agent", ...}: usable by `bestbox route --eval`."""
        with self._lock:
            rows = self._db.execute(
                "SELECT text, agent, previous_agent, turn_id, ts FROM corrections ORDER BY id").fetchall()
        with open(path, "w", encoding="utf-8") as f:
            for text, agent, prev, turn_id, ts in rows:
                f.write(json.dumps({"text": text, "agent": agent, "previous_agent": prev,
                                    "turn_id": turn_id, "ts": ts}) + "\n")
        return len(rows)

    def report(self) -> dict:
        with self._lock:
            decisions = self._db.execute("SELECT turn_id, agent, decided_by, mode, ms FROM decisions").fetchall()
            latest = dict(self._db.execute(
                "SELECT turn_id, agent FROM corrections WHERE turn_id IS NOT NULL ORDER BY id").fetchall())
            n_corr = self._db.execute("SELECT COUNT(*) FROM corrections").fetchone()[0]
            shadow = self._db.execute("SELECT agree, ms FROM shadow").fetchall()
        wrong = [d for d in decisions if d[0] in latest and latest[d[0]] != d[1]]
        by_decider: dict[str, dict] = {}
        for turn_id, agent, by, _, _ in decisions:
            s = by_decider.setdefault(by, {"decisions": 0, "corrected": 0})
            s["decisions"] += 1
            s["corrected"] += int(turn_id in latest and latest[turn_id] != agent)
        for s in by_decider.values():
            s["accuracy"] = round(1 - s["corrected"] / s["decisions"], 4) if s["decisions"] else None
        answered = [a for a, _ in shadow if a is not None]

        def times(col: int) -> dict:
            groups: dict[str, list[float]] = {}
            for d in decisions:
                if d[4] is not None:
                    groups.setdefault(d[col] or "?", []).append(d[4])
            return {k: latency_summary(v) for k, v in sorted(groups.items())}

        return {
            "decisions": len(decisions),
            "corrections": n_corr,
            "corrected_decisions": len(wrong),
            # Uncorrected decisions count as right: the user saw them and let them stand.
            "accuracy": round(1 - len(wrong) / len(decisions), 4) if decisions else None,
            "accuracy_by_decided_by": by_decider,
            "shadow": {"checks": len(shadow), "answered": len(answered),
                       "agreement": round(sum(answered) / len(answered), 4) if answered else None,
                       "heavy_ms": latency_summary([m for a, m in shadow if a is not None and m is not None])},
            "route_ms_by_mode": times(3),
            "route_ms_by_decided_by": times(2),
        }


CorrectionsStore = CorrectionStore  # the name the pipeline imports
