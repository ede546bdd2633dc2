"""How long the UI event loop stalls: a heartbeat QTimer that notes the gap between its ticks.

A tick that arrives `interval` late means the loop was busy for that long: nothing repainted, no
key press was handled. `bestbox bench` reports `max_stall_ms`; tests print it."""
from __future__ import annotations

import sys
import threading
import time
import traceback

from PySide6.QtCore import QObject, Qt, QTimer


class StallMeter(QObject):
    def __init__(self, interval_ms: int = 10, parent: QObject | None = None, *, watchdog_ms: float | None = None):
        """watchdog_ms: also record where the UI thread was when it stalled longer than this (a
        helper thread samples its stack) — to find the culprit, not only the size."""
        super().__init__(parent)
        self.watchdog_ms = watchdog_ms
        self.culprits: list[str] = []
        self._ui_thread = threading.get_ident()
        self._stop_evt = threading.Event()
        self._wd: threading.Thread | None = None
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
        if self.watchdog_ms and self._wd is None:
            self._stop_evt.clear()
            self._wd = threading.Thread(target=self._watch, name="stall-watchdog", daemon=True)
            self._wd.start()

    def stop(self) -> None:
        self._timer.stop()
        self._last = None
        self._stop_evt.set()
        if self._wd is not None:
            self._wd.join(1)
            self._wd = None

    def _watch(self) -> None:
        sampled_for = None
        while not self._stop_evt.wait(self.watchdog_ms / 4000):
            last = self._last
            if last is None:
                continue
            if (time.perf_counter() - last) * 1000 > self.watchdog_ms and sampled_for != last:
                sampled_for = last
                frames = sys._current_frames()
                names = {t.ident: t.name for t in threading.enumerate()}
                parts = []
                # the UI thread first: it is the one that stalled
                for ident, frame in sorted(frames.items(), key=lambda kv: kv[0] != self._ui_thread):
                    if ident == threading.get_ident():
                        continue
                    depth = 12 if ident == self._ui_thread else 4
                    who = "UI thread" if ident == self._ui_thread else f"thread {names.get(ident, ident)}"
                    parts.append(f"[{who}]\n" + "".join(traceback.format_stack(frame)[-depth:]))
                self.culprits.append("\n".join(parts))

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
