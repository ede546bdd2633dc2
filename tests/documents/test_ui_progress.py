"""The window's side of documents, under Xvfb: the indexing worker runs on its own thread and the
status-bar widget follows its signals (progress, pause, cancel, done); citation links open files."""
from __future__ import annotations

import threading

import pytest

pytest.importorskip("pytestqt")

from PySide6.QtCore import Qt, QThread  # noqa: E402
from PySide6.QtWidgets import QMainWindow  # noqa: E402

from bestbox.config import Config  # noqa: E402
from bestbox.ui.citations import CitationList, citation_url  # noqa: E402
from bestbox.ui.docs_progress import DocsIndexWorker, DocsProgressWidget, attach  # noqa: E402


def _folder(tmp_path, n=40):
    d = tmp_path / "docs"
    d.mkdir()
    for i in range(n):
        (d / f"note{i:03d}.md").write_text(f"# Note {i}\n\nMeeting minutes about topic {i}.")
    (d / "broken.docx").write_bytes(b"not a zip")
    return d


def test_worker_thread_drives_the_widget(qtbot, tmp_path):
    worker = DocsIndexWorker([str(_folder(tmp_path))], rescan_s=0, embed=False, db=tmp_path / "i.sqlite3")
    widget = DocsProgressWidget(worker)
    qtbot.addWidget(widget)
    widget.show()
    threads = []
    worker.progress.connect(lambda _p: threads.append(threading.current_thread().name))
    thread = QThread()
    worker.moveToThread(thread)
    thread.started.connect(worker.run)
    worker.stopped.connect(thread.quit, Qt.ConnectionType.DirectConnection)
    seen = []
    worker.progress.connect(lambda p: seen.append(p["stage"]))
    thread.start()
    # Wait on the widget (its slots run on this thread), not on the worker's signal directly.
    qtbot.waitUntil(lambda: widget.last_report is not None, timeout=60000)
    assert thread.wait(10000)
    assert widget.last_report["added"] == 40 and widget.last_report["failed"] == 1
    assert "scan" in seen and "read" in seen
    assert threading.main_thread().name not in threads           # indexing never ran on the UI thread
    # embeddings off in this test: the label says so
    assert widget.label.text() == "Documents: up to date · 1 not readable · KEYWORD-ONLY search"
    assert "broken.docx" in widget.label.toolTip()
    assert not widget.bar.isVisible()
    widget.grab().save(str(tmp_path / "docs-progress-done.png"))


def test_progress_text_pause_and_cancel(qtbot, tmp_path):
    worker = DocsIndexWorker([str(_folder(tmp_path, 3))], rescan_s=0, embed=False, db=tmp_path / "i.sqlite3")
    widget = DocsProgressWidget(worker)
    qtbot.addWidget(widget)
    widget.show()
    widget.on_progress({"stage": "read", "done": 120, "total": 5000, "current": "/x/report-2024.pdf",
                        "rate": 42.0, "eta_s": 116, "paused": False})
    assert widget.label.text() == ("Documents: reading 120/5000 files · report-2024.pdf · 42.0/s · "
                                   "1 min 56 s left")
    assert widget.bar.isVisible() and widget.bar.value() == 120
    widget.grab().save(str(tmp_path / "docs-progress-reading.png"))
    widget.pause_btn.click()
    assert widget.pause_btn.text() == "Resume" and not worker.indexer.resume_event.is_set()
    assert widget.label.text().endswith("· paused")
    widget.pause_btn.click()
    assert worker.indexer.resume_event.is_set()
    widget.cancel_btn.click()
    assert worker.indexer.cancel_event.is_set()


def test_attach_puts_the_widget_in_the_status_bar_and_stops_cleanly(qtbot, tmp_path, monkeypatch):
    monkeypatch.setenv("BESTBOX_DATA_DIR", str(tmp_path / "data"))
    cfg = Config()
    assert attach(QMainWindow(), cfg) is None                        # no folders: no widget, no thread
    cfg.data.documents = [str(_folder(tmp_path, 5))]
    cfg.data.documents_embed = False
    win = QMainWindow()
    qtbot.addWidget(win)
    widget = attach(win, cfg)
    assert widget is not None and widget.parent() is not None
    qtbot.waitUntil(lambda: "up to date" in widget.label.text(), timeout=60000)
    widget.stop()
    assert widget.thread_.isFinished()


def test_citation_links_open_the_file_at_its_page(qtbot, tmp_path):
    opened = []
    cites = [{"id": 1, "path": str(tmp_path / "handbook.pdf"), "page": 2, "snippet": "27 days"},
             {"id": 2, "path": str(tmp_path / "travel policy.md"), "page": None, "snippet": "0.32 EUR"}]
    w = CitationList(cites, opener=opened.append)
    qtbot.addWidget(w)
    w.show()
    assert "[1]&nbsp;handbook.pdf p.&nbsp;2" in w.text() and "[2]&nbsp;travel policy.md" in w.text()
    w.linkActivated.emit("0")
    w.linkActivated.emit("1")
    assert opened[0].toString() == f"file://{tmp_path}/handbook.pdf#page=2"
    assert opened[1].isLocalFile() and opened[1].toLocalFile() == str(tmp_path / "travel policy.md")
    assert not opened[1].hasFragment()
    assert citation_url({"path": "/a/b.docx", "page": 3}).hasFragment() is False
    w.grab().save(str(tmp_path / "citations.png"))


def test_vector_files_build_shows_beside_the_status(qtbot, tmp_path):
    widget = DocsProgressWidget(None)
    qtbot.addWidget(widget)
    widget.show()
    widget.on_synced({"failures": [], "mode_note": "fused search: keyword (BM25) + embeddings"})
    widget.on_progress({"stage": "vectors", "done": 1, "total": 4, "current": "clustering 700000 vectors"})
    assert widget.label.text() == "Documents: up to date · building the vector files…"
    assert widget.bar.isVisible() and widget.bar.value() == 1 and not widget.cancel_btn.isVisible()
    widget.adjustSize()
    widget.grab().save(str(tmp_path / "docs-progress-vectors.png"))
    widget.on_progress({"stage": "vectors", "done": 4, "total": 4, "current": "done"})
    assert widget.label.text() == "Documents: up to date" and not widget.bar.isVisible()
