"""Passages for a question: keyword search (FTS5 BM25) and embedding search (cosine over the stored
vectors), fused by reciprocal-rank fusion (k = 60). `mode` says which ran, loudly, so a missing
embedder never passes silently as "fused".
"""
from __future__ import annotations

import re
import threading
import time
from collections import OrderedDict
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from . import store, vectors
from .terms import TermStats, match_expressions

RRF_K = 60
CANDIDATES = 50
# A hit "answers" when it holds at least this share of the question's content words, or when its
# embedding is this close (e5 cosines crowd into 0.7–0.9; on the bench set unanswerable questions
# scored up to 0.82, answerable ones mostly above).
MIN_WORD_COVERAGE = 0.5
MIN_COSINE = 0.825

_STOP = set("""a an and are as at be by can could did do does for from had has have how i in is it its me my of on
or our should so than that the their them there these they this to was we were what when where which who why will
with would you your about any all also into if not no yes please tell show find give""".split())


@dataclass
class Hit:
    path: str
    page: int | None
    score: float
    snippet: str
    chunk_id: int
    text: str = ""
    keyword_rank: int | None = None
    embedding_rank: int | None = None
    cosine: float | None = None
    coverage: float = 0.0

    def public(self) -> dict:
        return {"path": self.path, "page": self.page, "score": round(self.score, 5), "snippet": self.snippet}

    def as_dict(self) -> dict:
        d = asdict(self)
        d.pop("text")
        return d


def words(text: str) -> list[str]:
    return [w for w in re.findall(r"\w+", text.lower()) if w not in _STOP and len(w) > 1][:24]


def snippet(text: str, terms: list[str], width: int = 240) -> str:
    low = text.lower()
    pos = min((i for i in (low.find(t) for t in terms) if i >= 0), default=0)
    start = max(0, pos - width // 3)
    s = " ".join(text[start:start + width].split())
    return ("… " if start else "") + s + (" …" if start + width < len(text) else "")


class Searcher:
    def __init__(self, db: Path | None = None, *, use_embeddings: bool = True):
        self.con = store.connect(db)
        self.inode: int | None = None
        self.terms = TermStats(self.con)
        self.use_embeddings = use_embeddings
        self._qvec: OrderedDict[str, np.ndarray] = OrderedDict()   # the last queries' embeddings
        self.embedder = None
        self.mode_reason = ""
        if use_embeddings:
            from .embed import get_query_embedder, unavailable_reason

            self.embedder = get_query_embedder()
            if self.embedder is None:
                self.mode_reason = unavailable_reason() or "embedder unavailable"
        else:
            self.mode_reason = "embeddings are off ([data] documents_embed = false)"

    def close(self) -> None:
        self.con.close()

    @property
    def mode(self) -> str:
        if self.embedder is None:
            return "keyword-only"
        any_vec = self.con.execute("SELECT 1 FROM embeddings LIMIT 1").fetchone()
        return "fused" if any_vec else "keyword-only"

    def mode_note(self) -> str:
        if self.embedder is None:
            return f"KEYWORD-ONLY search: {self.mode_reason}"
        if self.mode == "keyword-only":
            return "KEYWORD-ONLY search: no passage has an embedding yet (run `bestbox docs index`)"
        return "fused search: keyword (BM25) + embeddings (multilingual-e5-small), reciprocal-rank fusion"

    def keyword(self, query: str, n: int = CANDIDATES) -> list[tuple[int, float]]:
        rows: list[tuple[int, float]] = []
        for match in match_expressions(self.terms.plan(list(dict.fromkeys(words(query))))):
            seen = {r[0] for r in rows}
            rows += [r for r in self._bm25(match, n) if r[0] not in seen][:n - len(rows)]
            if len(rows) >= n:
                break
        return rows

    def _bm25(self, match: str, n: int) -> list[tuple[int, float]]:
        rows = self.con.execute("SELECT rowid, bm25(chunks_fts) FROM chunks_fts WHERE chunks_fts MATCH ? "
                                "ORDER BY bm25(chunks_fts) LIMIT ?", (match, n)).fetchall()
        return [(r[0], -float(r[1])) for r in rows]

    def query_vector(self, query: str) -> np.ndarray:
        """The query's embedding; the same words asked again (the router, then the tool) embed once."""
        v = self._qvec.get(query)
        return v if v is not None else self._remember(query, self.embedder.query(query))

    def _remember(self, query: str, v: np.ndarray) -> np.ndarray:
        self._qvec[query] = v
        if len(self._qvec) > 64:
            self._qvec.popitem(last=False)
        return v

    def embedding(self, query: str, n: int = CANDIDATES) -> list[tuple[int, float]]:
        if self.embedder is None:
            return []
        return vectors.for_file(self.con).search(self.con, self.query_vector(query), n)

    def search(self, query: str, limit: int = 5, mode: str = "auto") -> list[Hit]:
        """mode: auto (fused when embeddings exist), keyword, embedding, fused."""
        if mode == "auto":
            mode = "fused" if self.mode == "fused" else "keyword"
        pending = None
        if mode in ("embedding", "fused") and self.embedder is not None and query not in self._qvec:
            # The query's embedding (the C engine, without the GIL) runs while SQLite ranks the words.
            pending = _embed_pool().submit(self.embedder.query, query)
        kw = self.keyword(query) if mode in ("keyword", "fused") else []
        if pending is not None:
            self._remember(query, pending.result())
        em = self.embedding(query) if mode in ("embedding", "fused") else []
        scores: dict[int, float] = {}
        if mode in ("keyword", "embedding"):        # each list is in rank order already
            ranked = kw if mode == "keyword" else em
            scores, best = dict(ranked), [c for c, _ in ranked[:limit]]
        else:
            for ranked in (kw, em):
                for rank, (cid, _) in enumerate(ranked, start=1):
                    scores[cid] = scores.get(cid, 0.0) + 1.0 / (RRF_K + rank)
            best = sorted(scores, key=scores.get, reverse=True)[:limit]
        return self._hits(best, scores, query, {c: i for i, (c, _) in enumerate(kw, 1)},
                          {c: i for i, (c, _) in enumerate(em, 1)}, dict(em))

    def _hits(self, ids, scores, query, kw_rank, em_rank, cos) -> list[Hit]:
        if not ids:
            return []
        marks = ",".join("?" * len(ids))
        rows = {r["id"]: r for r in self.con.execute(
            f"SELECT c.id, c.page, c.text, d.path FROM chunks c JOIN documents d ON d.id = c.doc_id "
            f"WHERE c.id IN ({marks})", ids)}
        terms = list(dict.fromkeys(words(query)))
        hits = []
        for cid in ids:
            r = rows.get(cid)
            if r is None:
                continue
            low = r["text"].lower()
            cover = sum(t in low for t in terms) / len(terms) if terms else 0.0
            hits.append(Hit(r["path"], r["page"], scores[cid], snippet(r["text"], terms), cid, r["text"],
                            kw_rank.get(cid), em_rank.get(cid), cos.get(cid), round(cover, 3)))
        return hits


def answers(hit: Hit) -> bool:
    """Does this passage plausibly answer the question (vs the best of nothing relevant)?"""
    return hit.coverage >= MIN_WORD_COVERAGE or (hit.cosine is not None and hit.cosine >= MIN_COSINE)


_POOL = None
_pool_lock = threading.Lock()


def _embed_pool():
    global _POOL
    with _pool_lock:
        if _POOL is None:
            from concurrent.futures import ThreadPoolExecutor

            _POOL = ThreadPoolExecutor(1, thread_name_prefix="bestbox-query-embed")
        return _POOL


_SHARED: dict[tuple, Searcher] = {}
_shared_lock = threading.Lock()


def search(query: str, limit: int = 5, *, db: Path | None = None, use_embeddings: bool = True) -> dict:
    """One search as the CLI and the agent tool report it. One Searcher per index file is kept for
    the process (its connection, term statistics and query embeddings are reused); calls take turns."""
    t0 = time.perf_counter()
    path = Path(db or store.index_path())
    key = (str(path), use_embeddings)
    with _shared_lock:
        s = _SHARED.get(key)
        ino = path.stat().st_ino if path.exists() else None
        if s is None or s.inode != ino:      # first use, or the file was replaced
            if s is not None:
                s.close()
            s = _SHARED[key] = Searcher(path, use_embeddings=use_embeddings)
            s.inode = path.stat().st_ino
        hits = s.search(query, limit)
        return {"query": query, "mode": s.mode, "mode_note": s.mode_note(), "hits": hits,
                "ms": round((time.perf_counter() - t0) * 1000, 1)}
