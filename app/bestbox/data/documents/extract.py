"""Text out of the user's files: one reader per format, each returning Blocks (text or a table,
with the 1-based page for paged formats). A file that cannot be read raises Unreadable with a
reason a person understands; nothing here writes to the file.

Formats: PDF (its text layer, pypdf), DOCX and ODT (the XML inside the zip, stdlib), Markdown and
plain text, HTML (stdlib parser), CSV and XLSX (openpyxl) as tables with row and cell boundaries.
"""
from __future__ import annotations

import csv
import io
import zipfile
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from xml.etree import ElementTree as ET

TEXT_SUFFIXES = {".txt", ".md", ".markdown", ".text", ".rst", ".log"}
SUFFIXES = TEXT_SUFFIXES | {".pdf", ".docx", ".odt", ".html", ".htm", ".csv", ".xlsx"}
# Formats whose readers may hang or use much memory on a hostile file: read them in a child
# process that can be killed at the per-file time limit.
ISOLATED = {".pdf", ".docx", ".odt", ".xlsx"}
NO_TEXT_LAYER = "not searchable: no text layer (scanned?)"


class Unreadable(Exception):
    """The file cannot be indexed; str(e) is the reason shown to the user."""


@dataclass
class Block:
    text: str = ""
    page: int | None = None
    rows: list[list[str]] = field(default_factory=list)   # a table: rows of cells, first row the header
    title: str = ""                                        # a table's sheet name

    @property
    def is_table(self) -> bool:
        return bool(self.rows)


def supported(path: Path) -> bool:
    return path.suffix.lower() in SUFFIXES and not path.name.startswith(("~$", ".~lock"))


def extract(path: str | Path) -> list[Block]:
    path = Path(path)
    suffix = path.suffix.lower()
    reader = _READERS.get(suffix, _text) if suffix in SUFFIXES else None
    if reader is None:
        raise Unreadable(f"unsupported format '{suffix}'")
    try:
        blocks = reader(path)
    except Unreadable:
        raise
    except MemoryError:
        raise Unreadable("too large to read in memory") from None
    except (zipfile.BadZipFile, ET.ParseError, KeyError) as e:
        raise Unreadable(f"corrupt {suffix[1:].upper()} file: {e}") from None
    except Exception as e:  # a reader bug or a malformed file must not stop the other files
        raise Unreadable(f"cannot read {suffix[1:].upper()}: {type(e).__name__}: {str(e)[:200]}") from None
    if not any(b.text.strip() or b.rows for b in blocks):
        raise Unreadable("no text in the file")
    return blocks


# PDF ----------------------------------------------------------------------------------------------

def _pdf(path: Path) -> list[Block]:
    import logging

    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    logging.getLogger("pypdf").setLevel(logging.ERROR)  # malformed-but-readable files warn a lot
    try:
        reader = PdfReader(str(path), strict=False)
        if reader.is_encrypted:
            try:  # many PDFs carry only an owner password; an empty user password opens them
                ok = reader.decrypt("")
            except Exception:
                ok = 0
            if not ok:
                raise Unreadable("encrypted PDF (needs a password)")
        blocks = [Block(page.extract_text() or "", page=i) for i, page in enumerate(reader.pages, start=1)]
    except Unreadable:
        raise
    except (PdfReadError, ValueError, TypeError, OSError) as e:
        raise Unreadable(f"corrupt PDF: {str(e)[:200]}") from None
    if blocks and not any(b.text.strip() for b in blocks):
        raise Unreadable(NO_TEXT_LAYER)
    return blocks


# DOCX / ODT -----------------------------------------------------------------------------------------

_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


def _docx_par(p: ET.Element) -> str:
    out = []
    for el in p.iter():
        if el.tag == _W + "t" and el.text:
            out.append(el.text)
        elif el.tag == _W + "tab":
            out.append("\t")
        elif el.tag in (_W + "br", _W + "cr"):
            out.append("\n")
    return "".join(out)


def _docx(path: Path) -> list[Block]:
    with zipfile.ZipFile(path) as z:
        if "word/document.xml" not in z.namelist():
            if "EncryptedPackage" in z.namelist():
                raise Unreadable("encrypted DOCX (needs a password)")
            raise Unreadable("corrupt DOCX: no word/document.xml")
        root = ET.fromstring(z.read("word/document.xml"))
    body = root.find(_W + "body")
    blocks: list[Block] = []
    paras: list[str] = []
    for el in list(body) if body is not None else []:
        if el.tag == _W + "p":
            paras.append(_docx_par(el))
        elif el.tag == _W + "tbl":
            if paras:
                blocks.append(Block("\n\n".join(paras)))
                paras = []
            rows = [[" ".join(_docx_par(p) for p in tc.iter(_W + "p")).strip() for tc in tr.findall(_W + "tc")]
                    for tr in el.findall(_W + "tr")]
            blocks.append(Block(rows=[r for r in rows if any(r)]))
    if paras:
        blocks.append(Block("\n\n".join(paras)))
    return blocks


_TEXT = "{urn:oasis:names:tc:opendocument:xmlns:text:1.0}"
_TABLE = "{urn:oasis:names:tc:opendocument:xmlns:table:1.0}"
_OFFICE = "{urn:oasis:names:tc:opendocument:xmlns:office:1.0}"


def _odt_text(el: ET.Element) -> str:
    out = [el.text or ""]
    for ch in el:
        if ch.tag == _TEXT + "s":
            out.append(" " * int(ch.get(_TEXT + "c", "1")))
        elif ch.tag == _TEXT + "tab":
            out.append("\t")
        elif ch.tag == _TEXT + "line-break":
            out.append("\n")
        else:
            out.append(_odt_text(ch))
        out.append(ch.tail or "")
    return "".join(out)


def _odt(path: Path) -> list[Block]:
    with zipfile.ZipFile(path) as z:
        if "content.xml" not in z.namelist():
            raise Unreadable("corrupt ODT: no content.xml")
        manifest = z.read("META-INF/manifest.xml") if "META-INF/manifest.xml" in z.namelist() else b""
        if b"encryption-data" in manifest:
            raise Unreadable("encrypted ODT (needs a password)")
        root = ET.fromstring(z.read("content.xml"))
    blocks: list[Block] = []
    paras: list[str] = []

    def walk(el: ET.Element) -> None:
        for ch in el:
            if ch.tag in (_TEXT + "p", _TEXT + "h"):
                paras.append(_odt_text(ch))
            elif ch.tag == _TABLE + "table":
                if paras:
                    blocks.append(Block("\n\n".join(paras)))
                    paras.clear()
                rows = [[" ".join(_odt_text(p) for p in cell.iter(_TEXT + "p")).strip()
                         for cell in row.findall(_TABLE + "table-cell")] for row in ch.iter(_TABLE + "table-row")]
                blocks.append(Block(rows=[r for r in rows if any(r)]))
            else:
                walk(ch)

    body = root.find(_OFFICE + "body")
    walk(body if body is not None else root)
    if paras:
        blocks.append(Block("\n\n".join(paras)))
    return blocks


# Text, HTML -----------------------------------------------------------------------------------------

def _decode(data: bytes) -> str:
    if b"\x00" in data[:8192] and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise Unreadable("binary content, not text")
    for enc in ("utf-8-sig", "utf-16") if data.startswith((b"\xff\xfe", b"\xfe\xff")) else ("utf-8-sig",):
        try:
            return data.decode(enc)
        except UnicodeDecodeError:
            pass
    return data.decode("cp1252", errors="replace")


def _text(path: Path) -> list[Block]:
    return [Block(_decode(path.read_bytes()))]


class _HTMLText(HTMLParser):
    _SKIP = {"script", "style", "noscript", "template", "head"}
    _BREAK = {"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "section", "article", "table",
              "ul", "ol", "pre", "blockquote", "title"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in self._SKIP:
            self.skip += 1
        elif tag in self._BREAK:
            self.out.append("\n\n")
        elif tag in ("td", "th"):
            self.out.append(" | ")

    def handle_endtag(self, tag):
        if tag in self._SKIP:
            self.skip = max(0, self.skip - 1)
        elif tag in self._BREAK:
            self.out.append("\n\n")

    def handle_data(self, data):
        if not self.skip:
            self.out.append(data)


def _html(path: Path) -> list[Block]:
    p = _HTMLText()
    p.feed(_decode(path.read_bytes()))
    p.close()
    text = "".join(p.out)
    paras = [" ".join(x.split()) for x in text.split("\n\n")]
    return [Block("\n\n".join(x for x in paras if x))]


# Tables ---------------------------------------------------------------------------------------------

def _csv(path: Path) -> list[Block]:
    text = _decode(path.read_bytes())
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t|")
    except csv.Error:
        dialect = csv.excel
    rows = [[c.strip() for c in r] for r in csv.reader(io.StringIO(text), dialect)]
    return [Block(rows=[r for r in rows if any(r)], title=path.stem)]


def _xlsx(path: Path) -> list[Block]:
    import openpyxl

    if not zipfile.is_zipfile(path):
        with open(path, "rb") as f:
            if f.read(8) == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":  # OLE: how Excel stores encrypted files
                raise Unreadable("encrypted XLSX (needs a password)")
        raise Unreadable("corrupt XLSX: not a zip file")
    wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    try:
        blocks = []
        for ws in wb.worksheets:
            rows = [["" if v is None else str(v).strip() for v in r] for r in ws.iter_rows(values_only=True)]
            rows = [r for r in rows if any(r)]
            if rows:
                blocks.append(Block(rows=rows, title=ws.title))
        return blocks
    finally:
        wb.close()


_READERS = {".pdf": _pdf, ".docx": _docx, ".odt": _odt, ".html": _html, ".htm": _html, ".csv": _csv,
            ".xlsx": _xlsx}
