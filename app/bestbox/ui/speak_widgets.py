"""The mute toggle for spoken replies (status bar) and its tray menu twin; both follow the one
SpeakController."""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QStyle, QToolButton, QWidget

from . import theme


def mute_label(muted: bool) -> str:
    return "Voice muted" if muted else "Voice on"


class MuteButton(QToolButton):
    def __init__(self, speak, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("muteButton")
        self.speak = speak
        self.setCheckable(True)
        self.setAutoRaise(True)
        self.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.setStyleSheet(f"QToolButton {{ color: {theme.MUTED}; padding: 1px 8px; }}"
                           f"QToolButton:checked {{ color: {theme.ACCENT}; }}")
        self.toggled.connect(speak.set_muted)
        speak.muted_changed.connect(self._show)
        self._show(speak.muted)

    def _show(self, muted: bool) -> None:
        self.blockSignals(True)
        self.setChecked(muted)
        self.blockSignals(False)
        self.setText(mute_label(muted))
        icon = QStyle.StandardPixmap.SP_MediaVolumeMuted if muted else QStyle.StandardPixmap.SP_MediaVolume
        self.setIcon(self.style().standardIcon(icon))
        self.setToolTip("Spoken replies are off: click to hear answers" if muted
                        else "Answers are read aloud (spoken questions; typed ones if set): click to mute")


def add_tray_mute(tray, speak) -> None:
    """A checkable "Mute voice" entry in the tray menu, before Quit."""
    if getattr(tray, "menu", None) is not None:
        tray.add_toggle("mute", "Mute voice", speak.muted, speak.set_muted, speak.muted_changed)
