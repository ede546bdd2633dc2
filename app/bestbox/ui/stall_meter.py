"""How long the UI event loop stalls: a heartbeat QTimer that notes the gap between its ticks.

A tick that arrives `interval` late means the loop was busy for that long: nothing repainted, no
key press was handled. The chat pane's test and the benchmark read `max_stall_ms`."""
from __future__ import annotations

import time

from PySide6.QtCore import QObject, Qt, QTimer


class StallMeter(QObject):
    def __init__(self, interval_ms: int = 10, parent: QObject | None = None):
        super().__init__(parent)
        self.interval_ms = interval_ms
        self._timer = QTimer(self)
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self._tick)
        self._last: float | None = None
        self.max_stall_ms = 0.0
        self.ticks = 0
        self.stalls_over_50ms = 0

    def start(self) -> None:
        self.reset()
        self._timer.start()

    def stop(self) -> None:
        self._timer.stop()
        self._last = None

    def reset(self) -> None:
        self._last = time.perf_counter()
        self.max_stall_ms = 0.0
        self.ticks = 0
        self.stalls_over_50ms = 0

    @property
    def running(self) -> bool:
        return self._timer.isActive()

    def _tick(self) -> None:
        now = time.perf_counter()
        if self._last is not None:
            stall = (now - self._last) * 1000.0 - self.interval_ms
            if stall > self.max_stall_ms:
                self.max_stall_ms = stall
            if stall > 50.0:
                self.stalls_over_50ms += 1
        self._last = now
        self.ticks += 1

    def report(self) -> dict:
        return {"max_stall_ms": round(self.max_stall_ms, 1), "ticks": self.ticks,
                "stalls_over_50ms": self.stalls_over_50ms, "interval_ms": self.interval_ms}
