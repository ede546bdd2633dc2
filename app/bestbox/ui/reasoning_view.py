"""A thinking model's reasoning, shown apart from the answer: collapsed under one line that says
how long the model thought, the text inside. It is never part of the answer (copy, history)."""
from __future__ import annotations

import time

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QLabel, QToolButton, QVBoxLayout, QWidget

from . import theme

_MAX_CHARS = 20000  # a runaway reasoning stream must not grow the label without bound


class ReasoningView(QFrame):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("reasoning")
        self.setStyleSheet(f"#reasoning {{ border-left: 3px solid {theme.BORDER}; }}")
        lay = QVBoxLayout(self)
        lay.setContentsMargins(8, 0, 0, 0)
        lay.setSpacing(2)
        self.header = QToolButton(self)
        self.header.setCheckable(True)
        self.header.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.header.setArrowType(Qt.ArrowType.RightArrow)
        self.header.setStyleSheet(f"QToolButton {{ border: 0; background: transparent; color: {theme.MUTED}; }}")
        self.header.setCursor(Qt.CursorShape.PointingHandCursor)
        self.header.toggled.connect(self._toggle)
        lay.addWidget(self.header)
        self.body = QLabel(self)
        self.body.setWordWrap(True)
        self.body.setTextFormat(Qt.TextFormat.PlainText)
        self.body.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.body.setStyleSheet(f"color: {theme.MUTED};")
        self.body.hide()
        lay.addWidget(self.body)
        self._text = ""
        self._t0 = time.monotonic()
        self.done_ms: float | None = None
        self.header.setText("Thinking…")

    @property
    def text(self) -> str:
        return self._text

    def append(self, piece: str) -> None:
        if len(self._text) < _MAX_CHARS:
            self._text += piece
            if not self.body.isHidden():
                self.body.setText(self._text)

    def finish(self, ms: float | None = None) -> None:
        """The answer started (or the turn ended): say how long the model thought."""
        if self.done_ms is None:
            self.done_ms = ms if ms is not None else (time.monotonic() - self._t0) * 1000.0
        self.header.setText(f"Thought for {self.done_ms / 1000:.1f} s")

    def set_time(self, ms: float) -> None:
        """The trace's own reasoning time, once the turn is done."""
        self.done_ms = None
        self.finish(ms)

    def _toggle(self, on: bool) -> None:
        self.header.setArrowType(Qt.ArrowType.DownArrow if on else Qt.ArrowType.RightArrow)
        if on:
            self.body.setText(self._text)
        self.body.setVisible(on)
