"""The input row: a growing text box (Enter sends, Shift+Enter is a new line, hold Space in an empty
box to talk), the microphone button with its level halo, and Send/Stop."""
from __future__ import annotations

from PySide6.QtCore import QRectF, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QPainter, QPen
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPlainTextEdit, QPushButton, QSizePolicy, QToolButton, QVBoxLayout, QWidget

from . import icons, theme


class InputBox(QPlainTextEdit):
    send_requested = Signal()
    hold_talk_started = Signal()
    hold_talk_ended = Signal()
    escape_pressed = Signal()

    MIN_LINES, MAX_LINES = 1, 7

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setPlaceholderText("Ask about vendors, customers, incidents, policies…")
        self.setTabChangesFocus(True)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
        self.setStyleSheet(f"QPlainTextEdit {{ border: 1px solid #cfd5dd; border-radius: 10px; padding: 6px 8px;"
                           f" background: {theme.PANEL}; }} QPlainTextEdit:focus {{ border-color: {theme.ACCENT}; }}")
        self.document().setDocumentMargin(2)
        self.textChanged.connect(self._grow)
        self.holding_space = False
        self._grow()

    def _grow(self) -> None:
        lines = max(self.MIN_LINES, min(self.MAX_LINES, int(self.document().size().height())))
        lh = self.fontMetrics().lineSpacing()
        self.setFixedHeight(max(40, int(lines * lh + 2 * self.document().documentMargin() + 18)))

    def keyPressEvent(self, e) -> None:  # noqa: N802
        key, mods = e.key(), e.modifiers()
        if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            if mods & Qt.KeyboardModifier.ShiftModifier:
                self.insertPlainText("\n")
            else:
                self.send_requested.emit()
            return
        if key == Qt.Key.Key_Escape:
            self.escape_pressed.emit()
            return
        if key == Qt.Key.Key_Space and not mods & Qt.KeyboardModifier.ControlModifier:
            if self.holding_space:
                return  # auto-repeat while held
            if not self.toPlainText().strip() and not e.isAutoRepeat():
                self.holding_space = True
                self.hold_talk_started.emit()
                return
        super().keyPressEvent(e)

    def keyReleaseEvent(self, e) -> None:  # noqa: N802
        if e.key() == Qt.Key.Key_Space and self.holding_space:
            if e.isAutoRepeat():
                return
            self.holding_space = False
            self.hold_talk_ended.emit()
            return
        super().keyReleaseEvent(e)


class MicButton(QToolButton):
    """Round microphone button. Press and hold to talk (release ends the turn; pauses never do); a
    short click starts a turn that voice activity detection ends, and a click while recording ends
    it. While recording it turns red and a halo follows the input level."""

    hold_started = Signal()
    hold_ended = Signal()
    clicked_toggle = Signal()

    HOLD_MS = 220  # pressed longer than this: hold-to-talk

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setFixedSize(QSize(40, 40))
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.setToolTip("Talk: click, speak, and pause — or hold while you speak "
                        "(also: hold Space in an empty box, Ctrl+Space)")
        self.recording = False
        self.level = 0.0  # 0..1
        self._holding = False
        self._hold_timer = QTimer(self)
        self._hold_timer.setSingleShot(True)
        self._hold_timer.setInterval(self.HOLD_MS)
        self._hold_timer.timeout.connect(self._begin_hold)
        self._idle_icon = icons.icon("mic")
        self._rec_icon = icons.icon("mic-active")

    def set_recording(self, on: bool) -> None:
        self.recording = on
        if not on:
            self.level = 0.0
        self.update()

    def set_level_dbfs(self, db: float) -> None:
        # -60 dBFS (silence) … -10 dBFS (loud speech) → 0..1
        self.level = max(0.0, min(1.0, (db + 60.0) / 50.0))
        self.update()

    def _begin_hold(self) -> None:
        if self.isDown():
            self._holding = True
            self.hold_started.emit()

    def mousePressEvent(self, e) -> None:  # noqa: N802
        if e.button() == Qt.MouseButton.LeftButton:
            self.setDown(True)
            self._holding = False
            if not self.recording:
                self._hold_timer.start()
            return
        super().mousePressEvent(e)

    def mouseReleaseEvent(self, e) -> None:  # noqa: N802
        if e.button() == Qt.MouseButton.LeftButton:
            self.setDown(False)
            self._hold_timer.stop()
            if self._holding:
                self._holding = False
                self.hold_ended.emit()
            else:
                self.clicked_toggle.emit()
            return
        super().mouseReleaseEvent(e)

    def paintEvent(self, _e) -> None:  # noqa: N802
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        r = QRectF(self.rect()).adjusted(2, 2, -2, -2)
        if self.recording:
            halo = 2 + 2 * self.level
            p.setPen(QPen(QColor(224, 36, 94, int(60 + 150 * self.level)), halo))
            p.setBrush(QColor("#e0245e"))
            p.drawEllipse(r.adjusted(halo / 2, halo / 2, -halo / 2, -halo / 2))
            ic = self._rec_icon
        else:
            hover = self.underMouse() or self.isDown()
            p.setPen(QPen(QColor("#cfd5dd"), 1))
            p.setBrush(QColor("#eef2f7" if hover else "#ffffff"))
            p.drawEllipse(r.adjusted(0.5, 0.5, -0.5, -0.5))
            ic = self._idle_icon
        s = 20
        ic.paint(p, int(self.width() / 2 - s / 2), int(self.height() / 2 - s / 2), s, s)
        p.end()


class Composer(QWidget):
    send_requested = Signal(str)
    stop_requested = Signal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 6, 0, 0)
        lay.setSpacing(4)
        row = QHBoxLayout()
        row.setSpacing(8)
        self.input = InputBox(self)
        row.addWidget(self.input, 1)
        self.mic = MicButton(self)
        row.addWidget(self.mic, 0, Qt.AlignmentFlag.AlignBottom)
        self.send_btn = QPushButton("Send", self)
        self.send_btn.setProperty("primary", True)
        self.send_btn.setFixedHeight(40)
        self.send_btn.setMinimumWidth(78)
        self.send_btn.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)
        row.addWidget(self.send_btn, 0, Qt.AlignmentFlag.AlignBottom)
        lay.addLayout(row)
        self.hint = QLabel(self)
        self.hint.setStyleSheet(f"color: {theme.MUTED}; font-size: 8.5pt;")
        self.hint.setWordWrap(True)  # a narrow chat column wraps it instead of clipping it
        lay.addWidget(self.hint)
        self.running = False
        self._default_hint = ("Enter to send · Shift+Enter for a new line · "
                              "hold Space (empty box) or Ctrl+Space to talk · Esc cancels")
        self.hint.setText(self._default_hint)
        self.input.send_requested.connect(self._send)
        self.send_btn.clicked.connect(self._clicked)

    def _send(self) -> None:
        if self.running:
            return
        text = self.input.toPlainText().strip()
        if not text:
            return
        self.input.clear()
        self.send_requested.emit(text)

    def _clicked(self) -> None:
        if self.running:
            self.stop_requested.emit()
        else:
            self._send()

    def set_running(self, on: bool) -> None:
        self.running = on
        self.send_btn.setText("Stop" if on else "Send")
        self.send_btn.setProperty("primary", not on)
        self.send_btn.setProperty("danger", on)
        self.send_btn.setToolTip("Stop generating (the server stops too)" if on else "Send (Enter)")
        theme.repolish(self.send_btn)

    def set_hint(self, text: str | None) -> None:
        self.hint.setText(text or self._default_hint)
