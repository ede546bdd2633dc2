"""Icons from assets/icons (hand-written SVGs with rendered PNGs beside them)."""
from __future__ import annotations

from functools import lru_cache

from PySide6.QtGui import QIcon

from .. import paths

TRAY_STATES = ("ready", "partial", "stopped", "error", "recording")


def icon_path(stem: str, size: int | None = None):
    d = paths.assets_dir() / "icons"
    if size is not None:
        p = d / f"{stem}-{size}.png"
        if p.exists():
            return p
    for ext in (".svg", ".png"):
        p = d / f"{stem}{ext}"
        if p.exists():
            return p
    return None


@lru_cache(maxsize=None)
def icon(stem: str) -> QIcon:
    """All rendered PNG sizes, so Qt picks a crisp one for any size (the SVG only when no PNG was
    rendered: loading the SVG icon engine costs tens of ms the first time). Null if missing."""
    ic = QIcon()
    d = paths.assets_dir() / "icons"
    for png in sorted(d.glob(f"{stem}-*.png")):
        tail = png.stem[len(stem) + 1:]
        if tail.isdigit():
            ic.addFile(str(png))
    svg = d / f"{stem}.svg"
    if ic.isNull() and svg.exists():
        ic.addFile(str(svg))
    return ic


def app_icon() -> QIcon:
    return icon("app")


def tray_icon(state: str) -> QIcon:
    return icon(f"tray-{state if state in TRAY_STATES else 'stopped'}")


@lru_cache(maxsize=64)
def dot_html(colour: str, size: int = 9) -> str:
    """A coloured status dot for rich-text labels, painted rather than typed: a dot glyph depends on
    the fonts a machine has (a missing one shows as a box)."""
    import base64

    from PySide6.QtCore import QBuffer, QByteArray, Qt
    from PySide6.QtGui import QColor, QPainter, QPixmap

    scale = 2  # painted at twice the size, so it stays round on high-DPI screens
    pm = QPixmap(size * scale, size * scale)
    pm.fill(Qt.GlobalColor.transparent)
    p = QPainter(pm)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    p.setPen(Qt.PenStyle.NoPen)
    p.setBrush(QColor(colour))
    p.drawEllipse(0, 0, size * scale, size * scale)
    p.end()
    data = QByteArray()
    buf = QBuffer(data)
    buf.open(QBuffer.OpenModeFlag.WriteOnly)
    pm.save(buf, "PNG")
    uri = "data:image/png;base64," + base64.b64encode(bytes(data)).decode()
    return f"<img src='{uri}' width={size} height={size} style='vertical-align: middle'>"
