"""A data-changing action waits here until the user confirms or cancels it."""
from __future__ import annotations

import asyncio

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from . import theme


class ConfirmCard(QFrame):
    answered = Signal(bool)

    def __init__(self, tool: str, arguments, preview: str, reply: asyncio.Future | None,
                 parent: QWidget | None = None):
        super().__init__(parent)
        self.reply = reply
        self.tool = tool
        self.setObjectName("confirmCard")
        self.setStyleSheet(f"#confirmCard {{ background: {theme.NOTE_BG}; border: 1px solid {theme.NOTE_BORDER};"
                           " border-radius: 8px; }")
        lay = QVBoxLayout(self)
        lay.setContentsMargins(12, 10, 12, 10)
        lay.setSpacing(6)
        title = QLabel("<b>Confirm this change</b>", self)
        lay.addWidget(title)
        self.preview = QLabel(preview or f"Run {tool}?", self)
        self.preview.setWordWrap(True)
        self.preview.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        lay.addWidget(self.preview)
        self.detail = detail = QLabel(plain_arguments(tool, arguments), self)
        detail.setWordWrap(True)
        detail.setStyleSheet(f"color: {theme.MUTED};")
        lay.addWidget(detail)
        row = QHBoxLayout()
        row.setSpacing(8)
        self.confirm_btn = QPushButton("Confirm", self)
        self.confirm_btn.setProperty("primary", True)
        self.cancel_btn = QPushButton("Cancel", self)
        self.status = QLabel("Nothing changes until you confirm.", self)
        self.status.setStyleSheet(f"color: {theme.MUTED};")
        row.addWidget(self.confirm_btn)
        row.addWidget(self.cancel_btn)
        row.addSpacing(6)
        row.addWidget(self.status, 1)
        lay.addLayout(row)
        self.confirm_btn.clicked.connect(lambda: self.answer(True))
        self.cancel_btn.clicked.connect(lambda: self.answer(False))
        if reply is not None:
            reply.add_done_callback(self._reply_done)

    def answer(self, ok: bool) -> None:
        if self.reply is not None and not self.reply.done():
            self.reply.set_result(ok)
        self._close(("Confirmed — running it…" if ok else "Cancelled — nothing was changed."))
        self.answered.emit(ok)

    def _reply_done(self, fut: asyncio.Future) -> None:
        if fut.cancelled():
            self._close("The turn was stopped — nothing was changed.")

    def _close(self, text: str) -> None:
        self.confirm_btn.setEnabled(False)
        self.cancel_btn.setEnabled(False)
        self.status.setText(text)


def plain_arguments(tool: str, arguments) -> str:
    """The call in words ("book room — room: Cedar · date: 2026-11-30"), never as JSON."""
    name = tool.replace("_", " ")
    if not isinstance(arguments, dict) or not arguments:
        return name
    parts = [f"{k.replace('_', ' ')}: {', '.join(map(str, v)) if isinstance(v, list) else v}"
             for k, v in arguments.items() if v not in (None, "")]
    return f"{name} — " + " · ".join(parts)[:400]
