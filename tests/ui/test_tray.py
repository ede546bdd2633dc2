"""The tray under a real X display with a system tray (Xvfb + trayer): icon per combined state,
menu actions toggle the real servers, close hides to the tray, Quit stops the servers."""
from __future__ import annotations

import pytest
from PySide6.QtWidgets import QSystemTrayIcon

from bestbox.ui.tray import combined_state

from ui_helpers import llama_servers_on


def test_combined_state_rules():
    assert combined_state({"heavy": "ready", "light": "ready"}) == "ready"
    assert combined_state({"heavy": "ready", "light": "external"}) == "ready"
    assert combined_state({"heavy": "loading", "light": "ready"}) == "partial"
    assert combined_state({"heavy": "stopped", "light": "ready"}) == "partial"
    assert combined_state({"heavy": "stopped", "light": "stopped"}) == "stopped"
    assert combined_state({"heavy": "failed", "light": "ready"}) == "error"
    assert combined_state({"heavy": "port_conflict", "light": "stopped"}) == "error"
    assert combined_state({"heavy": "ready", "light": "ready"}, recording=True) == "recording"


def test_tray_icons_exist(qapp):
    from bestbox.ui import icons

    for s in icons.TRAY_STATES:
        assert not icons.tray_icon(s).isNull(), s
    assert not icons.app_icon().isNull()


@pytest.mark.gui
def test_tray_menu_toggles_servers_and_quit(qtbot, aloop, tmp_config):
    if not QSystemTrayIcon.isSystemTrayAvailable():
        pytest.skip("no system tray on this display (run under launchers/test, or with Xvfb + trayer installed)")
    from bestbox import config as config_mod
    from bestbox.ui.app import AppController

    loaded = config_mod.load()
    ports = (tmp_config.servers.heavy.port, tmp_config.servers.light.port)
    ctrl = AppController(qtbot_app(), loaded, use_tray=True, tray_retry_s=5)
    finished = []
    ctrl.finished.connect(lambda: finished.append(1))
    ctrl.show()
    win, tray = ctrl.window, ctrl.tray
    qtbot.addWidget(win)
    try:
        qtbot.waitUntil(lambda: tray.exists, timeout=10_000)
        cards = win.servers.cards
        qtbot.waitUntil(lambda: all(c.badge.state == "ready" for c in cards.values()), timeout=120_000)
        qtbot.waitUntil(lambda: tray.state == "ready", timeout=5_000)
        tray.menu.aboutToShow.emit()
        assert tray.actions["heavy"].text() == "Stop heavy server"
        assert tray.actions["all"].text() == "Stop both servers"

        tray.actions["heavy"].trigger()
        qtbot.waitUntil(lambda: cards["heavy"].badge.state == "stopped", timeout=30_000)
        assert tray.state == "partial"
        tray.refresh()
        assert tray.actions["heavy"].text() == "Start heavy server"
        tray.actions["heavy"].trigger()
        qtbot.waitUntil(lambda: cards["heavy"].badge.state == "ready", timeout=120_000)
        qtbot.waitUntil(lambda: tray.state == "ready", timeout=5_000)

        tray.actions["all"].trigger()  # stop both
        qtbot.waitUntil(lambda: all(c.badge.state == "stopped" for c in cards.values()), timeout=30_000)
        assert tray.state == "stopped"
        tray.refresh()
        assert tray.actions["all"].text() == "Start both servers"
        tray.actions["all"].trigger()
        qtbot.waitUntil(lambda: all(c.badge.state == "ready" for c in cards.values()), timeout=120_000)

        # Closing the window hides it to the tray; the servers keep running.
        win.close()
        assert not win.isVisible() and not ctrl.quitting
        assert win._told_about_tray
        assert all(c.badge.state == "ready" for c in cards.values())
        tray.actions["show"].trigger()
        assert win.isVisible()

        tray.actions["quit"].trigger()
        qtbot.waitUntil(lambda: bool(finished), timeout=60_000)
        assert not win.isVisible()
        assert llama_servers_on(ports) == []
    finally:
        if not finished:
            ctrl.request_quit()
            qtbot.waitUntil(lambda: bool(finished), timeout=60_000)


def qtbot_app():
    from PySide6.QtWidgets import QApplication

    return QApplication.instance()


def test_no_tray_says_why_once(qtbot, aloop, monkeypatch, tmp_path):
    """No system tray (GNOME without AppIndicator…): after the retries the window says why, and
    closing the window then quits instead of hiding it."""
    from bestbox.ui import tray as tray_mod
    from bestbox.ui.main_window import MainWindow

    monkeypatch.setattr(tray_mod.QSystemTrayIcon, "isSystemTrayAvailable", staticmethod(lambda: False))

    class _Loaded:
        from bestbox.config import Config

        config = Config()
        path = tmp_path / "c.toml"
        issues: list = []

    w = MainWindow(None, None, None, _Loaded())
    qtbot.addWidget(w)
    t = tray_mod.Tray(w, None, retry_s=0.3, interval_ms=100)
    w.set_tray(t)
    t.start()
    qtbot.waitUntil(lambda: any("No system tray" in x for x in w.banners.texts()), timeout=3000)
    assert sum("No system tray" in x for x in w.banners.texts()) == 1
    assert not t.exists and not w.close_to_tray()
    asked = []
    w.quit_requested.connect(lambda: asked.append(1))
    w.show()
    w.close()
    assert asked == [1]
