"""Markdown into a QTextDocument (GitHub dialect: tables, fenced code), then tidy its tables and
code blocks so they read well in a chat bubble."""
from __future__ import annotations

from PySide6.QtGui import QBrush, QColor, QTextBlockFormat, QTextCursor, QTextDocument, QTextFormat, QTextFrameFormat, QTextTable

from . import theme

_FEATURES = QTextDocument.MarkdownFeature.MarkdownDialectGitHub


def build(text: str, like: QTextDocument | None = None) -> QTextDocument:
    """A new, styled document that no view lays out yet: swapping it into a view costs one layout."""
    doc = QTextDocument()
    if like is not None:
        doc.setDefaultFont(like.defaultFont())
        doc.setDocumentMargin(like.documentMargin())
        doc.setDefaultTextOption(like.defaultTextOption())
    render(doc, text)
    return doc


def render(doc: QTextDocument, text: str) -> None:
    doc.setMarkdown(text, _FEATURES)
    # One edit block: the layout runs once at the end, not after every format change (a 250-row
    # table cost 110 ms of relayouts otherwise).
    cur = QTextCursor(doc)
    cur.beginEditBlock()
    try:
        _style_tables(doc)
        _style_code(doc)
    finally:
        cur.endEditBlock()


def _style_tables(doc: QTextDocument) -> None:
    root = doc.rootFrame()
    for frame in root.childFrames():
        if isinstance(frame, QTextTable):
            fmt = frame.format()
            fmt.setBorder(1)
            fmt.setBorderStyle(QTextFrameFormat.BorderStyle.BorderStyle_Solid)
            fmt.setBorderBrush(QBrush(QColor(theme.BORDER)))
            fmt.setBorderCollapse(True)
            fmt.setCellPadding(5)
            fmt.setCellSpacing(0)
            fmt.setTopMargin(6)
            fmt.setBottomMargin(6)
            frame.setFormat(fmt)
            # Header row: a faint background.
            if frame.rows() > 0:
                for c in range(frame.columns()):
                    cell = frame.cellAt(0, c)
                    cf = cell.format()
                    cf.setBackground(QColor("#f1f4f8"))
                    cell.setFormat(cf)


def _style_code(doc: QTextDocument) -> None:
    block = doc.begin()
    while block.isValid():
        bf = block.blockFormat()
        if bf.hasProperty(QTextFormat.Property.BlockCodeFence) or bf.hasProperty(QTextFormat.Property.BlockCodeLanguage):
            cur = QTextCursor(block)
            nf = QTextBlockFormat(bf)
            nf.setBackground(QColor("#f3f5f8"))
            nf.setLeftMargin(4)
            cur.setBlockFormat(nf)
            cf = cur.blockCharFormat()
            cf.setFont(theme.mono_font())
        block = block.next()


def to_plain(text: str) -> str:
    doc = QTextDocument()
    doc.setMarkdown(text, _FEATURES)
    return doc.toPlainText()
