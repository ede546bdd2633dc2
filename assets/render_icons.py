"""Render the hand-written SVGs in assets/icons to PNGs (run after editing an SVG):

    .venv/bin/python assets/render_icons.py
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import Qt  # noqa: E402
from PySide6.QtGui import QGuiApplication, QImage, QPainter  # noqa: E402
from PySide6.QtSvg import QSvgRenderer  # noqa: E402

SIZES = {"app": (16, 32, 48, 64, 128, 256), "tray-": (16, 22, 32, 64), "mic": (24, 48),
         "plus": (16, 32), "close": (16, 32), "check": (16, 32)}


def render(svg: Path, size: int, out: Path) -> None:
    img = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
    img.fill(Qt.GlobalColor.transparent)
    p = QPainter(img)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    QSvgRenderer(str(svg)).render(p)
    p.end()
    img.save(str(out))


def main() -> int:
    _app = QGuiApplication(sys.argv)
    icons = Path(__file__).resolve().parent / "icons"
    for svg in sorted(icons.glob("*.svg")):
        sizes = next((s for k, s in SIZES.items() if svg.stem.startswith(k)), (64,))
        for size in sizes:
            render(svg, size, icons / f"{svg.stem}-{size}.png")
        # The largest as the plain name, for tools that want one file.
        render(svg, max(sizes), icons / f"{svg.stem}.png")
    print(f"rendered {len(list(icons.glob('*.png')))} PNGs into {icons}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
