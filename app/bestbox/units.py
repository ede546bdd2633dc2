"""Numbers as people read them: the one byte and duration formatter for the CLI, the window and
the downloads.

Two byte scales, each under its own honest label: sizes of files and network transfers in SI units
(1 GB = 1000**3 bytes, as Hugging Face and disk vendors count them), memory (RAM, VRAM) in IEC
units (1 GiB = 1024**3 bytes, as the OS and nvidia-smi count it).
"""
from __future__ import annotations

_SI = ("B", "KB", "MB", "GB", "TB")
_IEC = ("B", "KiB", "MiB", "GiB", "TiB")


def fmt_bytes(n: float | None, *, binary: bool = False, none: str | None = None) -> str | None:
    """`1.4 GB` (binary=False: powers of 1000) or `1.3 GiB` (binary=True: powers of 1024).
    `none` is returned for None (e.g. "?" or "-")."""
    if n is None:
        return none
    base, units = (1024, _IEC) if binary else (1000, _SI)
    n = float(n)
    for unit in units:
        if abs(n) < base or unit == units[-1]:
            return f"{n:.0f} {unit}" if unit in units[:2] else f"{n:.1f} {unit}"
        n /= base
    return none  # unreachable: the last unit always returns


def fmt_duration(s: float | None, *, none: str | None = None) -> str | None:
    """`42 s`, `2 min 05 s`, `1 h 02 min`, `3 d 4 h`."""
    if s is None:
        return none
    s = int(s)
    if s < 60:
        return f"{s} s"
    if s < 3600:
        return f"{s // 60} min {s % 60:02d} s"
    if s < 86400:
        return f"{s // 3600} h {(s % 3600) // 60:02d} min"
    return f"{s // 86400} d {(s % 86400) // 3600} h"
