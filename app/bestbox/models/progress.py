"""What a download shows: its progress record, the speed/ETA meter and the one-line display that
the CLI prints and the server card's label mirrors. No HTTP, no Qt."""
from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass
from typing import Callable

from ..units import fmt_bytes, fmt_duration


@dataclass
class Progress:
    file: str                  # the file being fetched
    index: int                 # 1-based, of `count` files
    count: int
    done: int                  # bytes present of all files (resumed and finished ones included)
    total: int | None          # bytes of all files, when known
    file_done: int
    file_total: int | None
    speed_bps: float           # over the last few seconds, bytes actually transferred
    eta_s: float | None
    phase: str = "download"    # check | download | verify | done

    @property
    def fraction(self) -> float | None:
        return (self.done / self.total) if self.total else None


ProgressCallback = Callable[[Progress], None]


def fmt_size(n: float | None) -> str:
    """A file or transfer size in SI units (GB = 1000**3 bytes, as Hugging Face lists them)."""
    return fmt_bytes(n, none="?")


def fmt_speed(bps: float) -> str:
    return f"{bps / 1e6:.1f} MB/s"


def fmt_eta(s: float | None) -> str:
    return fmt_duration(s, none="?")


def progress_line(p: Progress) -> str:
    """`qwen…-00002-of-00003.gguf (2/3)  3.1 GB / 9.0 GB  34 %  41.2 MB/s  ETA 2 min 23 s`"""
    pct = f"  {p.fraction * 100:.0f} %" if p.fraction is not None else ""
    part = f" ({p.index}/{p.count})" if p.count > 1 else ""
    if p.phase == "verify":
        return f"{p.file}{part}  verifying sha256…"
    if p.phase == "done":
        return f"done, {fmt_size(p.done)}"
    return (f"{p.file}{part}  {fmt_size(p.done)} / {fmt_size(p.total)}{pct}  "
            f"{fmt_speed(p.speed_bps)}  ETA {fmt_eta(p.eta_s)}")


class Meter:
    """Speed over the last few seconds and the ETA; calls the callback at most every `every` s."""

    def __init__(self, cb: ProgressCallback | None, every: float = 0.1, window: float = 4.0):
        self.cb, self.every, self.window = cb, every, window
        self.samples: deque[tuple[float, int]] = deque()
        self.transferred = 0
        self.last_emit = 0.0

    def add(self, n: int) -> None:
        self.transferred += n

    def speed(self) -> float:
        now = time.monotonic()
        self.samples.append((now, self.transferred))
        while len(self.samples) > 2 and now - self.samples[0][0] > self.window:
            self.samples.popleft()
        t0, b0 = self.samples[0]
        return (self.transferred - b0) / (now - t0) if now - t0 > 0.001 else 0.0

    def emit(self, p: Progress, force: bool = False) -> None:
        if self.cb is None:
            return
        now = time.monotonic()
        if not force and now - self.last_emit < self.every:
            return
        self.last_emit = now
        self.cb(p)
