"""Searches never wait for indexing work: the vector files are built on their own thread after an
indexing run (progress through the indexer's channel), and a query embeds on its own engine
session while the indexer's passage batch holds the other. Ordering is asserted with events."""
from __future__ import annotations

import threading

import pytest

from bestbox.data.documents import Indexer, Searcher, embed, vectors

WAIT_S = 60      # only a bound for a broken build: the asserts are about order, not time


def _write(folder, start, n):
    folder.mkdir(parents=True, exist_ok=True)
    topics = ["invoice approval", "travel expenses", "laptop refresh", "holiday rota", "vendor onboarding"]
    for i in range(start, start + n):
        (folder / f"note{i:03d}.txt").write_text(f"Note {i} about {topics[i % len(topics)]}: step {i} of the process.")


@pytest.fixture(name="need_embedder")
def _need_embedder():
    if embed.get_embedder() is None:
        pytest.skip(embed.unavailable_reason())


def test_vector_files_build_in_the_background_after_indexing(tmp_path, monkeypatch, need_embedder):
    monkeypatch.setattr(vectors, "EXACT_MAX", 20)
    monkeypatch.setattr(vectors, "REBUILD_MIN", 5)
    building, release = threading.Event(), threading.Event()
    real_build = vectors._Inverted.build

    def held_build(*a, **kw):
        building.set()
        assert release.wait(WAIT_S), "the test never released the build"
        return real_build(*a, **kw)

    monkeypatch.setattr(vectors._Inverted, "build", staticmethod(held_build))
    events = []
    docs, db = tmp_path / "docs", tmp_path / "i.sqlite3"
    _write(docs, 0, 40)
    ix = Indexer([str(docs)], db=db, on_progress=lambda p: events.append((threading.current_thread().name, p.stage,
                                                                           p.done, p.total)))
    rep = ix.sync()
    # sync returned on the caller's thread; the build runs on and is held
    assert rep.embedded == 40 and rep.vector_files and ix.vector_build is not None
    assert building.wait(WAIT_S) and ix.vector_build.is_alive()
    s = Searcher(db)
    try:
        hits = s.search("laptop refresh", 3, "embedding")      # answered while the build is held
        assert hits and not release.is_set()
        assert isinstance(vectors.for_file(s.con).impl, vectors._AllInt8)     # every vector, no files
        release.set()
        ix.vector_build.join(WAIT_S)
        assert not ix.vector_build.is_alive()
        built = [e for e in events if e[0] == "docs-vector-files"]
        assert [e[1] for e in built][:1] == ["vectors"] and built[-1][1:] == ("vectors", 4, 4)
        assert (tmp_path / "i.sqlite3.vectors" / "meta.json").exists()
        assert s.search("laptop refresh", 3, "embedding")[0].chunk_id == hits[0].chunk_id
        assert isinstance(vectors.for_file(s.con).impl, vectors._Inverted)   # the new files, once built
        # few changed passages: the files stay, the new passages are searched beside them
        _write(docs, 40, 2)
        rep2 = Indexer([str(docs)], db=db).sync()
        assert rep2.embedded == 2 and not rep2.vector_files
        assert s.search("Note 41 about", 1, "embedding") and isinstance(vectors.for_file(s.con).impl, vectors._Inverted)
        # many changed passages: rebuilt in the background again
        _write(docs, 42, 10)
        ix3 = Indexer([str(docs)], db=db)
        rep3 = ix3.sync()
        assert rep3.vector_files
        ix3.vector_build.join(WAIT_S)
    finally:
        release.set()
        s.close()


class _HeldEngine:
    """The indexer's engine, made to hold its passage batch (and the session's lock) until told."""

    def __init__(self, real, in_batch: threading.Event, go_on: threading.Event):
        self.real, self.in_batch, self.go_on, self.released_by_search = real, in_batch, go_on, []

    def passage(self, texts):
        self.in_batch.set()
        self.released_by_search.append(self.go_on.wait(WAIT_S))
        return self.real.passage(texts)

    def query(self, text):
        return self.real.query(text)


def test_a_query_does_not_wait_behind_an_indexing_batch(tmp_path, monkeypatch, need_embedder):
    docs, db = tmp_path / "docs", tmp_path / "i.sqlite3"
    _write(docs, 0, 40)
    in_batch, search_done = threading.Event(), threading.Event()
    emb = embed.get_embedder()
    held = _HeldEngine(emb._m, in_batch, search_done)
    monkeypatch.setattr(emb, "_m", held)
    box = {}
    t = threading.Thread(target=lambda: box.setdefault("rep", Indexer([str(docs)], db=db).sync()))
    t.start()
    try:
        assert in_batch.wait(WAIT_S)
        s = Searcher(db)
        try:
            assert s.embedder is not emb                    # the searchers' own session
            v = s.query_vector("who approves invoices")     # computed while the batch holds its lock
            assert v.shape == (embed.DIM,) and not search_done.is_set()
        finally:
            s.close()
        search_done.set()
    finally:
        search_done.set()
        t.join()
    assert held.released_by_search[0] is True        # the first batch ended only after the query
    assert box["rep"].embedded == 40
