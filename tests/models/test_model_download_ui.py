"""The server card's "Download Qwen2.5-…" button against the local fake hub: progress with MB/s,
Cancel keeps the .part, Resume finishes it, the config is updated, and "Restart server with the new
model" reloads the config into the manager and restarts that server."""
from __future__ import annotations

import asyncio
import os
import sys

import pytest

MB = 1024 * 1024
REPO = "Qwen/Test-GGUF"
_LOOP = None


@pytest.fixture(scope="session")
def qapp_cls():
    """pytest-qt's hook before it creates the QApplication: no display needed (tests/ui/conftest,
    when loaded, has chosen the platform already)."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtWidgets import QApplication

    return QApplication


def _ui_conftest():
    """tests/ui/conftest.py when this session loaded it: it keeps the one qasync loop per QApplication."""
    for m in list(sys.modules.values()):
        if (getattr(m, "__file__", None) or "").replace("\\", "/").endswith("tests/ui/conftest.py"):
            return m
    return None


@pytest.fixture(scope="session")
def _own_loop():
    yield
    if _LOOP is not None and _ui_conftest() is None:
        _LOOP.stop()   # qasync: a loop made with already_running counts as running until stopped
        _LOOP.close()  # ends its worker threads


@pytest.fixture
def qloop(qapp, _own_loop):
    """An asyncio loop on the Qt loop (qasync), running only inside the test, as tests/ui's `aloop`;
    shared with tests/ui/conftest.py when that is loaded (two loops on one app do not mix)."""
    global _LOOP
    import qasync

    ui = _ui_conftest()
    if _LOOP is None:
        _LOOP = (ui._LOOP if ui is not None else None) or qasync.QEventLoop(qapp, already_running=True)
        if ui is not None and ui._LOOP is None:
            ui._LOOP = _LOOP  # tests/ui reuse it and close it at the end of the session
    asyncio.set_event_loop(_LOOP)
    asyncio.events._set_running_loop(_LOOP)
    yield _LOOP
    for t in [t for t in asyncio.all_tasks(_LOOP) if not t.done()]:
        t.cancel()
    qapp.processEvents()
    asyncio.events._set_running_loop(None)
    asyncio.set_event_loop(None)


class FakeManager:
    def __init__(self):
        self.configs = []

    async def reconfigure(self, config):
        self.configs.append(config)


class FakeBridge:
    def __init__(self):
        self.manager = FakeManager()
        self.restarted = []

    def restart(self, name):
        self.restarted.append(name)


def test_card_download_button(qloop, qtbot, hub, cfg_file, tmp_path):
    from bestbox import config
    from bestbox.models.catalog import custom_entry
    from bestbox.servers.state import ServerSnapshot, ServerState
    from bestbox.ui.server_card import ServerCard

    data = hub.add(REPO, "t-00001-of-00002.gguf", 3 * MB)
    hub.add(REPO, "t-00002-of-00002.gguf", MB)
    hub.delay_per_chunk = 0.02  # ~3 MB/s: slow enough to see progress and cancel
    card = ServerCard("light")
    dl = card.download
    dl.entry = custom_entry("light", REPO, ["t-00001-of-00002.gguf"])
    dl.endpoint, dl.folder, dl.config_path, dl.bridge = hub.url, tmp_path / "m", cfg_file, FakeBridge()
    qtbot.addWidget(card)
    card.show()
    card.update_snapshot(ServerSnapshot(name="light", state=ServerState.READY, using_demo_model=True,
                                        model_name="SmolLM2-135M-Instruct.Q4_1.gguf"))
    assert dl.isVisible() and dl.button.isVisible() and dl.button.text().startswith("Download Qwen2.5-7B")

    qtbot.mouseClick(dl.button, qtbot_button())
    qtbot.waitUntil(lambda: "MB/s" in dl.label.text() and dl.bar.value() > 0, timeout=10_000)
    assert dl.cancel_btn.isVisible() and dl.bar.isVisible() and dl.label.isVisible() and "ETA" in dl.label.text()
    qtbot.mouseClick(dl.cancel_btn, qtbot_button())
    qtbot.waitUntil(lambda: dl.state == "cancelled", timeout=5_000)
    assert (tmp_path / "m" / "t-00001-of-00002.gguf.part").exists()
    assert dl.button.text().startswith("Resume download of")

    hub.delay_per_chunk = 0
    qtbot.mouseClick(dl.button, qtbot_button())
    qtbot.waitUntil(lambda: dl.state in ("done", "failed"), timeout=15_000)
    assert dl.state == "done", dl.label.text()
    assert (tmp_path / "m" / "t-00001-of-00002.gguf").read_bytes() == data
    assert any("Range" in q["headers"] for q in hub.gets("/cdn/"))  # resumed, not restarted
    new = str(tmp_path / "m" / "t-00001-of-00002.gguf")
    assert config.load(cfg_file).config.servers.light.model == new
    assert dl.restart_btn.isVisible()

    qtbot.mouseClick(dl.restart_btn, qtbot_button())
    qtbot.waitUntil(lambda: dl.bridge.restarted == ["light"], timeout=5_000)
    assert dl.bridge.manager.configs[-1].servers.light.model == new
    card.update_snapshot(ServerSnapshot(name="light", state=ServerState.READY, model_path=new))
    assert not dl.isVisible()


def qtbot_button():
    from PySide6.QtCore import Qt

    return Qt.MouseButton.LeftButton
