"""The server panel's data section: which records the tools read (demo, file, or the user's database
snapshot), how fresh, the last error in words, and Check / Sync now buttons. Syncs on the schedule
in [data] refresh_minutes. The work (a database round trip) runs on a worker thread; its result
comes back to the UI thread through a queued signal."""
from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor

from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from . import theme

log = logging.getLogger(__name__)
SCHEDULE_CHECK_MS = 60_000


class DataSection(QFrame):
    finished = Signal(str, object)  # action ("check" | "sync"), result dict

    def __init__(self, config, parent: QWidget | None = None, *, schedule: bool = True):
        super().__init__(parent)
        self.config = config
        self.busy = False
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="bestbox-records")
        self.setObjectName("dataSection")
        self.setStyleSheet(f"#dataSection {{ background: {theme.PANEL}; border: 1px solid {theme.BORDER};"
                           " border-radius: 10px; }")
        lay = QVBoxLayout(self)
        lay.setContentsMargins(12, 10, 12, 10)
        top = QHBoxLayout()
        top.addWidget(QLabel("<b>Your data</b>", self))
        top.addStretch(1)
        self.check_btn = QPushButton("Check", self)
        self.sync_btn = QPushButton("Sync now", self)
        top.addWidget(self.check_btn)
        top.addWidget(self.sync_btn)
        lay.addLayout(top)
        self.status = QLabel(self)
        self.status.setWordWrap(True)
        lay.addWidget(self.status)
        self.error = QLabel(self)
        self.error.setWordWrap(True)
        self.error.setStyleSheet(f"background: {theme.ERROR_BG}; border: 1px solid {theme.ERROR_BORDER};"
                                 f" color: {theme.ERROR_TEXT}; border-radius: 6px; padding: 6px 8px;")
        lay.addWidget(self.error)
        self.check_btn.clicked.connect(lambda: self.start("check"))
        self.sync_btn.clicked.connect(lambda: self.start("sync"))
        self.finished.connect(self._on_finished)
        self.timer = QTimer(self)
        self.timer.setInterval(SCHEDULE_CHECK_MS)
        self.timer.timeout.connect(self._on_timer)
        if schedule:
            self.timer.start()
        self.refresh()

    def _configured(self) -> bool:
        return self.config is not None and bool(self.config.data.source) and not self.config.data.database

    def refresh(self, live_error: dict | None = None) -> None:
        """Show the state from the files (cheap); `live_error` is a failure just seen by Check."""
        from ..data.records.status import HINTS, summary

        if self.config is None:
            s = {"line": "records: the demo company", "last_error": None}
        else:
            s = summary(self.config)
        self.status.setText(s["line"].replace("records: ", "Records from ", 1) if s["line"] else "")
        err = live_error or s.get("last_error")
        if err:
            hint = HINTS.get(err.get("kind", ""), "")
            self.error.setText(f"<b>{err.get('kind', 'error')}</b>: {err['message']}" + (f"<br>{hint}" if hint else ""))
        self.error.setVisible(bool(err))
        for b in (self.check_btn, self.sync_btn):
            b.setVisible(self._configured())
            b.setEnabled(not self.busy)
        if not self._configured() and (self.config is None or not self.config.data.database):
            self.status.setText("The demo company. Point [data] source and mapping at your own database "
                                "(docs/data-sources.md).")

    def start(self, action: str) -> bool:
        if self.busy or not self._configured():
            return False
        from ..data.records import sync as records

        self.busy = True
        self.status.setText("Checking the source…" if action == "check" else "Syncing…")
        for b in (self.check_btn, self.sync_btn):
            b.setEnabled(False)
        fn = records.check if action == "check" else records.sync
        fut = self._pool.submit(fn, self.config)
        fut.add_done_callback(lambda f: self.finished.emit(action, _result(f)))
        return True

    def _on_finished(self, action: str, res: dict) -> None:
        self.busy = False
        live = None
        if action == "check":
            if res.get("error"):
                live = res["error"]
            else:
                bad = [(n, e) for n, e in res.get("entities", {}).items() if not e["ok"]]
                if bad:
                    live = {"kind": bad[0][1].get("kind", "mapping"), "message": f"{bad[0][0]}: {bad[0][1]['problems'][0]}"}
        self.refresh(live)

    def _on_timer(self) -> None:
        from ..data.records.sync import due

        if self._configured() and not self.busy and due(self.config):
            self.start("sync")

    def shutdown(self) -> None:
        self.timer.stop()
        self._pool.shutdown(wait=False, cancel_futures=True)


def _result(fut) -> dict:
    try:
        return fut.result()
    except Exception as e:  # check and sync never raise; this is a bug, shown rather than lost
        log.exception("records worker failed")
        return {"ok": False, "error": {"kind": "internal", "message": f"{type(e).__name__}: {e}"}}
