"""`bestbox servers start|stop|status|logs|command [heavy|light|all] [--json]`.

`logs -f` follows the logs as `tail -F` does (through restarts, which start a new log), until Ctrl+C.

`start` uses the same supervisor as the GUI, waits until ready (or a readable failure) and leaves
the servers running detached with PID files, so `stop` and the GUI find and adopt them.
"""
from __future__ import annotations

import json
import sys

from ..units import fmt_bytes
from ._runtime import load_config_or_warn


def register(sub) -> None:
    p = sub.add_parser("servers", help="start, stop and inspect the two llama.cpp servers")
    p.add_argument("action", choices=["start", "stop", "status", "restart", "logs", "command", "login"],
                   help="login: store a remote server's API key in the OS keyring")
    p.add_argument("name", nargs="?", default="all", choices=["heavy", "light", "all"])
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument("-n", "--lines", type=int, default=60, help="logs: how many lines")
    p.add_argument("-f", "--follow", action="store_true", help="logs: keep printing new lines until Ctrl+C")
    p.add_argument("--timeout", type=float, default=None, help="start: give up after this many seconds")
    p.set_defaults(func=run)


def _print_table(snaps: dict, extra: list[str] | None = None) -> None:
    for msg in extra or []:
        print(msg)
    for name, s in snaps.items():
        if getattr(s, "remote", False):
            print(_remote_line(name, s))
            continue
        bits = [f"{name:6s} {s.state.value:13s} port {s.port}"]
        if s.pid:
            bits.append(f"pid {s.pid}")
        if s.model_name or s.model_path:
            bits.append(f"model {s.model_name or s.model_path}" + (" (demo)" if s.using_demo_model else ""))
        if s.rss_bytes:
            bits.append(f"rss {fmt_bytes(s.rss_bytes, binary=True)}")
        if s.tokens_per_s:
            bits.append(f"{s.tokens_per_s} tok/s")
        print("  ".join(bits))
        if s.message:
            print(f"       {s.message}")
        if s.restarts and s.last_exit:
            print(f"       restarted {s.restarts}x; last exit: llama-server {s.last_exit}")


def _remote_line(name: str, s) -> str:
    """heavy  remote · ready  https://gpu.team.lan:8000 (vllm)  model qwen2.5-32b  ... and the message."""
    label = s.info.label.lower() if s.info.label else s.state.value
    bits = [f"{name:6s} {label:22s} {s.url}" + (f" ({s.server_kind})" if s.server_kind else "")]
    if s.model_name:
        bits.append(f"model {s.model_name.rsplit('/', 1)[-1]}")
    if s.total_slots:
        bits.append(f"slots {s.busy_slots or 0}/{s.total_slots} busy")
    if s.queued:
        bits.append(f"{s.queued} waiting")
    out = "  ".join(bits)
    if s.message:
        out += f"\n       {s.message}"
    if s.state.value == "model_missing" or (s.models and not s.info.serving):
        out += f"\n       offers: {', '.join(m.rsplit('/', 1)[-1] for m in s.models) or '-'}"
    return out


def _stand_in_line(d: dict) -> str:
    """heavy-local  ready  port 8081  pid 4242  started because: team server unreachable"""
    bits = [f"{d['name']:13s} {d['state']:9s} port {d['port']}"] + ([f"pid {d['pid']}"] if d["pid"] else [])
    bits.append(f"started because: {d['because']}" if d["because"] else
                f"local stand-in, {d['when'] or d['message']}")
    return "       " + "  ".join(bits)


def _emit(args, snaps: dict, notes: list[str], ok: bool, stand_ins: dict | None = None) -> int:
    stand_ins = stand_ins or {}
    if args.json:
        servers = {n: s.to_dict() | ({"stand_in": stand_ins[n]} if n in stand_ins else {})
                   for n, s in snaps.items()}
        print(json.dumps({"ok": ok, "notes": notes, "servers": servers}, indent=1))
    else:
        _print_table(snaps, notes)
        for d in stand_ins.values():
            print(_stand_in_line(d))
    return 0 if ok else 1


async def _stop_stand_in(mgr, name: str) -> list[str]:
    """A remote tier's local stand-in that we started (adopted here from its PID record): ours to stop."""
    import asyncio

    fb = mgr.local.by_name.get(name)
    if fb is None:
        return []
    try:
        before = await fb.sup.wait_settled(timeout=30)
    except asyncio.TimeoutError:
        before = fb.sup.snapshot()
    await mgr.local.disarm([name])
    if before.info.running and not fb.sup.snapshot().info.running:
        return [f"{name}: stopped its local stand-in {before.name} (PID {before.pid})"]
    return []


async def _stand_ins(mgr, names: list[str]) -> dict:
    """The local stand-ins (fallback = "local") of these remote tiers, looked at, never started:
    one the window started is adopted through its PID record (by the sweep) and shown with its pid."""
    import asyncio

    out = {}
    for n in names:
        fb = mgr.local.by_name.get(n)
        if fb is None:
            continue
        await fb.sup.observe()
        try:
            await fb.sup.wait_settled(timeout=15)
        except asyncio.TimeoutError:
            pass
        out[n] = fb.describe()
    return out


def run(args) -> int:
    if args.action == "command":
        return _command(args)
    if args.action == "logs":
        return _logs(args)
    if args.action == "login":
        return _login(args)
    import asyncio

    return asyncio.run(_run(args))


async def _run(args) -> int:
    import asyncio

    from ..servers import ServerManager, ServerState

    cfg = load_config_or_warn()
    mgr = ServerManager(cfg, detached=True)
    for fb in mgr.local.by_name.values():
        fb.unwatch()   # a stand-in starts and stops with the window's turns, never from this command
    names = mgr.names(args.name) if args.name != "all" else ["heavy", "light"]
    notes = await mgr.sweep()
    try:
        if args.action in ("start", "restart"):
            if args.action == "restart":
                await mgr.stop(args.name)
            try:
                snaps = await mgr.start(args.name, wait=True, timeout=args.timeout)
            except (asyncio.CancelledError, asyncio.TimeoutError) as e:
                # Ctrl+C or --timeout: do not leave a half-started server behind.
                for n in mgr.names(args.name):
                    if mgr.snapshot(n).owned and not mgr.snapshot(n).info.healthy:
                        await mgr.supervisors[n].stop()
                if isinstance(e, asyncio.CancelledError):
                    raise
                print(f"not ready within {args.timeout} s; stopped what was starting", file=sys.stderr)
                return 1
            if mgr.memory_warning:
                notes.append("warning: " + mgr.memory_warning)
            ok = all(s.info.healthy for s in snaps.values())
            return _emit(args, snaps, notes, ok)
        if args.action == "stop":
            # Adopted (from PID files) and anything we just started: ours to stop. External: never.
            for n in names:
                try:
                    await mgr.supervisors[n].wait_settled(timeout=30)
                except asyncio.TimeoutError:
                    pass
            snaps = {}
            for n in names:
                before = mgr.snapshot(n)
                snap = await mgr.supervisors[n].stop()
                if before.remote:
                    notes.append(f"{n}: remote server {before.url}: not ours to stop; left running")
                    notes += await _stop_stand_in(mgr, n)
                if before.state is ServerState.EXTERNAL:
                    notes.append(f"{n}: port {before.port} is served by a llama-server we did not start "
                                 f"(PID {before.pid}); left running")
                snaps[n] = snap
            return _emit(args, snaps, notes, True)
        # status
        await mgr.observe(args.name)
        for n in names:
            try:
                await mgr.supervisors[n].wait_settled(timeout=15)
            except asyncio.TimeoutError:
                pass
        if any(mgr.snapshot(n).serving for n in names):
            await asyncio.sleep(1.2)  # one round of /props, /metrics, /slots for the numbers
        snaps = {n: mgr.snapshot(n) for n in names}
        return _emit(args, snaps, notes, True, await _stand_ins(mgr, names))
    finally:
        # Detached: leave the servers running; only end our watching tasks.
        for s in mgr.supervisors.values():
            await s.close()
        for fb in mgr.local.by_name.values():
            await fb.sup.close()


def _login(args) -> int:
    """Ask for a remote server's API key (not echoed) and keep it in the OS keyring."""
    import getpass

    from ..servers.remote_key import store_key

    cfg = load_config_or_warn()
    if args.name == "all":
        print("login needs one server: bestbox servers login heavy|light", file=sys.stderr)
        return 2
    scfg = cfg.server(args.name)
    if not scfg.remote:
        print(f"[servers.{args.name}] has no url: a local server uses [llama] api_key", file=sys.stderr)
        return 2
    key = getpass.getpass(f"API key for {scfg.url}: ") if sys.stdin.isatty() else sys.stdin.readline().strip()
    if not key:
        print("no key given; nothing stored", file=sys.stderr)
        return 1
    try:
        where = store_key(args.name, scfg.url, key)
    except RuntimeError as e:
        print(f"cannot store the key: {e}", file=sys.stderr)
        return 1
    print(f"stored the key for {scfg.url} in the OS keyring ({where})")
    return 0


def _command(args) -> int:
    from ..servers import build_command

    cfg = load_config_or_warn()
    names = ["heavy", "light"] if args.name == "all" else [args.name]
    rc = 0
    out = {}
    for n in names:
        cmd = build_command(n, cfg.server(n), cfg)
        if not cmd.ok:
            print(f"{n}: {cmd.error}", file=sys.stderr)
            rc = 1
            continue
        for note in cmd.notes:
            print(f"{n}: {note}", file=sys.stderr)
        out[n] = cmd
    if args.json:
        print(json.dumps({n: {"argv": c.argv, "shell": c.shell(), "using_demo_model": c.using_demo_model,
                              "custom": c.custom, "port": c.port} for n, c in out.items()}, indent=1))
    else:
        for c in out.values():
            print(c.shell())
    return rc


def _logs(args) -> int:
    from .. import paths

    names = ["heavy", "light"] if args.name == "all" else [args.name]
    logs = {n: paths.state_dir() / f"{n}.log" for n in names}
    offsets: dict[str, int] = {}
    for n, path in logs.items():
        if not path.exists():
            print(f"== {n}: no log yet ({path})", flush=True)
            offsets[n] = 0
            continue
        with open(path, "rb") as f:
            f.seek(0, 2)
            size = f.tell()
            f.seek(max(0, size - 512 * 1024))
            lines = f.read().decode("utf-8", "replace").splitlines()[-args.lines:]
        offsets[n] = size
        if args.json:
            print(json.dumps({"name": n, "path": str(path), "lines": lines}), flush=True)
        else:
            print(f"== {n} ({path})")
            print("\n".join(lines), flush=True)
    if args.follow:
        return _follow(logs, offsets, args.json)
    return 0


def _follow(logs: dict, offsets: dict[str, int], as_json: bool) -> int:
    import time

    prefix = len(logs) > 1
    partial = {n: b"" for n in logs}
    try:
        while True:
            for n, path in logs.items():
                try:
                    size = path.stat().st_size
                except OSError:
                    continue
                if size < offsets[n]:  # a (re)start wrote a new log: read it from the top
                    offsets[n], partial[n] = 0, b""
                if size == offsets[n]:
                    continue
                with open(path, "rb") as f:
                    f.seek(offsets[n])
                    data = partial[n] + f.read(size - offsets[n])
                offsets[n] = size
                *done, partial[n] = data.split(b"\n")
                for raw in done:
                    line = raw.decode("utf-8", "replace").rstrip("\r")
                    if as_json:
                        print(json.dumps({"name": n, "line": line}))
                    else:
                        print(f"[{n}] {line}" if prefix else line)
                sys.stdout.flush()
            time.sleep(0.25)
    except KeyboardInterrupt:
        return 0
