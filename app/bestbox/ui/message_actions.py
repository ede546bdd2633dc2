"""What a user can do with a message: copy an answer, regenerate the last one, edit a question and
send it again; and the mark on answers that came from the bundled demo model."""
from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QHBoxLayout, QPlainTextEdit, QPushButton, QVBoxLayout, QWidget

from . import theme
from .badges import Badge

DEMO_TIP = ("Answered by the bundled demo model (SmolLM2-135M, a tiny model for trying the app): answers are "
            "often wrong. Point the servers at real models in Settings.")


def demo_badge(parent: QWidget | None = None) -> Badge:
    b = Badge("demo model", "warn", DEMO_TIP, parent)
    b.setObjectName("demoBadge")
    return b


def unverified_badge(parent: QWidget | None = None) -> Badge:
    b = Badge("not from company data", "warn", "No tool looked this up: the answer comes from the model alone, "
              "not from the company's records. Check it before relying on it.", parent)
    b.setObjectName("unverifiedBadge")
    return b


def _flat(text: str, tip: str, parent: QWidget) -> QPushButton:
    b = QPushButton(text, parent)
    b.setProperty("flat", True)
    b.setToolTip(tip)
    b.setCursor(Qt.CursorShape.PointingHandCursor)
    b.setStyleSheet(f"QPushButton {{ color: {theme.MUTED}; padding: 1px 6px; font-size: 8.5pt; }}"
                    f"QPushButton:hover {{ color: {theme.ACCENT}; }}")
    return b


class AnswerActions(QWidget):
    """Copy, Regenerate and Speak under an answer."""

    regenerate = Signal()
    speak = Signal()  # read the answer aloud (or stop reading it)

    def __init__(self, text_of, parent: QWidget | None = None):
        super().__init__(parent)
        self._text_of = text_of
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(2)
        self.copy_btn = _flat("Copy", "Copy the answer's text", self)
        self.copy_btn.clicked.connect(self.copy)
        self.regen_btn = _flat("Regenerate", "Ask the same question again (replaces this answer)", self)
        self.regen_btn.clicked.connect(self.regenerate)
        self.speak_btn = _flat("Speak", "Read this answer aloud (click again to stop)", self)
        self.speak_btn.setObjectName("speakButton")
        self.speak_btn.clicked.connect(self.speak)
        row.addWidget(self.copy_btn)
        row.addWidget(self.regen_btn)
        row.addWidget(self.speak_btn)
        row.addStretch(1)

    def set_speaking(self, on: bool) -> None:
        self.speak_btn.setText("\u25A0 Stop" if on else "Speak")
        self.speak_btn.setToolTip("Stop reading" if on else "Read this answer aloud (click again to stop)")

    def copy(self) -> None:
        QGuiApplication.clipboard().setText(self._text_of() or "")
        self.copy_btn.setText("Copied")


class UserActions(QWidget):
    """Edit (and Copy) under a question; Edit opens an editor in place, Send resends it."""

    resend = Signal(str)

    def __init__(self, text_of, parent: QWidget | None = None):
        super().__init__(parent)
        self._text_of = text_of
        col = QVBoxLayout(self)
        col.setContentsMargins(0, 0, 0, 0)
        col.setSpacing(4)
        self.editor = QPlainTextEdit(self)
        self.editor.setFixedHeight(70)
        self.editor.hide()
        col.addWidget(self.editor)
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(2)
        row.addStretch(1)
        self.copy_btn = _flat("Copy", "Copy the question", self)
        self.copy_btn.clicked.connect(lambda: QGuiApplication.clipboard().setText(self._text_of() or ""))
        self.edit_btn = _flat("Edit", "Change the question and send it again (replaces the answers after it)", self)
        self.edit_btn.clicked.connect(self.start_edit)
        self.send_btn = _flat("Send", "Send the edited question", self)
        self.send_btn.clicked.connect(self._send)
        self.cancel_btn = _flat("Cancel", "Keep the question as it was", self)
        self.cancel_btn.clicked.connect(self.stop_edit)
        for b in (self.copy_btn, self.edit_btn, self.send_btn, self.cancel_btn):
            row.addWidget(b)
        self.send_btn.hide()
        self.cancel_btn.hide()
        col.addLayout(row)

    @property
    def editing(self) -> bool:
        return self.editor.isVisible()

    def start_edit(self) -> None:
        self.editor.setPlainText(self._text_of() or "")
        self._show_editor(True)
        self.editor.setFocus()

    def stop_edit(self) -> None:
        self._show_editor(False)

    def _show_editor(self, on: bool) -> None:
        self.editor.setVisible(on)
        self.send_btn.setVisible(on)
        self.cancel_btn.setVisible(on)
        self.edit_btn.setVisible(not on)
        self.copy_btn.setVisible(not on)

    def _send(self) -> None:
        text = self.editor.toPlainText().strip()
        if not text:
            return
        self.stop_edit()
        self.resend.emit(text)
