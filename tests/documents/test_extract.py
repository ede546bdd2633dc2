"""Every supported format is read; every unreadable file gets a reason; tables keep their rows."""
from __future__ import annotations

import pytest

from bestbox.bench import doc_files
from bestbox.data.documents.chunk import chunk_blocks
from bestbox.data.documents.extract import NO_TEXT_LAYER, Block, Unreadable, extract


def test_pdf_pages_have_their_numbers(labelled_docs):
    blocks = extract(labelled_docs / "handbook" / "employee-handbook.pdf")
    assert [b.page for b in blocks] == [1, 2, 3]
    assert "27 days of paid annual leave" in blocks[1].text


@pytest.mark.parametrize("rel, words", [
    ("finance/expense-claims.docx", "within 30 days"),
    ("handbook/onboarding.odt", "building badge"),
    ("travel/travel-policy.md", "0.32 EUR per kilometre"),
    ("travel/per-diem.txt", "45 EUR"),
    ("safety/warehouse-safety.html", "forklift licence"),
])
def test_text_formats(labelled_docs, rel, words):
    blocks = extract(labelled_docs / rel)
    assert words in " ".join(" ".join(b.text.split()) for b in blocks)
    assert all(b.page is None for b in blocks)


def test_html_drops_scripts_and_styles(tmp_path):
    p = tmp_path / "x.html"
    p.write_text("<html><head><style>.a{color:red}</style><script>var secret=1</script></head>"
                 "<body><p>Visible text</p></body></html>")
    text = " ".join(b.text for b in extract(p))
    assert "Visible text" in text and "secret" not in text and "color" not in text


@pytest.mark.parametrize("rel", ["sales/price-list.csv", "sales/suppliers.xlsx", "finance/expense-claims.docx"])
def test_tables_become_markdown_rows(labelled_docs, rel):
    tables = [b for b in extract(labelled_docs / rel) if b.is_table]
    assert tables
    chunk = next(c for c in chunk_blocks(tables))
    lines = chunk.text.splitlines()
    header = next(i for i, ln in enumerate(lines) if ln.startswith("|"))
    assert lines[header + 1].startswith("|---")
    assert all(ln.startswith("| ") and ln.endswith(" |") for ln in lines[header + 2:])


def test_a_long_table_is_never_split_inside_a_row():
    rows = [["id", "name", "note"]] + [[str(i), f"item {i}", "x" * (i % 90)] for i in range(400)]
    chunks = chunk_blocks([Block(rows=rows, title="Sheet1")], limit=600)
    assert len(chunks) > 5
    seen = []
    for c in chunks:
        lines = c.text.splitlines()
        assert lines[0] == "Table Sheet1" and lines[1] == "| id | name | note |"   # every chunk has the header
        seen += [ln for ln in lines[3:]]
    assert seen == [f"| {i} | item {i} | {'x' * (i % 90)} |" for i in range(400)]   # every row whole, once


@pytest.mark.parametrize("name, reason", [
    ("scanned.pdf", NO_TEXT_LAYER),
    ("locked.pdf", "encrypted PDF"),
    ("broken.pdf", "corrupt PDF"),
    ("broken.docx", "corrupt DOCX"),
    ("binary.txt", "binary content"),
])
def test_unreadable_files_name_their_reason(labelled_docs, name, reason):
    with pytest.raises(Unreadable) as e:
        extract(labelled_docs / "bad" / name)
    assert reason in str(e.value)


def test_pdf_with_an_empty_user_password_opens(tmp_path):
    from pypdf import PdfReader, PdfWriter

    src = doc_files.write_pdf(tmp_path / "a.pdf", ["owner-protected text"])
    w = PdfWriter(clone_from=PdfReader(src))
    w.encrypt(user_password="", owner_password="owner", algorithm="RC4-128")
    with open(tmp_path / "b.pdf", "wb") as f:
        w.write(f)
    assert "owner-protected text" in extract(tmp_path / "b.pdf")[0].text
