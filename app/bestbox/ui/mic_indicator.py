"""The microphone indicator in the status bar: shown whenever the microphone is open (listening for
the wake word, recording, listening for a barge-in), hidden when it is closed. While the wake word
listens, one click turns it off; the tray's "Listen for …" entry turns it on again."""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QToolButton, QWidget

from . import theme

RED = "#d9534f"


def mic_text(mic: str, phrase: str) -> str:
    return {"wake": f"\u25CF Listening for \u201C{phrase}\u201D",
            "recording": "\u25CF Microphone on",
            "barge_in": "\u25CF Microphone on (talk to interrupt)"}.get(mic, "")


class MicIndicator(QToolButton):
    def __init__(self, wake, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("micIndicator")
        self.wake = wake
        self.setAutoRaise(True)
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.setStyleSheet(f"QToolButton {{ color: {RED}; padding: 1px 8px; font-weight: 600; }}"
                           f"QToolButton:hover {{ color: {theme.ACCENT}; }}")
        self.clicked.connect(self._click)
        wake.mic_changed.connect(self._show)
        self._show(wake.mic)

    def _show(self, mic: str) -> None:
        self.setText(mic_text(mic, self.wake.phrase))
        self.setVisible(bool(mic))
        self.setToolTip(f"The microphone is open. Click to stop listening for \u201C{self.wake.phrase}\u201D."
                        if mic == "wake" else "The microphone is open.")

    def _click(self) -> None:
        if self.wake.mic == "wake":
            self.wake.set_enabled(False)


def add_tray_wake(tray, wake) -> None:
    """A checkable "Listen for “Okay Nabu”" entry in the tray menu, before Quit."""
    if getattr(tray, "menu", None) is not None:
        tray.add_toggle("wake", f"Listen for \u201C{wake.phrase}\u201D", wake.enabled, wake.set_enabled,
                        wake.enabled_changed)
