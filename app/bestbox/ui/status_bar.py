"""The status bar: both servers' states as coloured dots, and what voice is doing."""
from __future__ import annotations

from PySide6.QtWidgets import QLabel, QStatusBar, QWidget

from . import icons, theme
from .server_bridge import NAMES


class ServerChip(QLabel):
    def __init__(self, name: str, parent: QWidget | None = None):
        super().__init__(parent)
        self.name = name
        self.setContentsMargins(8, 0, 8, 0)
        self.set_snapshot(None)

    def set_snapshot(self, snap) -> None:
        state = getattr(snap, "state", "stopped") if snap is not None else "stopped"
        colour, label = theme.state_style(state)
        extra = ""
        prog = getattr(snap, "load_progress", None)
        if theme.state_name(state) == "loading" and prog is not None:
            extra = f" {prog * 100:.0f} %"
        demo = " (demo model)" if getattr(snap, "using_demo_model", False) else ""
        self.state = theme.state_name(state)
        self.setText(f"{icons.dot_html(colour)}&nbsp;{self.name.capitalize()}: "
                     f"{label.lower()}{extra}{demo}")
        self.setToolTip(getattr(snap, "message", "") or "")


class StatusBar(QStatusBar):
    def __init__(self, bridge=None, parent: QWidget | None = None):
        super().__init__(parent)
        self.setSizeGripEnabled(False)
        self.chips = {n: ServerChip(n, self) for n in NAMES}
        for n in NAMES:
            self.addWidget(self.chips[n])
            if bridge is not None:
                self.chips[n].set_snapshot(bridge.snapshots.get(n))
        self.voice = QLabel("", self)
        self.voice.setStyleSheet(f"color: {theme.MUTED}; padding: 0 10px;")
        self.addPermanentWidget(self.voice)
        if bridge is not None:
            bridge.changed.connect(self.on_snapshot)

    def on_snapshot(self, snap) -> None:
        chip = self.chips.get(snap.name)
        if chip is not None:
            chip.set_snapshot(snap)

    def set_voice(self, text: str, recording: bool = False) -> None:
        self.voice.setText((icons.dot_html("#e0245e") + "&nbsp;" if recording else "") + text)
