"""UI test set-up.

The Qt platform is chosen once per process, before the QApplication exists: with a display (the
`launchers/test` Xvfb + trayer, or one started here when $DISPLAY is unset and Xvfb and trayer are
installed) everything runs on xcb, so the tray tests see a real system tray; without one, widget
tests run on `offscreen` and tests that need a tray are skipped with the reason."""
from __future__ import annotations

import asyncio
import atexit
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

_STARTED: list[subprocess.Popen] = []
SHOTS = Path(os.environ.get("BESTBOX_UI_SHOTS") or Path(tempfile.gettempdir()) / "bestbox-ui-screenshots")


def _die_with_parent() -> None:
    """preexec_fn: the X server and tray go away even if pytest itself is killed or aborts."""
    try:
        import ctypes
        import signal as _signal

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, int(_signal.SIGTERM))  # PR_SET_PDEATHSIG
    except Exception:  # noqa: BLE001
        pass


def _free_display() -> str | None:
    for n in range(140, 180):
        if not os.path.exists(f"/tmp/.X11-unix/X{n}") and not os.path.exists(f"/tmp/.X{n}-lock"):
            return f":{n}"
    return None


def _start_display() -> None:
    if os.environ.get("DISPLAY") or os.environ.get("BESTBOX_UI_NO_XVFB"):
        return
    if not (shutil.which("Xvfb") and shutil.which("trayer")):
        return
    disp = _free_display()
    if disp is None:
        return
    log = open(os.path.join(tempfile.gettempdir(), f"bestbox-xvfb{disp[1:]}.log"), "w")
    xvfb = subprocess.Popen(["Xvfb", disp, "-screen", "0", "1280x800x24", "-nolisten", "tcp"],
                            stdout=log, stderr=log, preexec_fn=_die_with_parent)
    _STARTED.append(xvfb)
    sock = f"/tmp/.X11-unix/X{disp[1:]}"
    for _ in range(100):
        if os.path.exists(sock):
            break
        time.sleep(0.05)
    os.environ["DISPLAY"] = disp
    tray = subprocess.Popen(["trayer", "--edge", "top", "--align", "right", "--widthtype", "pixel",
                             "--width", "120", "--height", "24"], stdout=log, stderr=log,
                            preexec_fn=_die_with_parent)
    _STARTED.append(tray)
    time.sleep(0.5)


def _stop_display() -> None:
    from bestbox.servers.procs import stop_child

    for p in reversed(_STARTED):
        stop_child(p, grace_s=3)
    _STARTED.clear()


_start_display()
atexit.register(_stop_display)
if not os.environ.get("QT_QPA_PLATFORM"):
    os.environ["QT_QPA_PLATFORM"] = "xcb" if os.environ.get("DISPLAY") else "offscreen"
_TMP = tempfile.mkdtemp(prefix="bestbox-ui-tests-")


@pytest.fixture(autouse=True)
def _isolated_user_files(monkeypatch):
    """UI tests never touch the user's config or history (fixtures like tmp_config override this)."""
    if not os.environ.get("BESTBOX_CONFIG"):
        monkeypatch.setenv("BESTBOX_CONFIG", os.path.join(_TMP, "config.toml"))
    if not os.environ.get("BESTBOX_DATA_DIR"):
        monkeypatch.setenv("BESTBOX_DATA_DIR", os.path.join(_TMP, "data"))


def pytest_unconfigure(config) -> None:
    if _LOOP is not None:
        try:
            _LOOP.stop()
            _LOOP.close()  # shuts down its worker threads
        except Exception:  # noqa: BLE001
            pass
    _stop_display()
    shutil.rmtree(_TMP, ignore_errors=True)


_LOOP = None


@pytest.fixture
def aloop(qapp):
    """An asyncio loop on the Qt event loop (qasync), driven by qtbot's waits. One loop object per
    session (qasync wants one per QApplication); it counts as running only inside a test, so other
    tests' `asyncio.run()` still works."""
    global _LOOP
    import qasync

    from bestbox.ui import theme

    theme.apply(qapp)
    from bestbox.ui.qt_compat import install_guard_if_needed

    install_guard_if_needed()
    if _LOOP is None:
        _LOOP = qasync.QEventLoop(qapp, already_running=True)
    asyncio.set_event_loop(_LOOP)
    asyncio.events._set_running_loop(_LOOP)
    yield _LOOP
    pending = [t for t in asyncio.all_tasks(_LOOP) if not t.done()]
    for t in pending:
        t.cancel()
    deadline = time.monotonic() + 2
    while any(not t.done() for t in pending) and time.monotonic() < deadline:
        qapp.processEvents()
    asyncio.events._set_running_loop(None)
    asyncio.set_event_loop(None)


@pytest.fixture
def ui_config(tmp_config):
    """tmp_config (demo model on free ports, written to $BESTBOX_CONFIG) with room for tool results
    in the context, as a real answer needs."""
    import tomlkit

    for name in ("heavy", "light"):
        tmp_config.server(name).ctx_size = 4096
    path = Path(os.environ["BESTBOX_CONFIG"])
    path.write_text(tomlkit.dumps(tmp_config.model_dump(mode="json")), encoding="utf-8")
    return tmp_config


@pytest.fixture
def shots() -> Path:
    SHOTS.mkdir(exist_ok=True)
    return SHOTS
