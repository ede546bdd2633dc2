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
