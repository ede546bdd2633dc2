"""Document indexing in the window: a worker on its own QThread keeps the index in step with the
configured folders (a sync at start, then a stat-only rescan every [data] documents_rescan_s, files
still being written wait for the next round), and a small status-bar widget shows its progress
(count, current file, rate, time left) with Pause and Cancel. The UI only receives signals."""
from __future__ import annotations

import threading
from pathlib import Path

from PySide6.QtCore import QObject, Qt, QThread, Signal, Slot
from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QToolButton, QWidget

from . import theme

SETTLE_S = 2.0   # a file modified this recently is still being written: index it next round


class DocsIndexWorker(QObject):
    progress = Signal(dict)
    synced = Signal(dict)          # a SyncReport as a dict, after each sync
    stopped = Signal()

    def __init__(self, folders: list[str], *, rescan_s: float = 30.0, max_mb: float = 50.0, timeout_s: float = 30.0,
                 embed: bool = True, db=None):
        super().__init__()
        from ..data.documents import Indexer

        self.rescan_s = rescan_s
        self.db = db
        self.embed = embed
        self._quit = threading.Event()
        self.indexer = Indexer(folders, db=db, max_mb=max_mb, timeout_s=timeout_s, embed=embed,
                               on_progress=lambda p: self.progress.emit(p.as_dict()))

    @Slot()
    def run(self) -> None:
        first = True
        while not self._quit.is_set():
            rep = self.indexer.sync(settle_s=0.0 if first else SETTLE_S)
            first = False
            self.synced.emit({**rep.as_dict(), "mode_note": self._mode_note()})
            if rep.cancelled or self.rescan_s <= 0:
                break
            self._quit.wait(self.rescan_s)
        self.stopped.emit()

    def _mode_note(self) -> str:
        from ..data.documents import Searcher

        s = Searcher(self.db, use_embeddings=self.embed)
        try:
            return s.mode_note()
        finally:
            s.close()

    # any thread
    def pause(self) -> None:
        self.indexer.pause()

    def resume(self) -> None:
        self.indexer.resume()

    def cancel(self) -> None:
        self.indexer.cancel()
        self._quit.set()

    def shutdown(self) -> None:
        self.cancel()


def _dur(s) -> str:
    if s is None:
        return "…"
    s = int(s)
    return f"{s // 3600} h {s % 3600 // 60} min" if s >= 3600 else f"{s // 60} min {s % 60} s" if s >= 60 else f"{s} s"


class DocsProgressWidget(QWidget):
    """Status-bar section: "Documents: reading 120/5000 · report.pdf · 42/s · 2 min left [Pause] [Cancel]"."""

    def __init__(self, worker: DocsIndexWorker | None = None, parent: QWidget | None = None):
        super().__init__(parent)
        row = QHBoxLayout(self)
        row.setContentsMargins(6, 0, 6, 0)
        row.setSpacing(6)
        self.label = QLabel("Documents: starting…", self)
        self.label.setStyleSheet(f"color: {theme.MUTED};")
        self.bar = QProgressBar(self)
        self.bar.setFixedWidth(90)
        self.bar.setMaximumHeight(12)
        self.bar.setTextVisible(False)
        self.pause_btn = QToolButton(self)
        self.pause_btn.setText("Pause")
        self.cancel_btn = QToolButton(self)
        self.cancel_btn.setText("Cancel")
        for w in (self.label, self.bar, self.pause_btn, self.cancel_btn):
            row.addWidget(w)
        self.worker = worker
        self.paused = False
        self.last_report: dict | None = None
        self.pause_btn.clicked.connect(self.toggle_pause)
        self.cancel_btn.clicked.connect(self.cancel)
        if worker is not None:
            worker.progress.connect(self.on_progress)
            worker.synced.connect(self.on_synced)
        self._busy(False)

    def _busy(self, on: bool) -> None:
        self.bar.setVisible(on)
        self.pause_btn.setVisible(on)
        self.cancel_btn.setVisible(on)

    @Slot(dict)
    def on_progress(self, p: dict) -> None:
        stage = p.get("stage")
        if stage in ("done", "cancelled", "idle"):
            return
        if stage == "vectors":          # after the sync, on its own thread; search works meanwhile
            base = self.label.text().split(" · building")[0]
            if int(p.get("done") or 0) >= int(p.get("total") or 0):
                self._busy(False)
                self.label.setText(base)
                return
            self._busy(True)
            self.bar.setRange(0, max(1, int(p.get("total") or 1)))
            self.bar.setValue(int(p.get("done") or 0))
            self.pause_btn.setVisible(False)
            self.cancel_btn.setVisible(False)
            self.label.setText(base + " · building the vector files…")
            return
        self._busy(True)
        if stage == "scan":
            self.label.setText("Documents: looking for changes…")
            self.bar.setRange(0, 0)
            return
        total, done = int(p.get("total") or 0), int(p.get("done") or 0)
        self.bar.setRange(0, max(1, total))
        self.bar.setValue(done)
        what = "reading" if stage == "read" else "embedding"
        unit = "files" if stage == "read" else "passages"
        cur = f" · {Path(p['current']).name[:32]}" if p.get("current") and stage == "read" else ""
        paused = " · paused" if p.get("paused") or self.paused else ""
        self.label.setText(f"Documents: {what} {done}/{total} {unit}{cur} · {p.get('rate', 0):.1f}/s · "
                           f"{_dur(p.get('eta_s'))} left{paused}")

    @Slot(dict)
    def on_synced(self, rep: dict) -> None:
        self.last_report = rep
        self._busy(False)
        failed = len(rep.get("failures") or [])
        state = "indexing cancelled" if rep.get("cancelled") else "up to date"
        extra = f" · {failed} not readable" if failed else ""
        note = rep.get("mode_note") or ""
        loud = " · KEYWORD-ONLY search" if note.startswith("KEYWORD-ONLY") else ""
        self.label.setText(f"Documents: {state}{extra}{loud}")
        self.label.setToolTip("\n".join([note] + [f"{Path(f['path']).name}: {f['reason']}"
                                                  for f in rep.get("failures") or []]))

    def toggle_pause(self) -> None:
        if self.worker is None:
            return
        self.paused = not self.paused
        (self.worker.pause if self.paused else self.worker.resume)()
        self.pause_btn.setText("Resume" if self.paused else "Pause")
        if self.paused:
            self.label.setText(self.label.text().split(" · paused")[0] + " · paused")

    def cancel(self) -> None:
        if self.worker is not None:
            self.worker.cancel()
        self.paused = False
        self.pause_btn.setText("Pause")


def attach(window, cfg) -> DocsProgressWidget | None:
    """Start the indexer thread and put its widget in the window's status bar; None without folders."""
    if cfg is None or not cfg.data.documents:
        return None
    d = cfg.data
    worker = DocsIndexWorker(list(d.documents), rescan_s=d.documents_rescan_s, max_mb=d.documents_max_mb,
                             timeout_s=d.documents_timeout_s, embed=d.documents_embed)
    thread = QThread(window)
    thread.setObjectName("docs-indexer")
    worker.moveToThread(thread)
    thread.started.connect(worker.run)
    # Direct: QThread.quit is thread-safe, and a queued call would wait for the UI loop.
    worker.stopped.connect(thread.quit, Qt.ConnectionType.DirectConnection)
    widget = DocsProgressWidget(worker, window)
    window.statusBar().addPermanentWidget(widget)
    from PySide6.QtWidgets import QApplication

    def stop():
        worker.shutdown()
        try:
            thread.quit()
            thread.wait(5000)
        except RuntimeError:  # the window, the thread's parent, is gone: stopped with it already
            pass

    QApplication.instance().aboutToQuit.connect(stop)
    widget.thread_, widget.stop = thread, stop
    thread.start()
    return widget
