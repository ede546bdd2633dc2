"""`bestbox docs`: index and search the user's document folders.

  bestbox docs index [--add DIR] [--rebuild] [--json]   index every folder in [data] documents
  bestbox docs search "query" [--limit N] [--json]      {"hits": [{"path", "page", "score", "snippet"}]}
  bestbox docs status [--json]                          folders, file counts, every failed file and why

Only the index in BestBox's data dir is written; the documents are only read.
"""
from __future__ import annotations

import json
import sys
import time
from pathlib import Path


def register(sub) -> None:
    p = sub.add_parser("docs", help="index and search your document folders ([data] documents)")
    dsub = p.add_subparsers(dest="docs_command", metavar="ACTION")
    ix = dsub.add_parser("index", help="index every configured folder (added, changed, renamed, deleted files)")
    ix.add_argument("--add", metavar="DIR", action="append", help="also add this folder to the config, then index")
    ix.add_argument("--rebuild", action="store_true", help="drop the index and read every file again")
    ix.add_argument("--json", action="store_true", help="print one JSON report")
    se = dsub.add_parser("search", help="search the indexed documents")
    se.add_argument("query")
    se.add_argument("--limit", type=int, default=5)
    se.add_argument("--json", action="store_true")
    st = dsub.add_parser("status", help="folders, file counts and every file that could not be read")
    st.add_argument("--json", action="store_true")
    p.set_defaults(func=run, docs_command=None)


def run(args) -> int:
    if args.docs_command is None:
        print("bestbox docs: give an action: index, search or status", file=sys.stderr)
        return 2
    return {"index": _index, "search": _search, "status": _status}[args.docs_command](args)


def _config():
    from ._runtime import load_config_or_warn

    return load_config_or_warn()


def _add_folders(dirs: list[str]) -> list[str] | None:
    """Write the folders into the config (comments kept); None when one is not a folder."""
    from .. import config as C, paths

    cfg = _config()
    folders = list(cfg.data.documents)
    for d in dirs:
        p = Path(d).expanduser()
        if not p.is_dir():
            print(f"bestbox docs index: '{d}' is not a folder", file=sys.stderr)
            return None
        resolved = str(p.resolve())
        if all(str(Path(f).expanduser().resolve()) != resolved for f in folders):
            folders.append(resolved)
    C.set_value(paths.config_file(), ("data", "documents"), folders)
    return folders


def _progress_line(p) -> str:
    if p.stage == "scan":
        return "scanning folders …"
    if p.stage == "vectors":
        step = p.current if p.done >= p.total else f"step {p.done + 1}/{p.total} · {p.current}"
        return f"vector files for fast search: {step}"
    if p.stage not in ("read", "embed"):
        return ""
    what = "files" if p.stage == "read" else "passages"
    eta = "" if p.eta_s is None else f" · {_dur(p.eta_s)} left"
    cur = f" · {Path(p.current).name[:40]}" if p.current and p.stage == "read" else ""
    paused = " · PAUSED" if p.paused else ""
    return f"{'reading' if p.stage == 'read' else 'embedding'} {p.done}/{p.total} {what} · {p.rate:.1f}/s{eta}{cur}{paused}"


def _dur(s: float) -> str:
    s = int(s)
    return f"{s // 3600}h{s % 3600 // 60:02d}m" if s >= 3600 else f"{s // 60}m{s % 60:02d}s" if s >= 60 else f"{s}s"


def _index(args) -> int:
    from ..data.documents import Indexer

    if args.add:
        folders = _add_folders(args.add)
        if folders is None:
            return 2
    else:
        folders = list(_config().data.documents)
    cfg = _config()
    if not folders:
        print("bestbox docs index: no folders configured; add one with `bestbox docs index --add DIR`", file=sys.stderr)
        return 2
    tty = sys.stderr.isatty() and not args.json
    last = [0.0]

    def show(p):
        line = _progress_line(p)
        if not line or args.json:
            return
        now = time.monotonic()
        if tty:
            if now - last[0] > 0.2 or p.stage in ("done", "cancelled"):
                sys.stderr.write("\r\x1b[K" + line)
                sys.stderr.flush()
                last[0] = now
        elif now - last[0] > 5:
            print(line, file=sys.stderr)
            last[0] = now

    missing = [f for f in folders if not Path(f).expanduser().is_dir()]
    ix = Indexer([f for f in folders if f not in missing], max_mb=cfg.data.documents_max_mb,
                 timeout_s=cfg.data.documents_timeout_s, embed=cfg.data.documents_embed, on_progress=show)
    try:
        rep = ix.sync(rebuild=args.rebuild)
    except KeyboardInterrupt:
        print("\ninterrupted: the rest stays queued; `bestbox docs index` resumes", file=sys.stderr)
        return 130
    if ix.vector_build is not None:     # its own thread; a one-shot CLI run waits for the files
        ix.vector_build.join()
    if tty:
        sys.stderr.write("\r\x1b[K")
    out = {"folders": folders, "missing_folders": missing, **rep.as_dict(), "retrieval_mode": _mode_note(cfg)}
    if args.json:
        print(json.dumps(out, indent=2))
        return 0
    print(f"{rep.files} files read ({rep.added} new, {rep.changed} changed, {rep.renamed} renamed, "
          f"{rep.unchanged} unchanged), {rep.deleted} removed, {rep.embedded} passages embedded, "
          f"{len(rep.failures)} not readable, {rep.seconds:.1f} s")
    for f in missing:
        print(f"  folder missing: {f}")
    for f in rep.failures:
        print(f"  {f['path']}: {f['reason']}")
    print(out["retrieval_mode"])
    return 0


def _mode_note(cfg) -> str:
    from ..data.documents import Searcher

    s = Searcher(use_embeddings=cfg.data.documents_embed)
    try:
        return s.mode_note()
    finally:
        s.close()


def _search(args) -> int:
    from ..data.documents import search

    cfg = _config()
    res = search(args.query, max(1, min(args.limit, 50)), use_embeddings=cfg.data.documents_embed)
    if args.json:
        print(json.dumps({"query": res["query"], "mode": res["mode"], "mode_note": res["mode_note"],
                          "ms": res["ms"], "hits": [h.public() for h in res["hits"]]}, indent=2))
        return 0
    print(f"[{res['mode_note']} · {res['ms']:.0f} ms]", file=sys.stderr)
    if not res["hits"]:
        print("no passage matches")
    for i, h in enumerate(res["hits"], 1):
        page = f" p.{h.page}" if h.page else ""
        print(f"{i}. {h.path}{page}  ({h.score:.4f})\n   {h.snippet}")
    return 0


def _status(args) -> int:
    from ..data.documents import store

    cfg = _config()
    con = store.connect()
    try:
        st = store.status(con)
    finally:
        con.close()
    folders = []
    for f in cfg.data.documents:
        key = str(Path(f).expanduser().resolve())
        folders.append({"folder": f, "exists": Path(key).is_dir(),
                        **st["folders"].get(key, {"files": 0, "indexed": 0, "failed": 0, "chunks": 0})})
    out = {"folders": folders, "failed": st["failed"], "chunks": st["chunks"], "embedded_chunks": st["embedded_chunks"],
           "queued": st["queued"], "retrieval_mode": _mode_note(cfg)}
    if args.json:
        print(json.dumps(out, indent=2))
        return 0
    if not folders:
        print("no document folders configured ([data] documents); add one with `bestbox docs index --add DIR`")
    for f in folders:
        flag = "" if f["exists"] else "  (MISSING)"
        print(f"{f['folder']}: {f['files']} files, {f['indexed']} indexed, {f['failed']} not readable, "
              f"{f['chunks']} passages{flag}")
    print(f"{out['embedded_chunks']}/{out['chunks']} passages embedded, {out['queued']} files queued")
    for f in out["failed"]:
        print(f"  {f['path']}: {f['reason']}")
    print(out["retrieval_mode"])
    return 0
