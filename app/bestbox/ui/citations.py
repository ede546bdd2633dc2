"""Sources under an answer: one link per citation; a click opens the file with the desktop's
default application, a PDF at its page where the viewer honours `#page=N`. Nothing is written."""
from __future__ import annotations

import html
from pathlib import Path

from PySide6.QtCore import Qt, QUrl
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QLabel, QWidget

from . import theme


def citation_url(c: dict) -> QUrl:
    url = QUrl.fromLocalFile(str(c.get("path", "")))
    if c.get("page") and str(c.get("path", "")).lower().endswith(".pdf"):
        url.setFragment(f"page={int(c['page'])}")
    return url


class CitationList(QLabel):
    """"Sources: [1] handbook.pdf p. 2 · [2] travel-policy.md", each a link."""

    def __init__(self, citations: list[dict], parent: QWidget | None = None, *, opener=None):
        super().__init__(parent)
        self.citations = list(citations)
        self._open = opener or QDesktopServices.openUrl
        links = []
        for i, c in enumerate(self.citations):
            name = html.escape(Path(str(c.get("path", ""))).name)
            page = f" p.&nbsp;{int(c['page'])}" if c.get("page") else ""
            tip = html.escape(str(c.get("snippet", ""))[:200])
            links.append(f"<a href='{i}' title='{tip}' style='color:{theme.ACCENT}; text-decoration:none'>"
                         f"[{c.get('id', i + 1)}]&nbsp;{name}{page}</a>")
        self.setText(f"<span style='color:{theme.MUTED}'>Sources:</span> " + " &nbsp;·&nbsp; ".join(links))
        self.setWordWrap(True)
        self.setTextFormat(Qt.TextFormat.RichText)
        self.setTextInteractionFlags(Qt.TextInteractionFlag.LinksAccessibleByMouse)
        self.setOpenExternalLinks(False)
        self.linkActivated.connect(self.open_citation)

    def open_citation(self, index: str | int) -> QUrl:
        url = citation_url(self.citations[int(index)])
        self._open(url)
        return url
