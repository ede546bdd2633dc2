"""Dismissable messages above the window's content (config errors, no tray, memory warnings)."""
from __future__ import annotations

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QToolButton, QVBoxLayout, QWidget

from . import icons, theme

_KIND = {
    "info": ("#eaf1fd", "#bcd0f5", "#1f4fb8"),
    "warn": (theme.NOTE_BG, theme.NOTE_BORDER, "#6b4a06"),
    "error": (theme.ERROR_BG, theme.ERROR_BORDER, theme.ERROR_TEXT),
}


class Banner(QFrame):
    closed = Signal(object)

    def __init__(self, text: str, kind: str = "info", key: str = "", parent: QWidget | None = None):
        super().__init__(parent)
        self.key = key
        self.kind = kind
        bg, border, fg = _KIND.get(kind, _KIND["info"])
        self.setObjectName("banner")
        self.setStyleSheet(f"#banner {{ background: {bg}; border: 1px solid {border}; border-radius: 8px; }}"
                           f" QLabel {{ color: {fg}; }}")
        row = QHBoxLayout(self)
        row.setContentsMargins(12, 7, 6, 7)
        self.label = QLabel(text, self)
        self.label.setWordWrap(True)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        row.addWidget(self.label, 1)
        close = QToolButton(self)
        close.setIcon(icons.icon("close"))
        close.setIconSize(QSize(12, 12))
        close.setAccessibleName("Dismiss")
        close.setToolTip("Dismiss")
        close.setStyleSheet(f"QToolButton {{ border: 0; color: {fg}; padding: 2px 6px; }}"
                            " QToolButton:hover { background: rgba(0,0,0,0.06); border-radius: 4px; }")
        close.clicked.connect(self.dismiss)
        row.addWidget(close, 0, Qt.AlignmentFlag.AlignTop)

    def dismiss(self) -> None:
        self.hide()
        self.closed.emit(self)
        self.deleteLater()


class BannerArea(QWidget):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.lay = QVBoxLayout(self)
        self.lay.setContentsMargins(12, 8, 12, 0)
        self.lay.setSpacing(6)
        self._keys: dict[str, Banner] = {}
        self.setVisible(False)

    def show_message(self, text: str, kind: str = "info", key: str = "") -> Banner:
        """One banner per key: showing a key again replaces its text."""
        if key and key in self._keys:
            old = self._keys.pop(key)
            old.dismiss()
        b = Banner(text, kind, key, self)
        b.closed.connect(self._gone)
        if key:
            self._keys[key] = b
        self.lay.addWidget(b)
        self.setVisible(True)
        return b

    def remove(self, key: str) -> None:
        b = self._keys.pop(key, None)
        if b is not None:
            b.dismiss()

    def _gone(self, banner: Banner) -> None:
        if banner.key and self._keys.get(banner.key) is banner:
            self._keys.pop(banner.key, None)
        self.lay.removeWidget(banner)
        self.setVisible(bool(self.texts()))

    def texts(self) -> list[str]:
        out = []
        for i in range(self.lay.count()):
            w = self.lay.itemAt(i).widget()
            if isinstance(w, Banner) and not w.isHidden():
                out.append(w.label.text())
        return out
