"""The server panel's data section against the real PostgreSQL: Sync now fills the snapshot off the UI
thread, Check names a wrong password (never showing it), and the last snapshot stays listed."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

pytest.importorskip("PySide6")
pytestmark = pytest.mark.gui


def _shot(widget, name: str) -> Path:
    out = Path(os.environ.get("BESTBOX_SHOTS", "/tmp")) / name
    widget.grab().save(str(out))
    return out


def test_sync_and_check_from_the_panel(qtbot, records_config, monkeypatch):
    from bestbox.ui.data_section import DataSection

    w = DataSection(records_config, schedule=False)
    qtbot.addWidget(w)
    w.resize(460, 200)
    w.show()
    assert "not synced yet" in w.status.text() and w.sync_btn.isVisible()
    assert w.start("sync")
    assert not w.sync_btn.isEnabled()  # busy: the work runs on a worker thread
    qtbot.waitUntil(lambda: not w.busy, timeout=60_000)
    assert "rows, synced just now" in w.status.text() and not w.error.isVisible()
    _shot(w, "data-section-synced.png")

    monkeypatch.setenv("BESTBOX_DB_PASSWORD", "definitely-wrong-pw")
    assert w.start("check")
    qtbot.waitUntil(lambda: not w.busy, timeout=60_000)
    assert w.error.isVisible() and "refused the login" in w.error.text()
    assert "definitely-wrong-pw" not in w.error.text() + w.status.text()
    assert "rows, synced" in w.status.text()  # the last snapshot still answers
    _shot(w, "data-section-auth-error.png")
    w.shutdown()


def test_demo_mode_says_how_to_connect(qtbot):
    from bestbox.config import Config
    from bestbox.ui.server_panel import ServerPanel

    p = ServerPanel(None, Config())
    qtbot.addWidget(p)
    assert "demo company" in p.data.status.text() and not p.data.sync_btn.isVisibleTo(p)
    p.data.shutdown()
