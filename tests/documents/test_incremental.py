"""The index follows the folders: added, changed, renamed (no re-reading, no re-embedding),
deleted; an interrupted sync resumes from its queue; limits give reasons; nothing is written
to the documents."""
from __future__ import annotations

import hashlib
import os
import time

from bestbox.bench import doc_files
from bestbox.data.documents import Indexer, store


def _sync(folder, db, **kw):
    embed = kw.pop("embed", False)
    return Indexer([str(folder)], db=db, embed=embed, **kw).sync()


def _docs(db):
    con = store.connect(db)
    try:
        return {r["path"]: dict(r) for r in con.execute("SELECT * FROM documents")}
    finally:
        con.close()


def _tree_digest(folder):
    h = hashlib.sha256()
    for p in sorted(folder.rglob("*")):
        if p.is_file():
            st = p.stat()
            h.update(f"{p}:{st.st_mtime_ns}:{st.st_size}".encode() + p.read_bytes())
    return h.hexdigest()


def test_add_change_rename_delete(tmp_path):
    folder, db = tmp_path / "docs", tmp_path / "i.sqlite3"
    folder.mkdir()
    (folder / "a.md").write_text("Alpha policy: the gate closes at nine.")
    (folder / "b.txt").write_text("Bravo notes about kayaks.")
    rep = _sync(folder, db)
    assert (rep.added, rep.changed, rep.renamed, rep.deleted) == (2, 0, 0, 0)

    rep = _sync(folder, db)                                   # nothing changed: nothing read
    assert rep.files == 0

    (folder / "a.md").write_text("Alpha policy: the gate closes at ten now.")
    os.utime(folder / "a.md", (time.time() + 5, time.time() + 5))
    (folder / "c.md").write_text("Charlie is new.")
    rep = _sync(folder, db)
    assert (rep.added, rep.changed) == (1, 1)

    doc_b = _docs(db)[str(folder / "b.txt")]
    (folder / "sub").mkdir()
    (folder / "b.txt").rename(folder / "sub" / "b-renamed.txt")
    (folder / "c.md").unlink()
    rep = _sync(folder, db)
    assert (rep.renamed, rep.deleted, rep.added) == (1, 1, 0)
    docs = _docs(db)
    assert str(folder / "b.txt") not in docs and str(folder / "c.md") not in docs
    assert docs[str(folder / "sub" / "b-renamed.txt")]["id"] == doc_b["id"]   # same row: chunks kept

    from bestbox.data.documents.search import Searcher
    s = Searcher(db, use_embeddings=False)
    try:
        assert s.search("gate closes ten")[0].path == str(folder / "a.md")
        assert s.search("kayaks")[0].path == str(folder / "sub" / "b-renamed.txt")
        assert not s.search("charlie")
    finally:
        s.close()


def test_rename_keeps_embeddings(tmp_path):
    folder, db = tmp_path / "docs", tmp_path / "i.sqlite3"
    folder.mkdir()
    (folder / "one.md").write_text("The boat house opens at seven in the summer.")
    rep = _sync(folder, db, embed=True)
    assert rep.embedded == 1
    (folder / "one.md").rename(folder / "two.md")
    rep = _sync(folder, db, embed=True)
    assert rep.renamed == 1 and rep.embedded == 0             # nothing re-embedded
    con = store.connect(db)
    assert con.execute("SELECT COUNT(*) FROM embeddings").fetchone()[0] == 1
    con.close()


def test_an_interrupted_sync_resumes_from_its_queue(tmp_path):
    folder, db = tmp_path / "docs", tmp_path / "i.sqlite3"
    folder.mkdir()
    for i in range(30):
        (folder / f"f{i:02d}.txt").write_text(f"document number {i} about topic{i}")
    seen = []

    def stop_after_ten(p):
        seen.append(p.done)
        if p.stage == "read" and p.done >= 10:
            ix.cancel()

    ix = Indexer([str(folder)], db=db, embed=False, on_progress=stop_after_ten)
    import bestbox.data.documents.indexer as mod
    old, mod.COMMIT_EVERY_S = mod.COMMIT_EVERY_S, 0.0     # report progress after every file
    try:
        rep = ix.sync()
    finally:
        mod.COMMIT_EVERY_S = old
    assert rep.cancelled and 10 <= rep.files < 30
    con = store.connect(db)
    queued = con.execute("SELECT COUNT(*) FROM queue").fetchone()[0]
    con.close()
    assert queued == 30 - rep.files                           # the rest waits in the store
    rep2 = _sync(folder, db)                                  # a new process would do the same
    assert rep2.files == 30 - rep.files and len(_docs(db)) == 30


def test_pause_holds_the_indexer_until_resumed(tmp_path):
    import threading

    folder, db = tmp_path / "docs", tmp_path / "i.sqlite3"
    folder.mkdir()
    for i in range(5):
        (folder / f"f{i}.txt").write_text(f"text {i}")
    ix = Indexer([str(folder)], db=db, embed=False)
    ix.pause()
    t = threading.Thread(target=ix.sync)
    t.start()
    t.join(1.0)
    assert t.is_alive() and ix.progress.paused and ix.progress.done == 0
    ix.resume()
    t.join(30)
    assert not t.is_alive() and len(_docs(db)) == 5


def test_failures_are_listed_and_never_stop_the_rest(tmp_path, write_bad_files):
    folder, db = tmp_path / "docs", tmp_path / "i.sqlite3"
    bad = write_bad_files(folder)
    (folder / "big.txt").write_text("x " * 700_000)                      # 1.4 MB
    (folder / "ok.md").write_text("This one is fine.")
    before = _tree_digest(folder)
    rep = _sync(folder, db, max_mb=1.0)
    reasons = {os.path.basename(f["path"]): f["reason"] for f in rep.failures}
    assert reasons["big.txt"].startswith("too large")
    assert "no text layer" in reasons["scanned.pdf"] and "encrypted" in reasons["locked.pdf"]
    assert "corrupt" in reasons["broken.pdf"] and "corrupt" in reasons["broken.docx"]
    assert rep.added == 1 and _docs(db)[str(folder / "ok.md")]["status"] == "ok"
    assert _tree_digest(folder) == before                                  # the documents are only read
    assert bad.exists()


def test_rebuild_reads_everything_again(tmp_path):
    folder, db = tmp_path / "docs", tmp_path / "i.sqlite3"
    folder.mkdir()
    (folder / "a.md").write_text("alpha")
    _sync(folder, db)
    rep = Indexer([str(folder)], db=db, embed=False).sync(rebuild=True)
    assert rep.added == 1


def test_a_file_still_being_written_waits_for_the_next_round(tmp_path):
    folder, db = tmp_path / "docs", tmp_path / "i.sqlite3"
    folder.mkdir()
    (folder / "fresh.md").write_text("just written")
    rep = Indexer([str(folder)], db=db, embed=False).sync(settle_s=60)
    assert rep.files == 0
    os.utime(folder / "fresh.md", (time.time() - 120, time.time() - 120))
    rep = Indexer([str(folder)], db=db, embed=False).sync(settle_s=60)
    assert rep.added == 1


def test_a_slow_file_is_stopped_at_the_time_limit(tmp_path):
    folder, db = tmp_path / "docs", tmp_path / "i.sqlite3"
    folder.mkdir()
    doc_files.write_pdf(folder / "huge.pdf", [f"page {i} of a very long report" for i in range(40000)])
    (folder / "z-after.md").write_text("read after the slow one")
    rep = _sync(folder, db, timeout_s=2.0)
    assert [f["reason"] for f in rep.failures] == ["reading took longer than 2 s ([data] documents_timeout_s)"]
    assert rep.added == 1
