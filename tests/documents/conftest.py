"""Document fixtures: the bench's labelled set (a fictional firm's files in every format), plus
unreadable files, all written by the project's own writers (bestbox.bench.doc_files)."""
from __future__ import annotations

import pytest

from bestbox.bench import doc_files, retrieval_set


def write_bad_files(root):
    bad = root / "bad"
    bad.mkdir(parents=True, exist_ok=True)
    doc_files.write_pdf(bad / "scanned.pdf", ["invisible", "pages"], text_layer=False)
    doc_files.write_encrypted_pdf(bad / "locked.pdf", ["salary table"])
    (bad / "broken.pdf").write_bytes(b"%PDF-1.4\n1 0 obj << /Type /Catalog >>\ngarbage without xref\n")
    (bad / "broken.docx").write_bytes(b"PK\x03\x04 this is not really a zip")
    (bad / "binary.txt").write_bytes(b"\x00\x01\x02 not text \x00" * 100)
    return bad


@pytest.fixture(name="write_bad_files")
def _write_bad_files():
    return write_bad_files


@pytest.fixture(scope="session")
def labelled_docs(tmp_path_factory):
    root = tmp_path_factory.mktemp("docs")
    retrieval_set.write_set(root / "company")
    write_bad_files(root / "company")
    return root / "company"


@pytest.fixture(scope="session")
def indexed(labelled_docs, tmp_path_factory):
    """The labelled set indexed once, with embeddings (the slow part: ~20 passages)."""
    from bestbox.data.documents import Indexer

    db = tmp_path_factory.mktemp("index") / "docs.sqlite3"
    report = Indexer([str(labelled_docs)], db=db).sync()
    return db, report
