"""`run_gui(args)`: the QApplication on a qasync loop, the services, the window and the tray.

The window shows first (well under 1.5 s); the servers start and the assistant is built in the
background afterwards. Quit — from the window, the tray, Ctrl+C or SIGTERM — stops the servers this
process started (`ServerManager.shutdown()`), then ends the loop."""
from __future__ import annotations

import asyncio
import json
import logging
import os
import signal
import socket
import sys
import time

from PySide6.QtCore import QObject, QSocketNotifier, QTimer, Signal
from PySide6.QtWidgets import QApplication

from .. import config as config_mod
from ..servers.state import info as state_info
from . import icons, theme
from .assistant_adapter import AssistantAdapter
from .main_window import MainWindow
from .server_bridge import ServerBridge
from .tray import Tray
from .voice_adapter import VoiceController, default_session_factory

log = logging.getLogger(__name__)


def config_banner_text(loaded) -> str:
    lines = [f"Problems in the config file {loaded.path} — those values use their defaults:"]
    lines += [f"• {issue}" for issue in loaded.issues[:8]]
    if len(loaded.issues) > 8:
        lines.append(f"• … and {len(loaded.issues) - 8} more (run `bestbox doctor`)")
    return "\n".join(lines)


class AppController(QObject):
    """Owns the services and the window; the only place that starts and stops things."""

    finished = Signal()

    def __init__(self, app: QApplication, loaded, *, manager=None, assistant_factory=None, session_factory=None,
                 start_servers: bool | None = None, use_tray: bool = True, tray_retry_s: float = 30.0):
        super().__init__()
        self.app = app
        self.loaded = loaded
        self.config = loaded.config
        # Without a manager given, the servers package is imported after the first paint.
        self.manager = manager
        self.bridge = ServerBridge(manager, self)
        self.assistant = AssistantAdapter(None, self.bridge, self, isolate=True)
        self._assistant_factory = assistant_factory or self._default_assistant
        if session_factory is None:
            session_factory = default_session_factory(self.config, self.assistant, lambda: self.manager)
        self.voice = VoiceController(session_factory, self)
        self.window = MainWindow(self.bridge, self.assistant, self.voice, loaded)
        self.window.quit_requested.connect(self.request_quit)
        self.start_servers = self.config.app.start_servers_on_launch if start_servers is None else start_servers
        self.tray: Tray | None = None
        if use_tray:
            self.tray = Tray(self.window, self.bridge, retry_s=tray_retry_s)
            self.tray.quit_requested.connect(self.request_quit)
            self.tray.talk_requested.connect(self._tray_talk)
            self.window.set_tray(self.tray)
        self._wire_speak()
        self._wire_wake()
        self._primed: set[tuple] = set()
        self.bridge.changed.connect(self._prime_client)
        self.quitting = False
        self.warmed_up = False
        self.startup_done = False
        self.shown_at: float | None = None
        self.sweep_notes: list[str] = []
        self._tasks: set[asyncio.Task] = set()
        from .qt_compat import install_guard_if_needed

        qt_warning = install_guard_if_needed()
        if qt_warning:
            self.window.banners.show_message(qt_warning, "warn", "qt")
        if loaded.issues:
            self.window.banners.show_message(config_banner_text(loaded), "error", "config")
        elif getattr(loaded, "created", False):
            self.window.banners.show_message(
                f"Welcome! A commented config file was written to {loaded.path}. Point the servers' "
                "model paths at your GGUF files there; until then the bundled demo model answers.", "info", "config")

    def _default_assistant(self):
        from ..pipeline.assistant import Assistant

        return Assistant(self.config, self.manager)

    async def _ensure_manager(self) -> None:
        if self.manager is not None:
            return
        import importlib

        loop = asyncio.get_running_loop()
        # The import (httpx, psutil, …) takes a few hundred ms: a worker thread does it.
        mod = await loop.run_in_executor(None, importlib.import_module, "bestbox.servers.manager")
        self.manager = mod.ServerManager(self.config)
        self.bridge.attach(self.manager)

    async def _build_assistant(self) -> None:
        from .warmup import freeze_long_lived_objects, warm_imports

        loop = asyncio.get_running_loop()
        await self.assistant.build(self._assistant_factory)
        n = await loop.run_in_executor(None, warm_imports)
        log.debug("warm-up imported %d modules", n)
        a = self.assistant.assistant
        if a is not None and hasattr(a, "database"):
            try:  # the demo company database: generated on first run (seconds), before the first question
                await self.assistant.call_async(a.database)
            except Exception as e:  # noqa: BLE001
                log.warning("database preparation failed: %s", e)
        self.warmed_up = True
        if self.voice.available:
            await self.voice.preload()  # Whisper last: its load holds the GIL for a while
        await self.speak.preload()  # the spoken replies' voice (onnxruntime), after the window and Whisper
        self.wake.start()  # hands-free: listen for the wake word once a turn can run at once
        log.debug("froze %d long-lived objects", freeze_long_lived_objects())
        self.startup_done = True

    def _prime_client(self, snap) -> None:
        """Voice (ASR clean-up) asks the manager for the light server's client on this loop; its
        first creation builds an SSL context (30–60 ms). Do that when the server turns ready, not
        in the middle of a voice turn."""
        key = (snap.name, getattr(snap, "base_url", ""))
        if not state_info(self.bridge.state(snap.name)).healthy or key in self._primed:
            return
        self._primed.add(key)
        QTimer.singleShot(50, lambda: self.manager is not None and self.manager.client(snap.name))

    def bring_to_front(self) -> None:
        w = self.window
        w.showNormal()
        w.raise_()
        w.activateWindow()
        if self.tray is not None:
            self.tray.refresh()

    def _tray_talk(self) -> None:
        if not self.window.isVisible():
            self.window.showNormal()
        self.voice.toggle()

    def _spawn(self, coro) -> asyncio.Task:
        t = asyncio.ensure_future(coro)
        self._tasks.add(t)
        t.add_done_callback(self._tasks.discard)
        return t

    # -- start -----------------------------------------------------------------------------------
    def show(self) -> None:
        self.window.show()
        self.shown_at = time.perf_counter()
        # Everything slow happens after the first paint.
        QTimer.singleShot(0, self._after_show)

    def _after_show(self) -> None:
        if self.tray is not None:
            self.tray.start()
        self._spawn(self._background_start())

    async def _background_start(self) -> None:
        await self._ensure_manager()
        self._spawn(self._build_assistant())
        self.sweep_notes = await self.bridge.prepare(self.start_servers)
        for note in self.sweep_notes:
            log.info("start-up sweep: %s", note)
        if self.start_servers:
            warning = await self.bridge.memory_check()
            self.window.servers.set_memory_warning(warning)
            if warning:
                self.window.banners.show_message(warning, "warn", "memory")

    # -- quit ------------------------------------------------------------------------------------
    def request_quit(self) -> None:
        if self.quitting:
            return
        self._spawn(self.quit())

    def _wire_speak(self) -> None:
        """Spoken replies: one controller for the window's Speak buttons and mute, and the tray's."""
        from .speak_controller import SpeakController
        from .speak_widgets import add_tray_mute

        self.speak = SpeakController(self.config.voice_out, getattr(self.loaded, "path", None), self)
        self.speak.microphone = self.config.speech.input_device
        self.speak.barged_in.connect(lambda hit: self.voice.run_audio(hit.audio))
        self.speak.follow_answers(self.assistant)  # a spoken answer made ahead: its first clause too
        self.window.set_speak(self.speak)
        if self.tray is not None:
            add_tray_mute(self.tray, self.speak)

    def _wire_wake(self) -> None:
        """The optional wake word: its listener, the status bar's microphone indicator, the tray entry."""
        from .mic_indicator import MicIndicator, add_tray_wake
        from .wake_controller import WakeController

        self.wake = WakeController(self.config.voice_in, self.config.speech, self.voice, self.speak,
                                   getattr(self.loaded, "path", None), self)
        self.wake.error.connect(lambda msg: self.window.banners.show_message(msg, "warn", "wake"))
        self.window.wake = self.wake  # the settings window's wake word changes apply at once
        self.window.mic_indicator = MicIndicator(self.wake, self.window.status)
        self.window.status.addPermanentWidget(self.window.mic_indicator)
        if self.tray is not None:
            add_tray_wake(self.tray, self.wake)

    async def quit(self) -> None:
        if self.quitting:
            return
        self.quitting = True
        self.wake.stop()  # the microphone closes at once; aclose() below waits for the thread
        self.speak.stop()  # silent at once; aclose() below waits for the synthesis thread
        self.window.quitting = True
        self.window.chat.stop()
        self.voice.cancel()
        self.window.hide()
        if self.tray is not None:
            self.tray.hide()
        await self.speak.aclose()
        await self.wake.aclose()
        try:
            await self.bridge.shutdown()
        except Exception as e:  # noqa: BLE001
            log.warning("shutdown: %s", e)
        self.assistant.close()
        self.window.close()
        self.finished.emit()


class _SignalWaker:
    """Ctrl+C / SIGTERM while Qt's C++ loop runs: Python runs its handlers only when it gets control,
    so the signal writes to a socket that a QSocketNotifier watches."""

    def __init__(self, on_signal):
        self.r, self.w = socket.socketpair()
        self.r.setblocking(False)
        self.w.setblocking(False)
        self.prev_fd = signal.set_wakeup_fd(self.w.fileno())
        self.notifier = QSocketNotifier(self.r.fileno(), QSocketNotifier.Type.Read)
        self.notifier.activated.connect(self._drain)
        self.count = 0
        self.on_signal = on_signal
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, self._handler)

    def _drain(self) -> None:
        try:
            while self.r.recv(64):
                pass
        except (BlockingIOError, OSError):
            pass

    def _handler(self, signum, _frame) -> None:
        self.count += 1
        self.on_signal(signum, self.count)

    def close(self) -> None:
        signal.set_wakeup_fd(self.prev_fd)
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, signal.SIG_DFL)
        self.notifier.setEnabled(False)
        self.r.close()
        self.w.close()


def make_app() -> QApplication:
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("BestBox")
    app.setApplicationDisplayName("BestBox")
    app.setDesktopFileName("bestbox")
    app.setQuitOnLastWindowClosed(False)
    theme.apply(app)
    app.setWindowIcon(icons.app_icon())
    return app


def run_gui(args) -> int:
    t0 = time.perf_counter()
    import qasync

    logging.basicConfig(level=os.environ.get("BESTBOX_LOG", "WARNING").upper(),
                        format="%(asctime)s %(name)s %(levelname)s %(message)s")
    app = make_app()
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    loaded = config_mod.load()
    from .single_instance import SingleInstance

    instance = SingleInstance(loaded.path)
    if not instance.claim():
        print("BestBox is already running: its window was brought to the front.")
        return 0
    start = False if getattr(args, "no_start", False) else None
    ctrl = AppController(app, loaded, start_servers=start)
    instance.activated.connect(ctrl.bring_to_front)
    ctrl.finished.connect(loop.stop)

    def on_signal(signum, count):
        if count > 1:  # a second Ctrl+C: stop waiting for a clean shutdown
            loop.call_soon_threadsafe(loop.stop)
        else:
            loop.call_soon_threadsafe(ctrl.request_quit)

    waker = _SignalWaker(on_signal)
    ctrl.show()
    shown_ms = (time.perf_counter() - t0) * 1000
    report = os.environ.get("BESTBOX_GUI_REPORT")
    if report:
        _write_report(report, ctrl, shown_ms)
    log.info("window shown %.0f ms after run_gui", shown_ms)
    try:
        with loop:
            loop.run_forever()
    finally:
        waker.close()
        instance.close()
    return 0


def _write_report(path: str, ctrl: AppController, shown_ms: float) -> None:
    """For tests: when the window showed (wall clock, to compare with the launch time) and how long
    run_gui took to show it."""
    heavy = [m for m in ("faster_whisper", "ctranslate2", "openai", "sounddevice", "onnxruntime") if m in sys.modules]
    with open(path, "w") as f:
        json.dump({"shown_ms": round(shown_ms, 1), "shown_at": time.time(), "visible": ctrl.window.isVisible(),
                   "cpu_s": round(time.process_time(), 3), "pid": os.getpid(),
                   # what the window did NOT wait for: servers still coming up, heavy modules unloaded
                   "servers_at_shown": {n: c.badge.state for n, c in ctrl.window.servers.cards.items()},
                   "heavy_modules_at_shown": heavy}, f)
