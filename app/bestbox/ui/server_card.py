"""One server's card: state badge, model, numbers, load progress, its message, Start/Stop/Restart
and its own log."""
from __future__ import annotations

import html
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor, QTextCursor, QTextOption
from PySide6.QtWidgets import (QFrame, QGridLayout, QHBoxLayout, QLabel, QPlainTextEdit, QProgressBar, QPushButton,
                               QSizePolicy, QToolButton, QVBoxLayout, QWidget)

from ..servers.state import info as state_info
from . import icons, theme
from ..units import fmt_bytes, fmt_duration
from .formatting import model_label
from .model_download import ModelDownloadBox

TITLES = {"heavy": ("Heavy model", "agents, tools, long answers"),
          "light": ("Light model", "routing, clean-up, quick answers")}
LOG_LINES = 2000


class StateBadge(QLabel):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setTextFormat(Qt.TextFormat.RichText)
        self.setFixedHeight(22)
        self.setMinimumWidth(1)   # never widens the card past the side panel: fit() shortens the text instead
        self._room = 10 ** 6
        self.set_state("stopped")

    def set_state(self, state, extra: str = "", tooltip: str = "") -> None:
        colour, label = theme.state_style(state)
        self.state = theme.state_name(state)
        self.colour = colour
        self.full_text = f"{label}{extra}"
        self.fit()
        self.setToolTip("\n\n".join(t for t in (state_info(state).tooltip, tooltip) if t))
        c = QColor(colour)
        self.setStyleSheet(f"color: {colour}; background: rgba({c.red()},{c.green()},{c.blue()},30);"
                           " border-radius: 11px; padding: 0 10px; font-weight: 600;")


    def fit(self, room: int | None = None) -> None:
        """The whole label when it fits in `room` pixels; else the part after "·" ("Remote · unreachable"
        → "Unreachable": the card's address and kind say remote), elided if even that is too wide."""
        self._room = self._room if room is None else room
        pad = 40   # the style's horizontal padding, the painted dot before the text and a little air
        self.ensurePolished()   # the style sheet's bold font, for the metrics
        fm = self.fontMetrics()
        text = self.full_text
        if fm.horizontalAdvance(text) + pad > self._room and "·" in text:
            tail = text.rsplit("·", 1)[1].strip()
            text = tail[:1].upper() + tail[1:]
        if fm.horizontalAdvance(text) + pad > self._room:
            text = fm.elidedText(text, Qt.TextElideMode.ElideRight, max(20, self._room - pad))
        self.setText(f"{icons.dot_html(self.colour)}&nbsp;&nbsp;{html.escape(text)}")


class ServerCard(QFrame):
    start_requested = Signal(str)
    stop_requested = Signal(str)
    restart_requested = Signal(str)
    source_requested = Signal(str)    # "where it runs": local or a team server (ui/server_source.py)

    def __init__(self, name: str, logs_source=None, parent: QWidget | None = None):
        """logs_source: callable name -> list[str] (ServerManager.logs)."""
        super().__init__(parent)
        self.name = name
        self.logs_source = logs_source
        self.snap = None
        self.setObjectName("serverCard")
        self.setStyleSheet(f"#serverCard {{ background: {theme.PANEL}; border: 1px solid {theme.BORDER};"
                           " border-radius: 10px; }")
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Maximum)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(14, 12, 14, 12)
        lay.setSpacing(8)

        head = QHBoxLayout()
        title, role = TITLES.get(name, (name.title(), ""))
        tcol = QVBoxLayout()
        tcol.setSpacing(0)
        t = QLabel(f"<b>{title}</b>", self)
        t.setStyleSheet("font-size: 10.5pt;")
        tcol.addWidget(t)
        r = QLabel(role, self)
        r.setStyleSheet(f"color: {theme.MUTED}; font-size: 8.5pt;")
        r.setMinimumWidth(1)   # elided in resizeEvent rather than widening the card
        r.ensurePolished()
        self._role = role
        tcol.addWidget(r)
        head.addLayout(tcol)
        head.addStretch(1)
        self._titles = (t, r)
        self.badge = StateBadge(self)
        head.addWidget(self.badge, 0, Qt.AlignmentFlag.AlignTop)
        lay.addLayout(head)

        self.model = QLabel("—", self)
        self.model.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.model.setWordWrap(True)
        self.model.setStyleSheet("font-weight: 600;")
        lay.addWidget(self.model)
        self.demo = QLabel(self)
        self.demo.setWordWrap(True)
        self.demo.setStyleSheet(f"background: {theme.NOTE_BG}; border: 1px solid {theme.NOTE_BORDER};"
                                " color: #6b4a06; border-radius: 6px; padding: 5px 8px; font-size: 8.5pt;")
        self.demo.hide()
        lay.addWidget(self.demo)
        self.roles = QLabel(self)   # what this model cannot do in its roles, with the fix
        self.roles.setWordWrap(True)
        self.roles.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.roles.hide()
        lay.addWidget(self.roles)
        self.download = ModelDownloadBox(name, self)  # "Download Qwen2.5-…" while the demo model runs
        lay.addWidget(self.download)

        grid = QGridLayout()
        grid.setHorizontalSpacing(14)
        grid.setVerticalSpacing(3)
        self.fields: dict[str, QLabel] = {}
        for i, (key, label) in enumerate((("port", "Port"), ("pid", "PID"), ("uptime", "Uptime"),
                                          ("speed", "Speed"), ("requests", "Requests"), ("slots", "Slots"),
                                          ("ram", "Memory"), ("vram", "VRAM"), ("cpu", "CPU"))):
            k = QLabel(label, self)
            k.setStyleSheet(f"color: {theme.MUTED}; font-size: 8.5pt;")
            v = QLabel("—", self)
            v.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            row, col = divmod(i, 3)
            cell = QVBoxLayout()
            cell.setSpacing(0)
            cell.addWidget(k)
            cell.addWidget(v)
            grid.addLayout(cell, row, col)
            self.fields[key] = v
        lay.addLayout(grid)

        self.progress = QProgressBar(self)
        self.progress.setRange(0, 1000)
        self.progress.setTextVisible(False)
        self.progress.setFixedHeight(6)
        self.progress_label = QLabel(self)
        self.progress_label.setStyleSheet(f"color: {theme.MUTED}; font-size: 8.5pt;")
        lay.addWidget(self.progress)
        lay.addWidget(self.progress_label)
        self.message = QLabel(self)
        self.message.setWordWrap(True)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        lay.addWidget(self.message)

        btns = QHBoxLayout()
        btns.setSpacing(6)
        self.start_btn = QPushButton("Start", self)
        self.stop_btn = QPushButton("Stop", self)
        self.restart_btn = QPushButton("Restart", self)
        for b in (self.start_btn, self.stop_btn, self.restart_btn):
            btns.addWidget(b)
        btns.addStretch(1)
        self.log_toggle = QToolButton(self)
        self.log_toggle.setText("Log")
        self.log_toggle.setCheckable(True)
        self.log_toggle.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.log_toggle.setArrowType(Qt.ArrowType.RightArrow)
        self.log_toggle.setStyleSheet(f"QToolButton {{ border: 0; color: {theme.MUTED}; padding: 3px; }}"
                                      f" QToolButton:hover {{ color: {theme.TEXT}; }}")
        btns.addWidget(self.log_toggle)
        lay.addLayout(btns)
        # Its own row: the card stays as narrow as the side panel allows.
        self.source_btn = QPushButton("Use a team server…", self)
        self.source_btn.setFlat(True)
        self.source_btn.setToolTip("Run this model on this computer, or use a shared team server")
        self.source_btn.setStyleSheet(f"QPushButton {{ color: {theme.ACCENT}; border: 0; padding: 2px 0; "
                                      "text-align: left; }")
        lay.addWidget(self.source_btn, 0, Qt.AlignmentFlag.AlignLeft)
        self.start_btn.clicked.connect(lambda: self.start_requested.emit(self.name))
        self.stop_btn.clicked.connect(lambda: self.stop_requested.emit(self.name))
        self.restart_btn.clicked.connect(lambda: self.restart_requested.emit(self.name))
        self.source_btn.clicked.connect(lambda: self.source_requested.emit(self.name))

        self.log = QPlainTextEdit(self)
        self.log.setReadOnly(True)
        self.log.setMaximumBlockCount(LOG_LINES)
        self.log.setFont(theme.mono_font())
        self.log.setLineWrapMode(QPlainTextEdit.LineWrapMode.WidgetWidth)
        self.log.setWordWrapMode(QTextOption.WrapMode.WrapAtWordBoundaryOrAnywhere)
        self.log.setMinimumHeight(180)
        self.log.setStyleSheet("QPlainTextEdit { background: #1f242b; color: #d7dde5; border: 0; border-radius: 6px; }")
        self.log.hide()
        lay.addWidget(self.log)
        self.log_toggle.toggled.connect(self._toggle_log)
        self.update_snapshot(None)

    # -- snapshot --------------------------------------------------------------------------------
    def resizeEvent(self, event) -> None:
        """In a narrow side panel the state keeps its room: the role line is elided first, then the badge
        shortened (StateBadge.fit); nothing widens the card past the panel."""
        m = self.layout().contentsMargins()
        room = event.size().width() - m.left() - m.right() - 12
        title, role = self._titles
        self.badge.fit(room - title.sizeHint().width())
        left = max(20, room - self.badge.sizeHint().width())
        role.setText(role.fontMetrics().elidedText(self._role, Qt.TextElideMode.ElideRight, left))
        role.setToolTip(self._role if role.text() != self._role else "")
        super().resizeEvent(event)

    def update_snapshot(self, snap) -> None:
        self.snap = snap
        g = (lambda k, d=None: getattr(snap, k, d)) if snap is not None else (lambda k, d=None: d)
        state = theme.state_name(g("state", "stopped"))
        self.model.setText(model_label(snap) if snap is not None else "—")
        self.model.setToolTip(g("model_path", "") or "")
        if g("using_demo_model", False):
            cfg_path = self._configured_model()
            # The config may name the demo file itself: only a file that is not there is "not found".
            missing = f": configured file {cfg_path} not found" if cfg_path and not Path(cfg_path).expanduser().is_file() \
                else ""
            self.demo.setText(f"Demo model (SmolLM2-135M){missing}. Point [servers.{self.name}] model at a "
                              "real GGUF for useful answers.")
            self.demo.show()
        else:
            self.demo.hide()
        self.download.set_demo(bool(g("using_demo_model", False)))
        host, port = g("host", ""), g("port")
        self.fields["port"].setText(str(port) if port else "—")
        self.fields["port"].setToolTip(g("base_url", "") or (f"{host}:{port}" if port else ""))
        self.fields["pid"].setText(str(g("pid")) if g("pid") else "—")
        self.fields["uptime"].setText(fmt_duration(g("uptime_s")) or "—")
        tps = g("tokens_per_s")
        self.fields["speed"].setText(f"{tps:.1f} tok/s" if tps else "—")
        req = g("requests_total")
        self.fields["requests"].setText(str(req) if req is not None else "—")
        busy, total = g("busy_slots"), g("total_slots")
        self.fields["slots"].setText(f"{busy or 0} / {total} busy" if total else "—")
        self.fields["ram"].setText(fmt_bytes(g("rss_bytes"), binary=True) or "—")
        self.fields["vram"].setText(fmt_bytes(g("vram_bytes"), binary=True) or "—")
        self.fields["vram"].setToolTip("" if g("vram_bytes") else "No GPU memory in use (or no nvidia-smi / rocm-smi)")
        cpu = g("cpu_percent")
        self.fields["cpu"].setText(f"{cpu:.0f} %" if cpu is not None else "—")

        prog = g("load_progress")
        loading = state_info(state).loading
        self.progress.setVisible(loading)
        self.progress_label.setVisible(loading)
        if loading:
            if prog is None:
                self.progress.setRange(0, 0)  # busy indicator until the log shows progress
                self.progress_label.setText("Starting llama-server…")
            else:
                self.progress.setRange(0, 1000)
                self.progress.setValue(int(max(0.0, min(1.0, prog)) * 1000))
                self.progress_label.setText(f"Loading model… {prog * 100:.0f} %")
        self._show_message(snap, state)
        row = state_info(state)
        if row.remote and snap is not None:
            from .remote_card import fill_remote_fields

            fill_remote_fields(self, snap)
        self.source_btn.setText("Team server settings, or run it here…" if row.remote else "Use a team server…")
        owned = bool(g("owned", False) or g("adopted", False))
        external = state == "external"
        self.start_btn.setEnabled(row.can_start)
        self.stop_btn.setEnabled(row.can_stop)
        self.restart_btn.setEnabled(row.can_restart)
        if not row.remote:
            self.stop_btn.setToolTip("Started outside BestBox: stop it where it was started" if external and not owned
                                     else "Stop this server (SIGTERM, then SIGKILL after a grace period)")
        if row.severity != "ok" and not self.log_toggle.isChecked():
            self.log_toggle.setChecked(True)  # the log explains failures: show it

    def _show_message(self, snap, state: str) -> None:
        """The state's reason; after automatic restarts, how the last exit happened (the badge's
        tooltip adds the log lines before it)."""
        g = (lambda k, d=None: getattr(snap, k, d)) if snap is not None else (lambda k, d=None: d)
        row = state_info(state)
        msg = g("message", "") or ""
        if msg.strip().lower().rstrip(".") in (state, row.label.lower()):
            msg = ""  # the badge says it already
        restarts, last_exit = g("restarts", 0) or 0, g("last_exit", "") or ""
        if restarts and state != "stopped":
            why = f" — llama-server {last_exit}" if last_exit and last_exit not in msg else ""
            msg = (msg + "  " if msg else "") + f"(restarted {restarts}×{why})"
        exit_log = list(g("last_exit_log", ()) or ())
        tip = (f"Last exit: llama-server {last_exit}" + ("\n" + "\n".join(exit_log) if exit_log else "")
               if last_exit else "")
        self.badge.set_state(state, tooltip=tip)
        self.message.setToolTip(tip)
        self.message.setVisible(bool(msg))
        self.message.setText(msg)
        if row.severity != "ok":
            self.message.setStyleSheet(f"color: {theme.ERROR_TEXT}; background: {theme.ERROR_BG};"
                                       f" border: 1px solid {theme.ERROR_BORDER}; border-radius: 6px; padding: 6px 8px;")
        else:
            self.message.setStyleSheet(f"color: {theme.MUTED};")

    def set_role_issues(self, issues: list) -> None:
        """servers.model_check.RoleIssue list: shown until the model (or its settings) change."""
        self.role_issues = list(issues)
        if not issues:
            self.roles.hide()
            return
        error = any(i.severity == "error" for i in issues)
        bg, border, fg = ((theme.ERROR_BG, theme.ERROR_BORDER, theme.ERROR_TEXT) if error
                          else (theme.NOTE_BG, theme.NOTE_BORDER, "#6b4a06"))
        self.roles.setStyleSheet(f"background: {bg}; border: 1px solid {border}; color: {fg};"
                                 " border-radius: 6px; padding: 5px 8px; font-size: 8.5pt;")
        issues = sorted(issues, key=lambda i: i.severity != "error")   # what breaks a role first
        self.roles.setText("".join(f'<p style="margin: 0 0 5px 0"><b>{html.escape(", ".join(i.roles))}:</b> '
                                   f"{html.escape(i.problem)}<br><i>Fix:</i> {html.escape(i.fix)}</p>"
                                   for i in issues))
        self.roles.show()

    def _configured_model(self) -> str:
        cfg = getattr(self, "config", None)
        try:
            return cfg.server(self.name).model if cfg is not None else ""
        except Exception:  # noqa: BLE001
            return ""

    # -- log -------------------------------------------------------------------------------------
    def _toggle_log(self, on: bool) -> None:
        self.log_toggle.setArrowType(Qt.ArrowType.DownArrow if on else Qt.ArrowType.RightArrow)
        self.log.setVisible(on)
        if on:
            self.refresh_log()

    def refresh_log(self) -> None:
        """Fill the view from the server's ring buffer (when it opens)."""
        if self.logs_source is None:
            return
        lines = self.logs_source(self.name)
        self.log.setPlainText("\n".join(lines[-LOG_LINES:]))
        self.log.moveCursor(QTextCursor.MoveOperation.End)
        self.log.verticalScrollBar().setValue(self.log.verticalScrollBar().maximum())

    def append_log(self, lines: list[str]) -> None:
        """New lines as they arrive; the view follows them unless the user scrolled up."""
        if not self.log.isVisible() or not lines:
            return
        sb = self.log.verticalScrollBar()
        at_end = sb.value() >= sb.maximum() - 4
        keep = sb.value()
        for line in lines:
            self.log.appendPlainText(line.rstrip("\n"))
        sb.setValue(sb.maximum() if at_end else keep)
