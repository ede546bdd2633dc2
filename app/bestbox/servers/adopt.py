"""Our servers from an earlier run, found through their PID records (`procs.PidRecord`): adopt the
one on the configured port, stop one left on an old port, drop a record whose process is gone.

The PID record, not the config, says what is ours: `servers stop` and the window recognise a server
BestBox started even when the config changed (or broke) since.
"""
from __future__ import annotations

from pathlib import Path

from . import launch, procs
from .launch import ServerProcess


def adopted(rec: procs.PidRecord) -> ServerProcess:
    """The live server a PID record describes, as ours to watch and stop."""
    return ServerProcess("adopted", rec.pid, pgid=launch.own_group(rec.pid), started_wall=rec.started_at)


def live_record(state_dir: Path, name: str) -> procs.PidRecord | None:
    """The PID record of our live `name` server; a record whose process is gone is removed."""
    rec = procs.read_pid(state_dir, name)
    if rec is None:
        return None
    if procs.record_alive(rec) is None:
        procs.remove_pid(state_dir, name, rec.pid)
        return None
    return rec


def plan_sweep(state_dir: Path, name: str, *, watched_pid: int | None, port: int) -> tuple[str, procs.PidRecord | None]:
    """What to do with `name`'s PID record: ('', None) nothing, ('stale', rec) its process is gone,
    ('adopt', rec) ours on the configured port, ('stop', rec) ours on a port the config no longer names."""
    rec = procs.read_pid(state_dir, name)
    if rec is None or (watched_pid is not None and rec.pid == watched_pid):
        return "", None
    if procs.record_alive(rec) is None:
        procs.remove_pid(state_dir, name, rec.pid)
        return "stale", rec
    return ("adopt" if rec.port == port else "stop"), rec


async def stop_recorded(state_dir: Path, name: str, rec: procs.PidRecord) -> str:
    """Stop our server that a PID record describes (whatever the config says now) and drop the record.
    Returns what it took."""
    how = await launch.terminate(rec.pid, launch.own_group(rec.pid), None)
    procs.remove_pid(state_dir, name, rec.pid)
    return how
