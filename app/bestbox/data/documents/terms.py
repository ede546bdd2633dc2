"""Which query words the keyword search ranks on, chosen by how many passages hold each.

FTS5's bm25() scores every row the MATCH expression yields, and first counts the rows of every
phrase in it, so an OR over a word that sits in half of 700,000 passages costs ~a second however
small the LIMIT. Such a word carries almost no BM25 weight (idf ≈ ln 2 against ≈ 5 for a word in
1 % of passages), so when rarer words are there the common ones are left out of the MATCH: the
words are taken rarest first while the passages they hold add up to at most BUDGET. When even the
rarest word is that common, all words must appear (AND), which is what such a query means.
On an index smaller than BUDGET passages nothing changes: every word is kept, OR'ed.

Words are stemmed by the index's own tokenizer (a TEMP FTS5 table with the same `tokenize`), and
document frequencies come from a TEMP fts5vocab over the index, cached until the index changes
(`PRAGMA data_version`). TEMP tables live in this connection only: a search never writes the file.
"""
from __future__ import annotations

import sqlite3
import threading

BUDGET = 5_000             # passages BM25 may rank per query (each costs a docsize read: ~3-6 µs)
COUNT_BUDGET = 150_000     # doclist entries bm25() may count per query (fast, but not free)
MAX_PAIR_WORDS = 6
TOKENIZE = "porter unicode61 remove_diacritics 2"   # the index's (store.SCHEMA)


class TermStats:
    def __init__(self, con: sqlite3.Connection):
        self.con = con
        self.lock = threading.Lock()
        self.version = None
        self.df: dict[str, int] = {}
        con.execute(f"CREATE VIRTUAL TABLE IF NOT EXISTS temp.q_tok USING fts5(text, tokenize='{TOKENIZE}')")
        con.execute("CREATE VIRTUAL TABLE IF NOT EXISTS temp.q_tok_v USING fts5vocab(temp, q_tok, instance)")
        con.execute("CREATE VIRTUAL TABLE IF NOT EXISTS temp.chunks_v USING fts5vocab(main, chunks_fts, row)")

    def stems(self, words: list[str]) -> list[list[str]]:
        """The index terms of each word (usually one; "e-mail" gives two)."""
        con = self.con
        con.executemany("INSERT INTO temp.q_tok(rowid, text) VALUES (?, ?)", list(enumerate(words, start=1)))
        out: list[list[str]] = [[] for _ in words]
        for term, doc in con.execute("SELECT term, doc FROM temp.q_tok_v"):
            out[doc - 1].append(term)
        con.execute("DELETE FROM temp.q_tok")
        # sqlite3 opened a transaction for the INSERT: end it, or every later search would read the
        # index as it was at this moment and never see what the indexer adds.
        con.commit()
        return out

    def doc_freq(self, term: str) -> int:
        version = self.con.execute("PRAGMA data_version").fetchone()[0]
        if version != self.version:
            self.df.clear()
            self.version = version
        if term not in self.df:
            row = self.con.execute("SELECT doc FROM temp.chunks_v WHERE term = ?", (term,)).fetchone()
            self.df[term] = int(row[0]) if row else 0
        return self.df[term]

    def plan(self, words: list[str]) -> list[tuple[str, int]]:
        """[(word, passages holding it)], rarest first; words in no passage are left out (they
        cannot change which passages match)."""
        if not words:
            return []
        with self.lock:
            stems = self.stems(words)
            freq = [(w, max(self.doc_freq(t) for t in ts)) for w, ts in zip(words, stems) if ts]
        return sorted(((w, f) for w, f in freq if f > 0), key=lambda x: x[1])


def _quote(w: str) -> str:
    return '"' + w.replace('"', '""') + '"'


def match_expressions(freq: list[tuple[str, int]], budget: int = BUDGET,
                      count_budget: int = COUNT_BUDGET) -> list[str]:
    """FTS5 MATCH expressions to run in turn until enough passages are found.

    Few passages in all: one OR over every word (plain BM25). Otherwise first the passages holding
    at least two of the rarest words (an OR of pairs: few rows to rank, and every word still
    counts in the score; the words are taken while FTS5's per-phrase counting, which scans each
    pair's words once per pair, stays under count_budget), then an OR of the rarest words while
    the passages they hold add up to at most budget (at least the rarest word)."""
    if not freq:
        return []
    if sum(f for _, f in freq) <= budget or len(freq) == 1:
        return [" OR ".join(_quote(w) for w, _ in freq)]
    out = []
    pair_words = freq[:2]
    for w, f in freq[2:MAX_PAIR_WORDS]:
        if sum(x for _, x in pair_words + [(w, f)]) * len(pair_words) > count_budget:
            break
        pair_words.append((w, f))
    out.append(" OR ".join(f"({_quote(a)} AND {_quote(b)})" for i, (a, _) in enumerate(pair_words)
                           for b, _ in pair_words[i + 1:]))
    keep, total = [], 0
    for w, f in freq:
        if keep and total + f > budget:
            break
        keep.append(w)
        total += f
    out.append(" OR ".join(_quote(w) for w in keep))
    return out
