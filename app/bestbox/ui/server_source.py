"""Where a tier's model runs: on this computer, or on a team server. A small dialog from the server
card: the team server's URL, its key (an environment variable, or stored in the OS keyring), the CA
bundle, the model name and (heavy) who answers while it is away; "Test connection" shows the health
state the server card would show. Apply validates with the config schema (`config.Config`), writes
only the changed keys into the TOML (comments kept) and hands the running app the new config
(`ServerManager.reconfigure`): no restart."""
from __future__ import annotations

import asyncio
import logging
from pathlib import Path

from pydantic import ValidationError
from PySide6.QtCore import Signal
from PySide6.QtWidgets import (QComboBox, QDialog, QDialogButtonBox, QFileDialog, QFormLayout, QGroupBox,
                               QHBoxLayout, QLabel, QLineEdit, QPushButton, QRadioButton, QVBoxLayout, QWidget)

from .. import config as config_mod
from . import theme
from .server_card import TITLES, StateBadge

log = logging.getLogger(__name__)
FALLBACKS = (("other", "the other tier answers, with a note"),
             ("local", "this tier's local llama-server (started when needed)"))


class ServerSourceDialog(QDialog):
    applied = Signal(str, list)   # server name, the config keys that changed

    def __init__(self, name: str, config, config_path: Path, manager=None, parent: QWidget | None = None):
        """config: the running app's Config (changed in place on Apply); manager: the ServerManager."""
        super().__init__(parent)
        self.name, self.config, self.path, self.manager = name, config, Path(config_path), manager
        self.setWindowTitle(f"{TITLES.get(name, (name.title(),))[0]}: where it runs")
        self._task: asyncio.Task | None = None
        cur = config.server(name)
        lay = QVBoxLayout(self)
        self.local = QRadioButton("On this computer (a llama-server BestBox starts)", self)
        self.remote = QRadioButton("On a team server (BestBox only connects; never starts or stops it)", self)
        (self.remote if cur.remote else self.local).setChecked(True)
        lay.addWidget(self.local)
        lay.addWidget(self.remote)

        self.group = QGroupBox("Team server", self)
        form = QFormLayout(self.group)
        self.url = QLineEdit(cur.url, self.group)
        self.url.setPlaceholderText("https://gpu.team.lan:8000")
        form.addRow("URL", self.url)
        self.model = QLineEdit(cur.remote_model, self.group)
        self.model.setPlaceholderText("empty: the first model it offers")
        form.addRow("Model", self.model)
        self.key_env = QLineEdit(cur.api_key_env, self.group)
        self.key_env.setPlaceholderText("e.g. TEAM_KEY (an environment variable)")
        form.addRow("Key variable", self.key_env)
        login = QHBoxLayout()
        self.key = QLineEdit(self.group)
        self.key.setEchoMode(QLineEdit.EchoMode.Password)
        self.key.setPlaceholderText("or paste the key to store it in the OS keyring")
        self.store = QPushButton("Log in", self.group)
        self.store.setToolTip("Store the key in the OS keyring for this URL (`bestbox servers login`)")
        login.addWidget(self.key, 1)
        login.addWidget(self.store)
        form.addRow("Key", login)
        ca = QHBoxLayout()
        self.ca = QLineEdit(cur.ca_bundle, self.group)
        self.ca.setPlaceholderText("empty: the system's CAs")
        browse = QPushButton("Browse…", self.group)
        ca.addWidget(self.ca, 1)
        ca.addWidget(browse)
        form.addRow("CA bundle", ca)
        self.fallback = QComboBox(self.group)
        for value, text in FALLBACKS:
            self.fallback.addItem(text, value)
        self.fallback.setCurrentIndex(max(0, self.fallback.findData(cur.fallback)))
        form.addRow("While it is away", self.fallback)
        lay.addWidget(self.group)

        check = QHBoxLayout()
        self.test = QPushButton("Test connection", self)
        self.badge = StateBadge(self)
        self.badge.hide()
        check.addWidget(self.test)
        check.addWidget(self.badge)
        check.addStretch(1)
        lay.addLayout(check)
        self.status = QLabel(self)
        self.status.setWordWrap(True)
        self.status.setMinimumWidth(460)
        lay.addWidget(self.status)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Apply | QDialogButtonBox.StandardButton.Close,
                                        self)
        lay.addWidget(self.buttons)

        self.local.toggled.connect(self._sync)
        self.test.clicked.connect(self.test_connection)
        self.store.clicked.connect(self.store_key)
        browse.clicked.connect(self._browse)
        self.buttons.button(QDialogButtonBox.StandardButton.Apply).clicked.connect(self.apply)
        self.buttons.rejected.connect(self.reject)
        self._sync()

    # -- the form ---------------------------------------------------------------------------------
    def _sync(self) -> None:
        self.group.setEnabled(self.remote.isChecked())
        self.test.setEnabled(self.remote.isChecked())

    def _browse(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "The team's CA certificate", "", "PEM (*.pem *.crt);;All (*)")
        if path:
            self.ca.setText(path)

    def _say(self, text: str, error: bool = False) -> None:
        self.status.setStyleSheet(f"color: {theme.ERROR_TEXT if error else theme.TEXT};")
        self.status.setText(text)
        need = self.sizeHint().height()
        if need > self.height():   # a longer message: grow rather than cut it off
            self.resize(self.width(), need)

    def values(self) -> dict:
        """This tier's section as the form has it (the other keys keep their values)."""
        if self.local.isChecked():
            return {"url": ""}
        return {"url": self.url.text().strip(), "remote_model": self.model.text().strip(),
                "api_key_env": self.key_env.text().strip(), "ca_bundle": self.ca.text().strip(),
                "fallback": self.fallback.currentData()}

    def validate(self) -> tuple[config_mod.Config | None, list[str]]:
        """The whole new Config through the schema, or the problems, each naming its key."""
        data = self.config.model_dump(mode="json")
        data["servers"][self.name].update(self.values())
        if self.remote.isChecked() and not data["servers"][self.name]["url"]:
            return None, [f"servers.{self.name}.url: the team server's address is needed"]
        try:
            return config_mod.Config.model_validate(data), []
        except ValidationError as e:
            return None, [".".join(str(p) for p in err.get("loc", ())) + ": "
                          + str(err.get("msg", "invalid")).removeprefix("Value error, ") for err in e.errors()]

    # -- actions ----------------------------------------------------------------------------------
    def test_connection(self) -> asyncio.Task | None:
        """One health check of the server the form names, with the same code the supervisor runs."""
        new, problems = self.validate()
        if new is None:
            self._say("\n".join(problems), error=True)
            return None
        self._say("Checking…")
        self.test.setEnabled(False)
        self._task = asyncio.ensure_future(self._check(new.server(self.name)))
        self._task.add_done_callback(lambda _t: self.test.setEnabled(self.remote.isChecked()))
        return self._task

    async def _check(self, cfg) -> None:
        from ..servers.remote import RemoteSupervisor

        sup = RemoteSupervisor(self.name, cfg)
        if self.key.text().strip():   # a key typed here and not stored yet: test with it
            sup.api_key, sup.key_from = self.key.text().strip(), "the key typed here"
        try:
            snap = await sup.start(timeout=cfg.connect_timeout_s * 3 + 15)
        except Exception as e:  # noqa: BLE001
            self._say(f"The check failed: {type(e).__name__}: {e}", error=True)
            return
        finally:
            await sup.close()
        self.badge.set_state(snap.state)
        self.badge.show()
        self.last_check = snap
        self._say(snap.message + (f"\nOffers: {', '.join(snap.models)}" if snap.models else ""),
                  error=snap.info.severity == "error")

    def store_key(self) -> None:
        from ..servers.remote_key import store_key

        url, key = self.url.text().strip(), self.key.text().strip()
        if not (url and key):
            self._say("Type the URL and the key first.", error=True)
            return
        try:
            where = store_key(self.name, url, key)
        except RuntimeError as e:
            self._say(str(e), error=True)  # the key stays in the field: nothing typed is lost
            return
        self.key.clear()
        self._say(f"Stored in the OS keyring ({where}).")

    def apply(self) -> bool:
        from .settings_dialog import apply_live, changed_keys, write_keys

        new, problems = self.validate()
        if new is None:
            self._say("Not saved — please fix:\n" + "\n".join(f"• {p}" for p in problems), error=True)
            return False
        changed = changed_keys(self.config, new)
        if changed:
            try:
                write_keys(self.path, new, changed)
            except OSError as e:
                self._say(f"Could not write {self.path}: {e}", error=True)
                return False
            apply_live(self.config, new, changed)
            if self.manager is not None:
                self._task = asyncio.ensure_future(self.manager.reconfigure(self.config))
        where = "a team server" if self.remote.isChecked() else "this computer"
        self._say(f"Saved to {self.path}; the {self.name} model now runs on {where}." if changed
                  else "Nothing changed.")
        self.applied.emit(self.name, changed)
        return True
