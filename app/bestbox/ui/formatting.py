"""Labels as people read them (byte and duration formatting: `bestbox.units`)."""
from __future__ import annotations


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
