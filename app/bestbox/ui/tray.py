"""The system tray icon: its picture is the combined state of both servers (or recording); its menu
shows/hides the window, talks, starts/stops servers and quits.

An icon made before the tray exists is lost (GNOME without AppIndicator, a panel that starts after
us), so availability is retried for a while; if no tray appears the window says why, once."""
from __future__ import annotations

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtWidgets import QMenu, QSystemTrayIcon

from ..servers.state import info as state_info
from . import icons
from .server_bridge import NAMES
from .theme import state_style


def combined_state(states: dict[str, str], recording: bool = False) -> str:
    """ready | partial | stopped | error | recording, for the enabled servers' states."""
    if recording:
        return "recording"
    rows = [state_info(s) for s in states.values()]
    if not rows:
        return "stopped"
    if any(r.severity == "error" for r in rows):
        return "error"
    if all(r.serving for r in rows):
        return "ready"
    if any(r.running for r in rows):
        return "partial"
    return "stopped"


class Tray(QObject):
    available = Signal()
    unavailable = Signal(str)
    quit_requested = Signal()
    talk_requested = Signal()

    def __init__(self, window, bridge, *, retry_s: float = 30.0, interval_ms: int = 1000,
                 parent: QObject | None = None):
        super().__init__(parent)
        self.window = window
        self.bridge = bridge
        self.icon: QSystemTrayIcon | None = None
        self.recording = False
        self.state = "stopped"
        self._tries_left = max(1, int(retry_s * 1000 / interval_ms))
        self._retry = QTimer(self)
        self._retry.setInterval(interval_ms)
        self._retry.timeout.connect(self._try_create)
        self.menu = QMenu()
        self.actions: dict[str, object] = {}
        self._build_menu()
        if bridge is not None:
            bridge.changed.connect(lambda _s: self.refresh())

    # -- creation --------------------------------------------------------------------------------
    def start(self) -> None:
        if not self._try_create():
            self._retry.start()

    def _try_create(self) -> bool:
        if self.icon is not None:
            return True
        if QSystemTrayIcon.isSystemTrayAvailable():
            self._retry.stop()
            self.icon = QSystemTrayIcon(icons.tray_icon("stopped"), self)
            self.icon.setContextMenu(self.menu)
            self.icon.activated.connect(self._activated)
            self.refresh()
            self.icon.show()
            self.available.emit()
            return True
        self._tries_left -= 1
        if self._tries_left <= 0:
            self._retry.stop()
            self.unavailable.emit(
                "No system tray was found, so closing the window quits BestBox. On GNOME, install the "
                "AppIndicator extension to get a tray icon.")
        return False

    @property
    def exists(self) -> bool:
        return self.icon is not None and self.icon.isVisible()

    # -- menu ------------------------------------------------------------------------------------
    def _build_menu(self) -> None:
        m = self.menu
        self.actions["show"] = m.addAction("Show window", self.toggle_window)
        self.actions["talk"] = m.addAction("Talk", self.talk_requested.emit)
        self.actions["settings"] = m.addAction("Settings…", self.open_settings)
        m.addSeparator()
        self.actions["heavy"] = m.addAction("Start heavy server", lambda: self._toggle("heavy"))
        self.actions["light"] = m.addAction("Start light server", lambda: self._toggle("light"))
        self.actions["all"] = m.addAction("Start both servers", lambda: self._toggle("all"))
        m.addSeparator()
        self.actions["quit"] = m.addAction("Quit BestBox", self.quit_requested.emit)
        m.aboutToShow.connect(self.refresh)

    def add_toggle(self, key: str, text: str, checked: bool, on_toggled, changed) -> None:
        """A checkable entry before Quit that follows `changed(bool)` from elsewhere (window, config)
        without echoing it back to `on_toggled`."""
        act = self.menu.addAction(text)
        act.setCheckable(True)
        act.setChecked(checked)
        quit_act = self.actions.get("quit")
        if quit_act is not None:
            self.menu.removeAction(act)
            self.menu.insertAction(quit_act, act)
        act.toggled.connect(on_toggled)
        changed.connect(lambda on: (act.blockSignals(True), act.setChecked(on), act.blockSignals(False)))
        self.actions[key] = act

    def open_settings(self) -> None:
        if hasattr(self.window, "open_settings"):
            self.window.open_settings()

    def _toggle(self, name: str) -> None:
        if self.bridge is not None:
            self.bridge.toggle(name)

    def toggle_window(self) -> None:
        w = self.window
        if w.isVisible() and not w.isMinimized():
            w.hide()
        else:
            w.showNormal()
            w.raise_()
            w.activateWindow()
        self.refresh()

    def _activated(self, reason) -> None:
        if reason in (QSystemTrayIcon.ActivationReason.Trigger, QSystemTrayIcon.ActivationReason.DoubleClick):
            self.toggle_window()

    def set_recording(self, on: bool) -> None:
        self.recording = on
        self.actions["talk"].setText("Stop talking" if on else "Talk")
        self.refresh()

    def states(self) -> dict[str, str]:
        if self.bridge is None:
            return {}
        return {n: self.bridge.state(n) for n in NAMES if self.bridge.enabled(n) or self.bridge.is_running(n)}

    def refresh(self) -> None:
        states = self.states()
        self.state = combined_state(states, self.recording)
        self.actions["show"].setText("Hide window" if self.window.isVisible() else "Show window")
        for n in NAMES:
            running = self.bridge is not None and self.bridge.is_running(n)
            self.actions[n].setText(f"{'Stop' if running else 'Start'} {n} server")
            self.actions[n].setEnabled(self.bridge is not None and self.bridge.state(n) != "external"
                                       and not state_info(self.bridge.state(n)).remote)
        any_running = self.bridge is not None and any(self.bridge.is_running(n) for n in NAMES)
        self.actions["all"].setText("Stop both servers" if any_running else "Start both servers")
        if self.icon is not None:
            self.icon.setIcon(icons.tray_icon(self.state))
            lines = ["BestBox" + (" — recording" if self.recording else "")]
            for n in NAMES:
                if self.bridge is not None:
                    url = getattr(self.bridge.snapshots.get(n), "url", "")  # a remote server: say where
                    lines.append(f"{n.capitalize()}: {state_style(self.bridge.state(n))[1].lower()}"
                                 + (f" ({url})" if url else ""))
            self.icon.setToolTip("\n".join(lines))

    def message(self, title: str, text: str) -> None:
        if self.icon is not None:
            self.icon.showMessage(title, text, icons.app_icon(), 6000)

    def hide(self) -> None:
        self._retry.stop()
        if self.icon is not None:
            self.icon.hide()
