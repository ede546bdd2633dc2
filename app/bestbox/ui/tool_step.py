"""A tool call as a collapsible step: its name and a one-line result; arguments and result inside.
A result with rows also shows them as a table (result_table) right under the step's line."""
from __future__ import annotations

import json

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QLabel, QSizePolicy, QToolButton, QVBoxLayout, QWidget

from . import theme

_MAX_DETAIL = 4000


def _json(v) -> str:
    try:
        s = json.dumps(v, indent=2, ensure_ascii=False, default=str)
    except (TypeError, ValueError):
        s = str(v)
    return s if len(s) <= _MAX_DETAIL else s[:_MAX_DETAIL] + "\n… (cut)"


class ToolStep(QFrame):
    def __init__(self, name: str, arguments=None, parent: QWidget | None = None):
        super().__init__(parent)
        self.name = name
        self.arguments = arguments
        self.finished = False
        self.setObjectName("toolStep")
        self.setStyleSheet(f"#toolStep {{ background: #f7f9fb; border: 1px solid {theme.BORDER}; border-radius: 6px; }}")
        lay = QVBoxLayout(self)
        lay.setContentsMargins(8, 3, 8, 3)
        lay.setSpacing(2)
        self.header = QToolButton(self)
        self.header.setCheckable(True)
        self.header.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.header.setArrowType(Qt.ArrowType.RightArrow)
        self.header.setStyleSheet("QToolButton { border: 0; background: transparent; font-size: 9pt; padding: 2px 0; }")
        self.header.setCursor(Qt.CursorShape.PointingHandCursor)
        self.header.toggled.connect(self._toggle)
        # The one-line summary must not make the chat column wider than the window: it is cut instead.
        self.header.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        lay.addWidget(self.header)
        self.detail = QLabel(self)
        self.detail.setFont(theme.mono_font())
        self.detail.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.detail.setWordWrap(True)
        self.detail.setStyleSheet(f"color: {theme.TEXT}; padding: 2px 0 6px 18px;")
        self.detail.hide()
        lay.addWidget(self.detail)
        self._summary = "running…"
        self._result_text = ""
        self.table = None
        self._refresh()

    def set_waiting(self, text: str) -> None:
        """Before the tool runs (a write waits for the confirmation card above it)."""
        if not self.finished:
            self._summary = text
            self._refresh()

    def set_result(self, rows=None, summary: str = "", error: str | None = None, result=None) -> None:
        self.finished = True
        if error:
            self._summary = f"failed: {error}"
        else:
            bits = []
            if rows is not None and not (summary or "").lstrip().startswith(f"{rows} row"):
                bits.append(f"{rows} row{'s' if rows != 1 else ''}")
            if summary:
                bits.append(summary)
            self._summary = " · ".join(bits) or "done"
        parts = []
        if summary:
            parts.append(summary)
        if error:
            parts.append(f"Error: {error}")
        if result not in (None, {}, []):
            parts.append(_json(result))
        self._result_text = "\n".join(parts)
        self._refresh()
        self._show_table(result if not error else None)

    def _show_table(self, result) -> None:
        from .result_table import ResultTable, shows_table

        if self.table is not None or not shows_table(result):
            return
        self.table = ResultTable(result, self)
        self.layout().addWidget(self.table)

    def _refresh(self) -> None:
        summary = self._summary if len(self._summary) < 110 else self._summary[:107] + "…"
        self.header.setText(f"  Tool  {self.name}  —  {summary}")
        colour = theme.ERROR_TEXT if self._summary.startswith("failed") else theme.MUTED
        self.header.setStyleSheet(
            f"QToolButton {{ border: 0; background: transparent; font-size: 9pt; padding: 2px 0; color: {colour}; }}")
        args = _json(self.arguments) if self.arguments not in (None, {}, "") else "(none)"
        text = f"arguments:\n{args}"
        if self._result_text:
            text += f"\n\nresult:\n{self._result_text}"
        self.detail.setText(text)

    def _toggle(self, on: bool) -> None:
        self.header.setArrowType(Qt.ArrowType.DownArrow if on else Qt.ArrowType.RightArrow)
        self.detail.setVisible(on)

    def expanded(self) -> bool:
        return self.detail.isVisible()
