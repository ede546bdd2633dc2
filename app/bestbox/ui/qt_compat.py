"""A known-bad Qt binding: PySide6/shiboken6 6.12.0 on Python < 3.12 drops a reference to None
(and True/False) on every call of a method that returns nothing — setText, resize, setVisible…
Python 3.12 made those objects immortal, 3.11 did not: after enough calls the interpreter aborts
("none_dealloc: deallocating None"). Measured here: 500 calls of QLabel.setText → None's refcount
500 lower; 6.11.3 and older are fine. Fix: install PySide6-Essentials<6.12 (or use Python 3.12+).

Until then `RefcountGuard` keeps the app alive: it tops up the references it would lose."""
from __future__ import annotations

import logging
import sys

log = logging.getLogger(__name__)


def broken_binding() -> str | None:
    """A readable warning when the running PySide6 has the refcount bug, else None."""
    try:
        import PySide6
    except ImportError:
        return None
    ver = tuple(int(p) for p in PySide6.__version__.split(".")[:2] if p.isdigit())
    if ver >= (6, 12) and sys.version_info < (3, 12) and _leaks():
        return (f"PySide6 {PySide6.__version__} has a reference-counting bug on Python "
                f"{sys.version_info.major}.{sys.version_info.minor} that can crash BestBox after long use. "
                "Install PySide6-Essentials<6.12 (pip install 'PySide6-Essentials<6.12'); a guard keeps "
                "the app running meanwhile.")
    return None


def _leaks() -> bool:
    from PySide6.QtCore import QObject

    o = QObject()
    before = sys.getrefcount(None)
    for _ in range(200):
        o.setObjectName("x")
    return sys.getrefcount(None) < before - 100


class RefcountGuard:
    """Holds spare references to None/True/False and adds more whenever the binding has eaten
    into them (checked by a 1 s timer: cheap, and far faster than the leak can run out)."""

    LOW, TOP = 200_000, 400_000

    def __init__(self):
        self._spares: dict[int, list] = {id(None): [], id(True): [], id(False): []}
        self.timer = None

    def top_up(self) -> None:
        for obj in (None, True, False):
            n = sys.getrefcount(obj)
            if n < self.LOW:
                self._spares[id(obj)].extend([obj] * (self.TOP - n))

    def start(self) -> "RefcountGuard":
        from PySide6.QtCore import QTimer

        self.top_up()
        self.timer = QTimer()
        self.timer.setInterval(1000)
        self.timer.timeout.connect(self.top_up)
        self.timer.start()
        return self


_guard: RefcountGuard | None = None


def install_guard_if_needed() -> str | None:
    """Call once a QApplication exists. Returns the warning to show, or None."""
    global _guard
    warning = broken_binding()
    if warning and _guard is None:
        log.warning(warning)
        _guard = RefcountGuard().start()
    return warning
