"""Both server cards, with the memory warning above them and Start/Stop-both buttons."""
from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QWidget

from ..servers.state import info as state_info
from . import theme
from .side_page import scrolling_body
from .server_bridge import NAMES
from .server_card import ServerCard


class ServerPanel(QWidget):
    def __init__(self, bridge, config=None, parent: QWidget | None = None, config_path=None):
        super().__init__(parent)
        self.bridge = bridge
        self.config, self.config_path = config, config_path
        body, lay = scrolling_body(self, "serverPanelBody")

        top = QHBoxLayout()
        hdr = QLabel("<b>Model servers</b>", body)
        hdr.setStyleSheet("font-size: 10.5pt;")
        top.addWidget(hdr)
        top.addStretch(1)
        self.start_all = QPushButton("Start both", body)
        self.stop_all = QPushButton("Stop both", body)
        top.addWidget(self.start_all)
        top.addWidget(self.stop_all)
        lay.addLayout(top)

        self.memory = QLabel(body)
        self.memory.setWordWrap(True)
        self.memory.setStyleSheet(f"background: {theme.NOTE_BG}; border: 1px solid {theme.NOTE_BORDER};"
                                  " color: #6b4a06; border-radius: 6px; padding: 6px 8px;")
        self.memory.hide()
        lay.addWidget(self.memory)

        self.cards: dict[str, ServerCard] = {}
        self._role_keys: dict[str, tuple] = {}
        for n in NAMES:
            card = ServerCard(n, bridge.logs if bridge is not None else None, body)
            card.config = config
            card.download.bridge = bridge
            self.cards[n] = card
            lay.addWidget(card)
            if bridge is not None:
                card.start_requested.connect(bridge.start)
                card.stop_requested.connect(bridge.stop)
                card.restart_requested.connect(bridge.restart)
                card.update_snapshot(bridge.snapshots.get(n))
            card.source_requested.connect(self.open_source)
        from .data_section import DataSection

        self.data = DataSection(config, body)  # the records the tools read: demo, file or the user's database
        lay.addWidget(self.data)
        lay.addStretch(1)
        if bridge is not None:
            bridge.changed.connect(self.on_snapshot)
            bridge.log_lines.connect(self.on_log_lines)
            if hasattr(bridge, "stand_in_changed"):  # bridges without remote servers (test doubles) lack it
                bridge.stand_in_changed.connect(self.on_stand_in)
            self.start_all.clicked.connect(lambda: bridge.start("all"))
            self.stop_all.clicked.connect(lambda: bridge.stop("all"))
            self._update_buttons()

    def on_snapshot(self, snap) -> None:
        card = self.cards.get(snap.name)
        if card is not None:
            card.update_snapshot(snap)
            self._check_roles(card, snap)
        self._update_buttons()

    def _check_roles(self, card: ServerCard, snap) -> None:
        """Ask model_check what this model cannot do, once per model and state (reads the GGUF header
        in a worker thread and /props of a serving server): the card names it with the fix."""
        import asyncio

        from ..servers.model_check import check_server

        cfg = getattr(card, "config", None)
        key = (getattr(snap, "state", None), getattr(snap, "model_path", None))
        if cfg is None or self._role_keys.get(snap.name) == key:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return   # no event loop (a widget test): nothing to check with
        self._role_keys[snap.name] = key
        serving = key[0] is not None and state_info(key[0]).serving
        model = getattr(snap, "model_path", None)
        task = loop.create_task(check_server(snap.name, cfg.server(snap.name), snap.base_url if serving else None,
                                             cfg.llama.api_key, Path(model) if model else None))
        task.add_done_callback(lambda t: None if t.cancelled() or t.exception() else card.set_role_issues(t.result()))

    def on_stand_in(self, snap) -> None:
        from .remote_card import show_stand_in

        card = self.cards.get(snap.name.removesuffix("-local"))
        if card is not None:
            show_stand_in(card, snap)

    def open_source(self, name: str):
        """The "Local / team server" dialog for `name` (applies to the running app, no restart)."""
        from .. import paths
        from .server_source import ServerSourceDialog

        if self.config is None:
            return None
        dlg = ServerSourceDialog(name, self.config, self.config_path or paths.config_file(),
                                 getattr(self.bridge, "manager", None), self)
        self.source_dialog = dlg
        dlg.show()
        return dlg

    def on_log_lines(self, name: str, lines: list) -> None:
        card = self.cards.get(name)
        if card is not None:
            card.append_log(lines)

    def _update_buttons(self) -> None:
        b = self.bridge
        self.stop_all.setEnabled(any(state_info(b.state(n)).can_stop for n in NAMES))
        self.start_all.setEnabled(any(state_info(b.state(n)).can_start for n in NAMES))

    def set_memory_warning(self, text: str | None) -> None:
        self.memory.setVisible(bool(text))
        self.memory.setText(f"Memory: {text}" if text else "")
