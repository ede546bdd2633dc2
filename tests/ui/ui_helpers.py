"""Helpers shared by the UI tests."""
from __future__ import annotations

from pathlib import Path


def save_shot(widget, path: Path) -> Path:
    """grab() → PNG; asserts the picture is not one flat colour."""
    img = widget.grab().toImage()
    assert not img.isNull()
    img.save(str(path))
    colours = {img.pixel(x, y) for x in range(0, img.width(), max(1, img.width() // 40))
               for y in range(0, img.height(), max(1, img.height() // 40))}
    assert len(colours) > 3, f"{path.name} looks blank"
    return path
