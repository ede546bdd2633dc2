"""Retrieval: keyword (BM25), embeddings, fused (RRF); pages; the mode is said; the answer threshold."""
from __future__ import annotations

from bestbox.bench import retrieval_set as RS
from bestbox.data.documents import Searcher, answers
from bestbox.data.documents.search import RRF_K


def test_index_report(indexed):
    _db, rep = indexed
    assert rep.added == len(RS.PDF_PAGES) + len(RS.TEXT_FILES) + len(RS.DOCX) + len(RS.ODT) + len(RS.TABLES) + len(RS.XLSX)
    assert rep.failed == 5 and rep.embedded > 0


def test_fused_search_finds_the_page(indexed):
    db, _ = indexed
    s = Searcher(db)
    try:
        assert s.mode == "fused" and "fused" in s.mode_note()
        hit = s.search("How many days of paid annual leave do employees get?")[0]
        assert hit.path.endswith("employee-handbook.pdf") and hit.page == 2
        assert "27 days" in hit.snippet
        assert hit.score <= 2 / (RRF_K + 1) + 1e-9          # an RRF score
    finally:
        s.close()


def test_embeddings_find_what_keywords_miss(indexed):
    db, _ = indexed
    s = Searcher(db)
    try:
        q = "Where do we meet if the building is burning?"     # no content word in common with the passage
        kw = [h.path for h in s.search(q, 5, "keyword")]
        em = [h.path for h in s.search(q, 5, "embedding")]
        assert not any(p.endswith("warehouse-safety.html") for p in kw[:1])
        assert em[0].endswith("warehouse-safety.html")
    finally:
        s.close()


def test_keyword_only_is_said_loudly(indexed):
    db, _ = indexed
    s = Searcher(db, use_embeddings=False)
    try:
        assert s.mode == "keyword-only" and s.mode_note().startswith("KEYWORD-ONLY")
        hits = s.search("forklift licence")
        assert hits[0].path.endswith("warehouse-safety.html") and hits[0].embedding_rank is None
    finally:
        s.close()


def test_fts_syntax_in_a_query_is_just_words(indexed):
    db, _ = indexed
    s = Searcher(db, use_embeddings=False)
    try:
        for q in ['"unbalanced', "NEAR(a b)", "text:*", "AND OR NOT", "-- ;"]:
            s.search(q)                                         # never raises
    finally:
        s.close()


def test_answer_threshold_separates_unanswerable_questions(indexed):
    db, _ = indexed
    s = Searcher(db)
    try:
        for q in RS.UNANSWERABLE:
            hits = s.search(q, 1)
            assert not hits or not answers(hits[0]), q
        assert answers(s.search("What is the guest wifi password?", 1)[0])
    finally:
        s.close()
