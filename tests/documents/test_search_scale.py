"""How search stays fast on a large index, checked on small ones with the thresholds lowered:
the keyword part ranks few passages (pairs of the rarest words first), and a large vector set is
searched through the inverted file beside the index, returning exact cosines."""
from __future__ import annotations

import sqlite3

import numpy as np

from bestbox.data.documents import Searcher, store, terms, vectors
from bestbox.data.documents.embed import DIM, to_blob


def _index(path, texts):
    con = store.connect(path)
    with con:
        con.execute("INSERT INTO documents(id, path, folder) VALUES (1, '/x/a.txt', '/x')")
        con.executemany("INSERT INTO chunks(doc_id, seq, page, text) VALUES (1, ?, NULL, ?)", list(enumerate(texts)))
    return con


def test_small_index_keeps_one_plain_or(tmp_path):
    con = _index(tmp_path / "i.sqlite3", ["red apples", "green apples", "red cars"])
    st = terms.TermStats(con)
    freq = st.plan(["apples", "red", "unseen"])
    assert freq == [("red", 2), ("apples", 2)] or freq == [("apples", 2), ("red", 2)]
    assert terms.match_expressions(freq) == [" OR ".join(f'"{w}"' for w, _ in freq)]
    assert st.stems(["running", "e-mail"]) == [["run"], ["e", "mail"]]     # the index's own porter tokenizer


def test_large_index_ranks_pairs_of_rare_words_first(tmp_path, monkeypatch):
    texts = [f"common filler {i}" for i in range(60)] + ["common zebra quartz"] + \
            [f"zebra alone {i}" for i in range(5)] + [f"quartz alone {i}" for i in range(8)]
    con = _index(tmp_path / "i.sqlite3", texts)
    monkeypatch.setattr(terms, "BUDGET", 20)
    freq = terms.TermStats(con).plan(["common", "zebra", "quartz"])
    assert [w for w, _ in freq] == ["zebra", "quartz", "common"]
    exprs = terms.match_expressions(freq, budget=20)
    assert exprs[0].count(" AND ") == 3 and exprs[-1] == '"zebra" OR "quartz"'   # "common" is left out
    s = Searcher(tmp_path / "i.sqlite3", use_embeddings=False)
    try:
        hits = s.search("common zebra quartz", 5, "keyword")
        assert hits[0].text == "common zebra quartz"                # the passage with every word first
        assert {h.text.split()[0] for h in hits[1:]} <= {"zebra", "quartz"}
    finally:
        s.close()


def test_inverted_vectors_find_what_exact_search_finds(tmp_path, monkeypatch):
    rng = np.random.default_rng(1)
    centers = rng.standard_normal((30, DIM)).astype(np.float32)
    vecs = centers[rng.integers(0, 30, 3000)] + 0.35 * rng.standard_normal((3000, DIM)).astype(np.float32)
    vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
    db = tmp_path / "v.sqlite3"
    con = _index(db, [f"passage {i}" for i in range(len(vecs))])
    ids = [r[0] for r in con.execute("SELECT id FROM chunks ORDER BY id")]
    with con:
        con.executemany("INSERT INTO embeddings(chunk_id, vec) VALUES (?, ?)", [(i, to_blob(v)) for i, v in zip(ids, vecs)])
    monkeypatch.setattr(vectors, "EXACT_MAX", 1000)
    assert vectors.ensure_built(con) and not vectors.ensure_built(con)    # built (on its thread), then due no more
    index = vectors.VectorIndex()
    stored = np.frombuffer(b"".join(r[0] for r in con.execute("SELECT vec FROM embeddings ORDER BY chunk_id")),
                           dtype=np.float16).reshape(-1, DIM).astype(np.float32)
    found = 0
    for qi in range(20):
        q = vecs[qi * 97]
        got = index.search(con, q, 10)
        exact = np.argsort(-(stored @ q))[:10]
        found += len({c for c, _ in got} & {ids[i] for i in exact})
        for c, cos in got:                                  # the cosines are exact, not the int8 estimate
            assert abs(cos - float(stored[ids.index(c)] @ q)) < 1e-5
    assert isinstance(index.impl, vectors._Inverted) and (db.parent / (db.name + ".vectors") / "meta.json").exists()
    assert found / 200 >= 0.9, found
    # A new embedding moves the version: the files stay, the new passage is searched beside them;
    # a deleted passage is never returned.
    built = (db.parent / (db.name + ".vectors") / "meta.json").stat().st_mtime_ns
    with con:
        con.execute("INSERT INTO chunks(doc_id, seq, page, text) VALUES (1, 9999, NULL, 'new')")
        new_id = con.execute("SELECT MAX(id) FROM chunks").fetchone()[0]
        con.execute("INSERT INTO embeddings(chunk_id, vec) VALUES (?, ?)", (new_id, to_blob(vecs[5] * -1)))
        gone = index.search(con, vecs[7], 1)[0][0]
        con.execute("DELETE FROM chunks WHERE id = ?", (gone,))
    assert index.search(con, -vecs[5], 1)[0][0] == new_id and index.impl.extra is not None
    assert gone not in {c for c, _ in index.search(con, vecs[7], 10)}
    assert (db.parent / (db.name + ".vectors") / "meta.json").stat().st_mtime_ns == built
    con.close()
    assert sqlite3.connect(db).execute("SELECT COUNT(*) FROM embeddings").fetchone()[0] == 3000


def test_a_kept_searcher_sees_what_the_indexer_adds(tmp_path):
    db = tmp_path / "i.sqlite3"
    _index(db, ["alpha beta"]).close()
    s = Searcher(db, use_embeddings=False)
    try:
        assert len(s.search("alpha gamma", 5, "keyword")) == 1
        other = store.connect(db)
        with other:
            other.execute("INSERT INTO chunks(doc_id, seq, page, text) VALUES (1, 1, NULL, 'gamma ray')")
        other.close()
        assert {h.text for h in s.search("alpha gamma", 5, "keyword")} == {"alpha beta", "gamma ray"}
    finally:
        s.close()
