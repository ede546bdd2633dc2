"""`bestbox data check|sync|status|measure [--json]`: the user's own records (docs/data-sources.md).

check: runs every mapped SELECT on a few rows and names what is wrong (entity, column, value).
sync: copies the records into the snapshot the tools read (the source is only read).
status: which data the tools use now, the last sync and the last error.
measure: sync time and one question's latency on the snapshot and live on the source.
Exit code 0 when all is well, 1 when something is wrong, 2 when nothing is configured.
"""
from __future__ import annotations

import json


def register(sub) -> None:
    p = sub.add_parser("data", help="your own ERP/CRM records: check the mapping, sync a snapshot")
    dsub = p.add_subparsers(dest="data_command", metavar="ACTION", required=True)
    for name, helptext, fn in (("check", "run the mapping on a few rows and name what is wrong", _check),
                               ("sync", "copy the records into the snapshot the tools read", _sync),
                               ("status", "which data the tools use, last sync, last error", _status),
                               ("measure", "sync time and one question's latency, snapshot vs live", _measure)):
        q = dsub.add_parser(name, help=helptext)
        q.add_argument("--json", action="store_true", help="machine-readable output")
        q.set_defaults(func=fn)


def _config():
    from .. import config

    return config.load().config


def _print_json(obj) -> None:
    print(json.dumps(obj, indent=1, default=str))


def _check(args) -> int:
    from ..data.records.sync import check

    cfg = _config()
    if not cfg.data.source:
        return _not_configured(args)
    res = check(cfg)
    if args.json:
        _print_json(res)
        return 0 if res["ok"] else 1
    print(f"source: {res['source']}  (password: {res.get('password_from', '-')})")
    if res["error"]:
        print(f"  ERROR ({res['error']['kind']}): {res['error']['message']}")
    for name, e in res["entities"].items():
        mark = "ok " if e["ok"] else "BAD"
        print(f"  {mark} {name:<16} {len(e['sample'])} sample rows")
        for p in e["problems"]:
            print(f"        - {p}")
    if res["unmapped"]:
        print(f"  not mapped (their tools answer from nothing): {', '.join(res['unmapped'])}")
    return 0 if res["ok"] else 1


def _sync(args) -> int:
    from ..data.records.sync import sync

    cfg = _config()
    if not cfg.data.source:
        return _not_configured(args)
    progress = None if args.json else (lambda name, n: print(f"  {name:<16} {n} rows", flush=True))
    res = sync(cfg, progress=progress)
    if args.json:
        _print_json(res)
    elif res["ok"]:
        print(f"synced {sum(res['counts'].values())} rows from {res['source']} in {res['seconds']} s -> {res['snapshot']}")
    else:
        print(f"sync FAILED ({res['error']['kind']}): {res['error']['message']}\n  {res['note']}")
    return 0 if res["ok"] else 1


def _status(args) -> int:
    from ..data.records.status import summary

    res = summary(_config())
    if args.json:
        _print_json(res)
    else:
        print(res["line"])
        if res.get("last_error"):
            print(f"  last error ({res['last_error']['kind']}): {res['last_error']['message']}")
    return 0 if res["ok"] else 1


def _measure(args) -> int:
    from ..data.records.measure import measure

    cfg = _config()
    if not cfg.data.source:
        return _not_configured(args)
    res = measure(cfg)
    if args.json or not res["ok"]:
        _print_json(res)
    else:
        print(f"{res['rows']} rows from {res['source']}: sync {res['sync_s']} s; {res['question']}: "
              f"snapshot {res['snapshot_query_ms']} ms, live {res['live_query_ms']} ms "
              f"({res['live_connect_query_ms']} ms with a new connection); median of {res['repeats']}")
    return 0 if res["ok"] else 1


def _not_configured(args) -> int:
    msg = ("no [data] source configured: the tools use the demo company. Set [data] source and mapping "
           "in the config (see docs/data-sources.md)")
    if args.json:
        _print_json({"ok": False, "error": {"kind": "config", "message": msg}})
    else:
        print(msg)
    return 2
