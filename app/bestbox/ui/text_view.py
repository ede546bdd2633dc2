"""A read-only rich-text view that is as tall as its content (no inner scroll bar), for bubbles."""
from __future__ import annotations

from PySide6.QtCore import QSizeF, Qt
from PySide6.QtWidgets import QFrame, QSizePolicy, QTextBrowser


class AutoTextView(QTextBrowser):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setOpenExternalLinks(True)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setStyleSheet("QTextBrowser { background: transparent; border: 0; }")
        self.viewport().setAutoFillBackground(False)
        self.document().setDocumentMargin(2)
        self.document().documentLayout().documentSizeChanged.connect(self._fit)
        self.setFixedHeight(24)

    def set_markdown(self, text: str) -> None:
        """Build the styled document off-view, then swap it in: one layout instead of one per
        format change."""
        from . import markdown

        old = self.document()
        ours = old.parent() is self  # QTextEdit deletes only its own first document itself
        doc = markdown.build(text, old)
        doc.setParent(self)
        w = self.viewport().width()
        if w > 0:
            doc.setTextWidth(w)
        self.setDocument(doc)
        doc.documentLayout().documentSizeChanged.connect(self._fit)
        if ours:
            old.deleteLater()
        self._fit()

    def _fit(self, size: QSizeF | None = None) -> None:
        h = int(self.document().size().height() + 0.999) + 2
        if self.horizontalScrollBar().isVisible():
            h += self.horizontalScrollBar().height()
        if h != self.height():
            self.setFixedHeight(max(h, 20))

    def resizeEvent(self, e) -> None:  # noqa: N802
        super().resizeEvent(e)
        w = self.viewport().width()
        if w > 0 and abs(self.document().textWidth() - w) > 0.5:
            self.document().setTextWidth(w)
        self._fit()

    def wheelEvent(self, e) -> None:  # noqa: N802
        e.ignore()  # let the chat's scroll area scroll
