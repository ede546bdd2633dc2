"""What a server card shows for a remote (shared team) server: its address instead of a port and a
PID, the round trip and first-token time instead of process numbers, the queue beside the slots."""
from __future__ import annotations


def fill_remote_fields(card, snap) -> None:
    """Overwrite the process fields of `card` (a ServerCard) for a remote snapshot."""
    f = card.fields
    url = snap.url or snap.base_url
    f["port"].setText(url.split("://", 1)[-1])
    f["port"].setToolTip(f"remote: {url} (BestBox never starts, stops or kills it)")
    f["pid"].setText("remote" + (f" · {snap.server_kind}" if snap.server_kind else ""))
    f["uptime"].setText("—")
    rt, ft = snap.round_trip_ms, snap.first_token_ms
    for k in ("port", "pid", "speed"):  # address, kind, two times: two lines, not a card wider than the panel
        f[k].setWordWrap(True)
    f["speed"].setText(" · ".join(x for x in (f"{rt:.0f} ms round trip" if rt is not None else "",
                                              f"{ft:.0f} ms first token" if ft is not None else "") if x) or "—")
    f["requests"].setText(f"{snap.queued} waiting" if snap.queued else ("none waiting" if snap.queued == 0 else "—"))
    for k in ("ram", "vram", "cpu"):
        f[k].setText("—")
        f[k].setToolTip("on the remote machine")
    offered = ", ".join(m.replace("\\", "/").rsplit("/", 1)[-1] for m in snap.models)
    card.model.setToolTip(f"offers: {offered}" if offered else "")
    card.start_btn.setToolTip("A remote server: start it on its own machine")
    card.stop_btn.setToolTip("A remote server: BestBox never stops it")


def show_stand_in(card, snap) -> None:
    """A line under a remote card for its local stand-in (fallback = "local"): hidden while stopped."""
    from PySide6.QtWidgets import QLabel

    from ..servers.state import info
    from . import theme

    label = getattr(card, "stand_in", None)
    if label is None:
        label = card.stand_in = QLabel(card)
        label.setWordWrap(True)
        label.setStyleSheet(f"color: {theme.MUTED}; font-size: 8.5pt;")
        card.layout().insertWidget(card.layout().indexOf(card.message) + 1, label)
    row = info(snap.state)
    label.setVisible(row.running or row.severity != "ok")
    where = f" on port {snap.port}" if snap.port else ""
    label.setText(f"Local stand-in: {row.label or snap.state.value}{where}"
                  + (f" — {snap.message}" if snap.message and row.severity != "ok" else "")
                  + (" (answers while the team server is away)" if row.serving else ""))
