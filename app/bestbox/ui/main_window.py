"""The main window: conversations on the left, the chat in the centre, servers and routing on the
right, both servers' states in the status bar. Closing hides to the tray when there is one (and
says so once); only Quit stops the servers."""
from __future__ import annotations

import logging

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAction, QKeySequence, QShortcut
from PySide6.QtWidgets import QMainWindow, QMessageBox, QSplitter, QTabWidget, QVBoxLayout, QWidget

from .. import __version__
from . import icons
from .banner import BannerArea
from .chat_pane import ChatPane
from .conversation_list import ConversationList
from .routing_report import RoutingReport
from .server_panel import ServerPanel
from . import docs_progress
from .status_bar import StatusBar

log = logging.getLogger(__name__)


class MainWindow(QMainWindow):
    quit_requested = Signal()

    def __init__(self, bridge, assistant, voice=None, loaded_config=None, parent: QWidget | None = None):
        super().__init__(parent)
        self.bridge = bridge
        self.assistant = assistant
        self.voice = voice
        self.loaded = loaded_config
        cfg = getattr(loaded_config, "config", None)
        self.config = cfg
        self.tray = None
        self.quitting = False
        self._told_about_tray = False
        self.setWindowTitle("BestBox")
        self.setWindowIcon(icons.app_icon())
        self.resize(1280, 800)
        self.setMinimumSize(900, 560)

        central = QWidget(self)
        col = QVBoxLayout(central)
        col.setContentsMargins(0, 0, 0, 0)
        col.setSpacing(0)
        self.banners = BannerArea(central)
        col.addWidget(self.banners)
        self.splitter = QSplitter(Qt.Orientation.Horizontal, central)
        self.splitter.setChildrenCollapsible(False)
        self.splitter.setHandleWidth(1)
        self.conversations = ConversationList(self.splitter)
        self.conversations.setMinimumWidth(190)
        self.chat = ChatPane(assistant, self.splitter)
        self.chat.setMinimumWidth(460)
        self.side = QTabWidget(self.splitter)
        self.side.setDocumentMode(True)
        self.side.setMinimumWidth(330)
        self.servers = ServerPanel(bridge, cfg, self.side, config_path=getattr(loaded_config, "path", None))
        self.side.addTab(self.servers, "Servers")
        self.routing = RoutingReport(assistant.routing_report if assistant is not None else None, cfg,
                                     getattr(loaded_config, "path", None), self.side,
                                     corrections=assistant if hasattr(assistant, "export_corrections") else None)
        self.side.addTab(self.routing, "Routing")
        self.splitter.addWidget(self.conversations)
        self.splitter.addWidget(self.chat)
        self.splitter.addWidget(self.side)
        self.splitter.setStretchFactor(0, 0)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setStretchFactor(2, 0)
        self.splitter.setSizes([230, 690, 360])
        col.addWidget(self.splitter, 1)
        self.setCentralWidget(central)
        self.status = StatusBar(bridge, self)
        self.setStatusBar(self.status)
        self.docs_progress = docs_progress.attach(self, cfg)   # None without [data] documents
        self._build_menu()
        self._wire()
        self.refresh_conversations()
        # Typing right after the window opens goes to the question box. Without this Qt focuses the
        # first widget in tab order, the "New conversation" button: the first word went nowhere and
        # the space after it clicked the button.
        self.chat.composer.input.setFocus()

    # -- construction ----------------------------------------------------------------------------
    def _build_menu(self) -> None:
        mb = self.menuBar()
        f = mb.addMenu("&File")
        self.act_new = f.addAction("New conversation", self.new_conversation)
        self.act_new.setShortcut(QKeySequence("Ctrl+N"))
        self.act_settings = f.addAction("Settings…", self.open_settings)
        self.act_settings.setShortcut(QKeySequence("Ctrl+,"))
        f.addSeparator()
        self.act_close = f.addAction("Close window", self.close)
        self.act_close.setShortcut(QKeySequence("Ctrl+W"))
        self.act_quit = f.addAction("Quit (stops the servers)", self.request_quit)
        self.act_quit.setShortcut(QKeySequence("Ctrl+Q"))
        s = mb.addMenu("&Servers")
        if self.bridge is not None:
            s.addAction("Start both", lambda: self.bridge.start("all"))
            s.addAction("Stop both", lambda: self.bridge.stop("all"))
            s.addSeparator()
            for n in ("heavy", "light"):
                s.addAction(f"Restart {n}", lambda n=n: self.bridge.restart(n))
        v = mb.addMenu("&View")
        v.addAction("Servers", lambda: self.side.setCurrentWidget(self.servers))
        v.addAction("Routing report", self.show_routing)
        t = mb.addMenu("&Voice")
        self.act_talk = QAction("Talk (toggle)", self)
        self.act_talk.setShortcut(QKeySequence("Ctrl+Space"))
        self.act_talk.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        t.addAction(self.act_talk)
        h = mb.addMenu("&Help")
        h.addAction("About BestBox", self._about)

    def _wire(self) -> None:
        c = self.conversations
        c.new_requested.connect(self.new_conversation)
        c.selected.connect(self.open_conversation)
        c.delete_requested.connect(self.delete_conversation)
        c.rename_requested.connect(self.rename_conversation)
        c.search_changed.connect(lambda _q: self.refresh_conversations())
        self.chat.conversation_started.connect(lambda cid: self.refresh_conversations(cid))
        self.chat.turn_finished.connect(lambda _d: self.routing.refresh() if self.side.currentWidget() is self.routing else None)
        self.chat.start_servers_requested.connect(lambda: self.bridge.start("all") if self.bridge else None)
        self.side.currentChanged.connect(lambda _i: self.routing.refresh() if self.side.currentWidget() is self.routing else None)
        if self.bridge is not None:
            self.bridge.action_failed.connect(
                lambda name, msg: self.banners.show_message(f"{name.capitalize()} server: {msg}", "error", f"act-{name}"))
        if self.assistant is not None and hasattr(self.assistant, "ready"):
            self.assistant.ready.connect(self.refresh_conversations)
            self.assistant.failed.connect(lambda msg: self.banners.show_message(msg, "error", "assistant"))
        # voice controls: all through the one controller
        box = self.chat.composer.input
        mic = self.chat.composer.mic
        v = self.voice
        if v is not None:
            box.hold_talk_started.connect(v.hold_start)
            box.hold_talk_ended.connect(v.hold_end)
            box.escape_pressed.connect(v.cancel)
            mic.hold_started.connect(v.hold_start)
            mic.hold_ended.connect(v.hold_end)
            mic.clicked_toggle.connect(self._mic_clicked)
            self.act_talk.triggered.connect(v.toggle)
            esc = QShortcut(QKeySequence(Qt.Key.Key_Escape), self)
            esc.activated.connect(v.cancel)
            self.chat.composer.stop_requested.connect(lambda: v.cancel() if v.active else None)
            v.event.connect(self.chat.voice_event)
            v.level.connect(mic.set_level_dbfs)
            v.recording_changed.connect(self._recording)
            v.unavailable.connect(self._voice_unavailable)
            v.status.connect(lambda text: self.status.set_voice(text) if not v.recording else None)
            v.conversation_id = lambda: self.chat.conversation_id

    def _mic_clicked(self) -> None:
        """A short click: start a turn that end-of-speech detection closes, or end the recording."""
        self.voice.toggle()

    def _recording(self, on: bool) -> None:
        self.chat.composer.mic.set_recording(on)
        self.status.set_voice("Recording — release Space or click the mic to finish, Esc cancels" if on else "",
                              recording=on)
        self.chat.composer.set_hint("Listening… release to send · Esc cancels" if on else None)
        if self.tray is not None:
            self.tray.set_recording(on)

    def _voice_unavailable(self, reason: str) -> None:
        self.status.set_voice(reason)
        self.chat.composer.set_hint(reason)

    # -- conversations ---------------------------------------------------------------------------
    def refresh_conversations(self, current: str | None = None) -> None:
        if self.assistant is None:
            return
        query = self.conversations.search.text().strip()
        try:
            convs = (self.assistant.search_conversations(query) if query and hasattr(self.assistant, "search_conversations")
                     else self.assistant.list_conversations())
        except Exception as e:  # noqa: BLE001
            log.warning("cannot list conversations: %s", e)
            return
        self.conversations.set_conversations(convs, current or self.chat.conversation_id)

    def new_conversation(self) -> None:
        self.chat.new_conversation()
        self.conversations.select(None)

    def open_conversation(self, cid: str) -> None:
        if cid == self.chat.conversation_id and self.chat.bubbles:
            return
        try:
            msgs = self.assistant.load(cid)
        except Exception as e:  # noqa: BLE001
            self.banners.show_message(f"Could not open the conversation: {e}", "error", "history")
            return
        self.chat.show_conversation(cid, msgs)
        self.conversations.select(cid)

    def delete_conversation(self, cid: str) -> None:
        try:
            self.assistant.delete(cid)
        except Exception as e:  # noqa: BLE001
            self.banners.show_message(f"Could not delete the conversation: {e}", "error", "history")
            return
        if cid == self.chat.conversation_id:
            self.chat.new_conversation()
        self.refresh_conversations()

    def rename_conversation(self, cid: str, title: str) -> None:
        try:
            self.assistant.rename(cid, title)
        except Exception as e:  # noqa: BLE001
            self.banners.show_message(f"Could not rename the conversation: {e}", "error", "history")
        self.refresh_conversations()

    def open_settings(self) -> None:
        from .settings_dialog import SettingsDialog

        if getattr(self, "settings", None) is None:
            self.settings = SettingsDialog(self.loaded, self)
            self.settings.saved.connect(self._settings_saved)
        self.settings.reload()
        self.settings.show()
        self.settings.raise_()
        self.settings.activateWindow()

    def _settings_saved(self, cfg, keys: list) -> None:
        """Stopped servers take new server settings at once; running ones on their next restart."""
        manager = getattr(self.bridge, "manager", None)
        if manager is not None and any(k.split(".")[0] in ("servers", "llama") for k in keys):
            import asyncio

            asyncio.ensure_future(manager.reconfigure(cfg))
        if getattr(self, "wake", None) is not None and any(k.startswith("voice_in.") for k in keys):
            self.wake.reconfigure()

    def show_routing(self) -> None:
        self.side.setCurrentWidget(self.routing)
        self.routing.refresh()

    def _about(self) -> None:
        QMessageBox.about(self, "About BestBox",
                          f"<b>BestBox {__version__}</b><br>A local-first desktop voice assistant on two "
                          "llama.cpp servers: a light model routes and answers quick questions, a heavy "
                          "model runs the agents and tools.")

    def set_speak(self, speak) -> None:
        """Spoken replies (ui/speak_controller.py): answers' Speak buttons and the status bar's mute."""
        from .speak_widgets import MuteButton

        self.speak = speak
        self.chat.answer_listeners.append(speak.on_answer_event)
        self.chat.speak_requested.connect(speak.replay)
        speak.speaking_changed.connect(lambda bubble, on: bubble.actions.set_speaking(on))
        speak.first_audio.connect(self.chat.show_first_audio)
        self.mute_button = MuteButton(speak, self.status)
        self.status.addPermanentWidget(self.mute_button)
        self.chat.composer.stop_requested.connect(speak.stop)

    # -- tray, close and quit --------------------------------------------------------------------
    def set_tray(self, tray) -> None:
        self.tray = tray
        tray.unavailable.connect(lambda reason: self.banners.show_message(reason, "info", "tray"))

    def close_to_tray(self) -> bool:
        return (self.tray is not None and self.tray.exists
                and bool(getattr(getattr(self.config, "app", None), "close_to_tray", True)))

    def closeEvent(self, e) -> None:  # noqa: N802
        if self.quitting:
            e.accept()
            return
        if self.close_to_tray():
            e.ignore()
            self.hide()
            if not self._told_about_tray:
                self._told_about_tray = True
                self.tray.message("BestBox is still running",
                                  "The window is hidden; the model servers keep running. Use Quit in the tray "
                                  "menu to stop them.")
            self.tray.refresh()
            return
        e.ignore()
        self.request_quit()

    def request_quit(self) -> None:
        self.quit_requested.emit()
