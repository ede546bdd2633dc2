"""Numbers as people read them."""
from __future__ import annotations


def fmt_bytes(n) -> str | None:
    if n is None:
        return None
    n = float(n)
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if n < 1024 or unit == "TB":
            return f"{n:.0f} {unit}" if unit in ("B", "KB") else f"{n:.1f} {unit}"
        n /= 1024
    return None


def fmt_duration(s) -> str | None:
    if s is None:
        return None
    s = int(s)
    if s < 60:
        return f"{s} s"
    if s < 3600:
        return f"{s // 60} min {s % 60:02d} s"
    if s < 86400:
        return f"{s // 3600} h {(s % 3600) // 60:02d} min"
    return f"{s // 86400} d {(s % 86400) // 3600} h"


def model_label(snap) -> str:
    """A short model name: the server's own name, else the file name without .gguf."""
    name = getattr(snap, "model_name", "") or ""
    path = getattr(snap, "model_path", "") or ""
    if not name and path:
        name = path.replace("\\", "/").rsplit("/", 1)[-1]
    if "/" in name:
        name = name.rsplit("/", 1)[-1]
    if name.lower().endswith(".gguf"):
        name = name[:-5]
    return name or "—"
