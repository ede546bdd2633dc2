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


def llama_servers_on(ports) -> list[int]:
    """PIDs of llama-server processes listening on (started with) any of these ports."""
    import psutil

    want = {str(p) for p in ports}
    out = []
    for p in psutil.process_iter(["name", "cmdline"]):
        try:
            cmd = p.info.get("cmdline") or []
            if not any("llama-server" in c for c in cmd[:1]) and p.info.get("name") != "llama-server":
                continue
            for i, c in enumerate(cmd):
                if c == "--port" and i + 1 < len(cmd) and cmd[i + 1] in want:
                    out.append(p.pid)
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
    return out


def run_async(qtbot, loop, coro, timeout_ms: int = 60_000):
    """Run a coroutine on the qasync loop while qtbot spins Qt; return its result."""
    import asyncio

    task = asyncio.ensure_future(coro, loop=loop)
    qtbot.waitUntil(task.done, timeout=timeout_ms)
    return task.result()


def settings_dialog(qtbot, tmp_path: Path):
    """The Settings window over a generated config file (with a comment of the user's own), shown."""
    from bestbox import config as config_mod
    from bestbox.ui.settings_dialog import SettingsDialog

    path = tmp_path / "config.toml"
    path.write_text(config_mod.DEFAULT_TOML.replace("{api_key}", "k3y") + "# my own note\n", encoding="utf-8")
    loaded = config_mod.load(path)
    d = SettingsDialog(loaded)
    qtbot.addWidget(d)
    d.show()
    qtbot.waitExposed(d)
    return d, loaded, path
