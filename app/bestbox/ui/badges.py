"""Small pill labels under an answer (agent, tier, who routed, timings), the route badge that lets
the user correct the agent, and a flow layout that wraps them."""
from __future__ import annotations

from PySide6.QtCore import QPoint, QRect, QSize, Qt, Signal
from PySide6.QtGui import QAction, QIcon
from PySide6.QtWidgets import QLabel, QLayout, QMenu, QSizePolicy, QToolButton, QWidget, QWidgetItem

from ..routing import agents
from . import icons

DECIDERS = {"fast": "fast path", "fast_path": "fast path", "llm": "light LLM", "light_llm": "light LLM",
            "router_llm": "light LLM", "fallback": "fallback rule", "rule": "rule", "correction": "your correction",
            "heavy": "heavy LLM", "user": "you"}

# role → (background, text colour)
_ROLE = {
    "agent": ("#e6effd", "#1f4fb8"),
    "heavy": ("#efe9fb", "#5b3aa6"),
    "light": ("#e6f5ee", "#1d7a47"),
    "meta": ("#f1f3f6", "#4f5864"),
    "warn": ("#fff2dc", "#94600a"),
    "error": ("#fdeaea", "#a52f2f"),
}


def _pill_css(role: str) -> str:
    bg, fg = _ROLE.get(role, _ROLE["meta"])
    return f"background:{bg}; color:{fg}; border-radius:10px; padding:0px 8px; font-size:8.5pt;"


BADGE_H = 20


def fmt_ms(ms) -> str | None:
    if ms is None:
        return None
    ms = float(ms)
    return f"{ms:.0f} ms" if ms < 1000 else f"{ms / 1000:.2f} s"


_SENT, _SPOKEN = "sending the question", "the end of your speech"


def _since(timings: dict) -> str:
    """What a turn's times count from: a voice turn's trace starts at the end of speech."""
    return _SPOKEN if "asr_ms" in timings else _SENT


class Badge(QLabel):
    def __init__(self, text: str, role: str = "meta", tooltip: str = "", parent: QWidget | None = None):
        super().__init__(text, parent)
        self.role = role
        self.setStyleSheet(_pill_css(role))
        self.setToolTip(tooltip)
        self.setFixedHeight(BADGE_H)
        self.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)


class RouteBadge(QToolButton):
    """Shows the agent; its menu lets the user say which agent was right."""

    corrected = Signal(str)  # agent

    def __init__(self, agent: str, decided_by: str = "", parent: QWidget | None = None):
        super().__init__(parent)
        self.agent = agent
        self.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.setFixedHeight(BADGE_H)
        self.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)  # the "corrected" check mark
        self.setIconSize(QSize(11, 11))
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.setStyleSheet(
            "QToolButton {" + _pill_css("agent") + " border: 0; padding-right: 16px; }"
            "QToolButton:hover { background: #d6e4fb; }"
            "QToolButton::menu-indicator { subcontrol-position: right center; right: 5px; width: 7px; }")
        menu = QMenu(self)
        hdr = menu.addAction("Route this request to…")
        hdr.setEnabled(False)
        self._actions: dict[str, QAction] = {}
        for info in agents.TABLE:
            key, label = info.key, info.label
            a = menu.addAction(f"{label} — {info.hint}")
            a.setCheckable(True)
            a.triggered.connect(lambda _=False, k=key: self._pick(k))
            self._actions[key] = a
        self.setMenu(menu)
        self._set(agent, corrected=False)
        self.setToolTip("Routed to this agent. Wrong? Click to pick the right one; BestBox learns from it.")

    def _set(self, agent: str, corrected: bool) -> None:
        self.agent = agent
        label = agents.label(agent)
        self.setText(f"{label} · corrected" if corrected else label)
        self.setIcon(icons.icon("check") if corrected else QIcon())  # an icon: a "✓" glyph needs the font to have it
        for k, a in self._actions.items():
            a.setChecked(k == agent)

    def _pick(self, agent: str) -> None:
        if agent == self.agent:
            self._set(agent, corrected=False)
            return
        self._set(agent, corrected=True)
        self.corrected.emit(agent)


class FlowLayout(QLayout):
    """Lays items left to right and wraps (Qt's flow layout example, trimmed)."""

    def __init__(self, parent=None, spacing: int = 5):
        super().__init__(parent)
        self._items: list = []
        self._spacing = spacing
        self.setContentsMargins(0, 0, 0, 0)

    def addItem(self, item) -> None:  # noqa: N802
        self._items.append(item)

    def addWidget(self, w) -> None:  # noqa: N802
        self.addChildWidget(w)
        self.addItem(QWidgetItem(w))

    def count(self) -> int:
        return len(self._items)

    def itemAt(self, i):  # noqa: N802
        return self._items[i] if 0 <= i < len(self._items) else None

    def takeAt(self, i):  # noqa: N802
        return self._items.pop(i) if 0 <= i < len(self._items) else None

    def expandingDirections(self):  # noqa: N802
        return Qt.Orientation(0)

    def hasHeightForWidth(self) -> bool:  # noqa: N802
        return True

    def heightForWidth(self, width: int) -> int:  # noqa: N802
        return self._do_layout(QRect(0, 0, width, 0), True)

    def setGeometry(self, rect) -> None:  # noqa: N802
        super().setGeometry(rect)
        self._do_layout(rect, False)

    def sizeHint(self) -> QSize:  # noqa: N802
        return self.minimumSize()

    def minimumSize(self) -> QSize:  # noqa: N802
        s = QSize()
        for it in self._items:
            s = s.expandedTo(it.minimumSize())
        return s

    def _do_layout(self, rect: QRect, test: bool) -> int:
        x, y, line_h = rect.x(), rect.y(), 0
        for it in self._items:
            if it.widget() is not None and it.widget().isHidden():
                continue
            hint = it.sizeHint()
            nx = x + hint.width() + self._spacing
            if nx - self._spacing > rect.right() and line_h > 0:
                x, y = rect.x(), y + line_h + self._spacing
                nx = x + hint.width() + self._spacing
                line_h = 0
            if not test:
                it.setGeometry(QRect(QPoint(x, y), hint))
            x, line_h = nx, max(line_h, hint.height())
        return y + line_h - rect.y()


class BadgeRow(QWidget):
    """The badges of one turn, built from its route decision, timings and model."""

    correct_route = Signal(str)  # agent

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self._flow = FlowLayout(self)
        self.route_badge: RouteBadge | None = None
        self.first_audio_badge: Badge | None = None
        self.total_badge: Badge | None = None
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Preferred)

    def badges(self) -> list[QWidget]:
        return [self._flow.itemAt(i).widget() for i in range(self._flow.count())]

    def texts(self) -> list[str]:
        return [w.text() for w in self.badges()]

    def _add(self, w: QWidget) -> None:
        self._flow.addWidget(w)
        w.show()
        self.updateGeometry()

    def clear(self) -> None:
        while self._flow.count():
            it = self._flow.takeAt(0)
            if it.widget():
                it.widget().deleteLater()
        self.route_badge = None
        self.first_audio_badge = self.total_badge = None

    def set_route(self, route: dict | None, *, correctable: bool = True) -> None:
        """Route badges appear as soon as the route is known; timings are added when the turn ends."""
        self.clear()
        if not route:
            return
        agent = str(route.get("agent") or "general")
        by = str(route.get("decided_by") or route.get("by") or "")
        if correctable:
            self.route_badge = RouteBadge(agent, by)
            self.route_badge.corrected.connect(self.correct_route)
            self._add(self.route_badge)
        else:
            self._add(Badge(agents.label(agent), "agent"))
        if by:
            conf = route.get("confidence")
            tip = f"Who chose the agent and tier: {DECIDERS.get(by, by)}"
            if isinstance(conf, (int, float)):
                tip += f" (confidence {conf:.2f})"
            spec = (route.get("detail") or {}).get("speculative")
            if isinstance(spec, dict):
                tip += (f"; decided while you paused, from the transcript so far "
                        f"({fmt_ms(spec.get('decided_ms')) or '?'}), so the answer did not wait for it")
            self._add(Badge(f"routed by {DECIDERS.get(by, by.replace('_', ' '))}", "meta", tip))

    def set_result(self, route: dict | None, model: str | None, timings: dict | None,
                   server: dict | None = None) -> None:
        """server: which server answered ({"where": "remote"|"local", "url", "stand_in"?}), from the
        turn's record."""
        timings = timings or {}
        tier = str((route or {}).get("tier") or "")
        served = model or tier
        if served:
            role = "heavy" if served == "heavy" else "light"
            label = f"{served} model"
            tip = f"Answered by the {served} server"
            if (server or {}).get("where") == "remote":
                label += " · team server"
                tip += f" on the team server {server.get('url', '')}"
            elif (server or {}).get("stand_in"):
                label += " · local stand-in"
                tip += (f": this computer's own {served} server ({server.get('url', '')}), "
                        "because the team server did not answer")
            if tier and served != tier:
                label += " (fallback)"
                tip += f"; the router asked for the {tier} model, which was not running"
            self._add(Badge(label, role, tip))
        route_ms = timings.get("route_ms", (route or {}).get("ms"))
        since = _since(timings)
        for key, label, tip in (
            (route_ms, "route", "Time to decide the agent and tier"),
            (timings.get("ttft_ms"), "first token", f"From {since} to the first answer token"),
        ):
            s = fmt_ms(key)
            if s:
                self._add(Badge(f"{label} {s}", "meta", tip))
        tps = timings.get("tokens_per_s")
        if tps:
            self._add(Badge(f"{float(tps):.1f} tok/s", "meta", "Generation speed reported by llama-server"))
        total = fmt_ms(timings.get("total_ms"))
        if total:
            self.total_badge = Badge(f"total {total}", "meta", "From sending the question to the end of the answer")
            self._add(self.total_badge)
        if timings.get("first_audio_ms") is not None:
            self.set_first_audio({"voice": since != _SENT, **timings})
        else:
            self._place_first_audio()   # shown while the answer streamed: after "total" now

    def set_first_audio(self, t: dict) -> None:
        """The spoken reply's first sound: `first_audio_ms` (from the end of speech for a voice turn,
        `voice`, else from the send) and `first_audio_ahead`. One badge, after "total" once there is
        one, updated in place: the sound may start before or after the answer is shown."""
        s = fmt_ms(t.get("first_audio_ms"))
        if not s:
            return
        tip = f"From {_SPOKEN if t.get('voice') else _SENT} to the first sound of the spoken answer"
        if t.get("first_audio_ahead"):
            tip += "; its first sentence was spoken from audio made while you paused (answered ahead)"
        if self.first_audio_badge is None:
            self.first_audio_badge = Badge("", "meta", parent=self)
        self.first_audio_badge.setText(f"first audio {s}")
        self.first_audio_badge.setToolTip(tip)
        self._place_first_audio()

    def _place_first_audio(self) -> None:
        """Right after "total" (or last while the answer streams), wherever it was shown first."""
        b = self.first_audio_badge
        if b is None:
            return
        items = self._flow._items
        i = next((i for i, it in enumerate(items) if it.widget() is b), None)
        item = items.pop(i) if i is not None else QWidgetItem(b)
        at = next((i + 1 for i, it in enumerate(items) if it.widget() is self.total_badge), len(items))
        items.insert(at, item)
        b.show()
        self._flow.invalidate()
        self.updateGeometry()
