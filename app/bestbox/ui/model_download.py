"""On a server card that runs the demo model: "Download Qwen2.5-…", with a progress bar (MB/s, ETA),
Cancel (keeps the partial file; Download resumes it) and, when done, "Restart server with the new
model". The download is an asyncio task on the Qt loop (qasync); the window never waits for it.
The config file gets the new path from `bestbox.models.install`; the restart reloads that file
and hands it to the server manager (`reconfigure`) before restarting the server."""
from __future__ import annotations

import asyncio
import logging

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QPushButton, QVBoxLayout, QWidget

from . import theme

log = logging.getLogger(__name__)


class ModelDownloadBox(QWidget):
    finished = Signal(str, str)   # server name, path of the model the config now names
    failed = Signal(str, str)     # server name, readable reason

    def __init__(self, name: str, parent: QWidget | None = None):
        super().__init__(parent)
        from ..models.catalog import CATALOG

        self.name = name
        self.entry = CATALOG.get(name)
        self.bridge = None            # ServerBridge, set by the panel: restart goes through its manager
        self.config_path = None       # None: paths.config_file(), the file the app loaded
        self.endpoint: str | None = None
        self.folder = None            # None: the configured model's folder
        self.task: asyncio.Task | None = None
        self.state = "idle"           # idle | running | done | failed | cancelled
        self.path = ""
        self._demo = False

        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(4)
        row = QHBoxLayout()
        row.setSpacing(6)
        size = f" (~{self.entry.approx_gb:.0f} GB)" if self.entry and self.entry.approx_gb else ""
        # The card is narrow: "Qwen2.5-14B (~9 GB)" on the button, the full name in the tooltip.
        short = self.entry.label.split("-Instruct")[0] if self.entry else ""
        self._what = f"{short}{size}" if self.entry else "the model"
        self.button = QPushButton(self)
        self.cancel_btn = QPushButton("Cancel", self)
        self.restart_btn = QPushButton("Restart with the new model", self)
        for b in (self.button, self.cancel_btn, self.restart_btn):
            row.addWidget(b)
        row.addStretch(1)
        lay.addLayout(row)
        self.bar = QProgressBar(self)
        self.bar.setRange(0, 1000)
        self.bar.setTextVisible(False)
        self.bar.setFixedHeight(6)
        lay.addWidget(self.bar)
        self.label = QLabel(self)
        self.label.setWordWrap(True)
        self.label.setStyleSheet(f"color: {theme.MUTED}; font-size: 8.5pt;")
        lay.addWidget(self.label)
        self.button.clicked.connect(self.start)
        self.cancel_btn.clicked.connect(self.cancel)
        self.restart_btn.clicked.connect(self.restart_server)
        if self.entry is not None:
            self.button.setToolTip(f"{self.entry.label} from {self.entry.repo}: {', '.join(self.entry.files)}")
        self._render()

    # -- what shows ------------------------------------------------------------------------------
    def set_demo(self, using_demo: bool) -> None:
        """The card says whether the demo model runs; a download in progress or done stays visible."""
        self._demo = using_demo
        self._render()

    def _render(self) -> None:
        s = self.state
        self.setVisible(self.entry is not None and (self._demo or s in ("running", "done", "failed")))
        self.button.setVisible(s in ("idle", "failed", "cancelled"))
        self.button.setEnabled(s != "running")
        verb = {"failed": "Retry download of", "cancelled": "Resume download of"}.get(s, "Download")
        self.button.setText(f"{verb} {self._what}")
        self.cancel_btn.setVisible(s == "running")
        self.restart_btn.setVisible(s == "done")
        self.bar.setVisible(s == "running")
        self.label.setVisible(bool(self.label.text()) and s != "idle")
        err = s == "failed"
        self.label.setStyleSheet(f"color: {theme.ERROR_TEXT if err else theme.MUTED}; font-size: 8.5pt;")

    # -- download --------------------------------------------------------------------------------
    def start(self) -> asyncio.Task | None:
        if self.entry is None or (self.task is not None and not self.task.done()):
            return self.task
        self.state = "running"
        self.bar.setRange(0, 0)  # busy until the sizes are known
        self.label.setText("Connecting…")
        self._render()
        self.task = asyncio.ensure_future(self._run())
        return self.task

    def cancel(self) -> None:
        if self.task is not None and not self.task.done():
            self.task.cancel()

    async def _run(self) -> None:
        from ..models.download import DownloadError
        from ..models.install import download_for_server

        try:
            path = await download_for_server(self.name, config_path=self.config_path, folder=self.folder,
                                             entry=self.entry, endpoint=self.endpoint, progress=self._progress)
        except asyncio.CancelledError:
            self.state = "cancelled"
            self.label.setText("Cancelled. The partial download is kept: Resume continues where it stopped.")
            self._render()
            return
        except DownloadError as e:
            self._fail(str(e))
            return
        except Exception as e:  # noqa: BLE001 - anything else still ends readable, not in a dead task
            log.exception("model download failed")
            self._fail(f"{type(e).__name__}: {e}")
            return
        self.state = "done"
        self.path = str(path)
        self.label.setText(f"Downloaded to {path}; the config now points at it.")
        self._render()
        self.finished.emit(self.name, self.path)

    def _fail(self, msg: str) -> None:
        self.state = "failed"
        self.label.setText(f"Download failed: {msg}")
        self._render()
        self.failed.emit(self.name, msg)

    def _progress(self, p) -> None:
        from ..models.progress import fmt_eta, fmt_size, fmt_speed

        if p.total:
            self.bar.setRange(0, 1000)
            self.bar.setValue(int(1000 * min(1.0, p.done / p.total)))
        part = f" · part {p.index}/{p.count}" if p.count > 1 else ""
        self.label.setVisible(True)
        if p.phase == "verify":
            self.label.setText(f"Checking sha256{part}…")
        else:
            self.label.setText(f"{fmt_size(p.done)} / {fmt_size(p.total)} · {fmt_speed(p.speed_bps)} · "
                               f"ETA {fmt_eta(p.eta_s)}{part}")

    # -- use it ----------------------------------------------------------------------------------
    def restart_server(self) -> asyncio.Task:
        return asyncio.ensure_future(self._restart())

    async def _restart(self) -> None:
        from .. import config as config_mod
        from .. import paths

        loaded = config_mod.load(self.config_path or paths.config_file(), create=False)
        manager = getattr(self.bridge, "manager", None)
        if manager is None:
            self.label.setText("The server manager is not ready yet; try again in a moment.")
            return
        await manager.reconfigure(loaded.config)
        card = self.parent()
        if card is not None and hasattr(card, "config"):
            card.config = loaded.config
        self.state = "idle"
        self.label.setText("")
        self._render()
        self.bridge.restart(self.name)
