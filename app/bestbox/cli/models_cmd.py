"""`bestbox models list [--json]` and `bestbox models download heavy|light|all`.

Downloads come from Hugging Face ($HF_ENDPOINT or --endpoint; $HF_TOKEN for gated repos), resume
after an interruption (run the same command again), are checked against the server's sha256, and
point the server's `model` in the config file at the result (part 1 of a split GGUF).
"""
from __future__ import annotations

import json
import sys
import time


def register(sub) -> None:
    p = sub.add_parser("models", help="list and download the GGUF models the two servers use")
    msub = p.add_subparsers(dest="models_action", metavar="ACTION", required=True)
    ls = msub.add_parser("list", help="the known models, where they go and which are present")
    ls.add_argument("--json", action="store_true", help="machine-readable output")
    ls.add_argument("--dir", help="look in this folder instead of the configured model's folder")
    ls.set_defaults(func=run_list)
    dl = msub.add_parser("download", help="download a server's model (resumable) and point the config at it")
    dl.add_argument("name", choices=["heavy", "light", "all"])
    dl.add_argument("--family", help="the pair of another model family (see `bestbox models list`), "
                                     "e.g. qwen3, gemma3, llama3, mistral; default: the design's Qwen2.5 pair")
    dl.add_argument("--dir", help="folder for the files (default: the folder of the configured model, "
                                  "e.g. ~/models/14b)")
    dl.add_argument("--endpoint", help="Hugging Face endpoint (default: $HF_ENDPOINT or https://huggingface.co)")
    dl.add_argument("--repo", help="another repo, owner/name (with --file)")
    dl.add_argument("--file", action="append", help="a file in --repo; repeat for several. A split GGUF's "
                                                    "first part (…-00001-of-0000N.gguf) brings the other parts")
    dl.add_argument("--revision", default="main", help="branch, tag or commit (default: main)")
    dl.add_argument("--no-config", action="store_true", help="do not change the config file")
    dl.add_argument("--retries", type=int, default=3, help="resume attempts after a broken connection")
    dl.set_defaults(func=run_download)


def _entries(args):
    from ..models import catalog

    names = ["heavy", "light"] if args.name == "all" else [args.name]
    if args.repo or args.file:
        if not (args.repo and args.file):
            raise ValueError("--repo and --file go together")
        if args.name == "all":
            raise ValueError("with --repo/--file name one server: heavy or light")
        return [(args.name, catalog.custom_entry(args.name, args.repo, args.file, args.revision))]
    if getattr(args, "family", None):
        from ..models.families import family_entry

        return [(n, family_entry(args.family, n)) for n in names]
    return [(n, catalog.entry_for(n)) for n in names]


def run_list(args) -> int:
    from pathlib import Path

    from .. import config as config_mod
    from .. import paths
    from ..models.catalog import CATALOG
    from ..models.download import local_status
    from ..models.install import target_folder
    from ..models.progress import fmt_size

    cfg_path = paths.config_file()
    loaded = config_mod.load(cfg_path, create=False)
    rows = []
    for name, entry in CATALOG.items():
        folder = target_folder(name, entry, cfg_path, args.dir)
        st = local_status(entry, folder)
        configured = str(Path(loaded.config.server(name).model).expanduser())
        rows.append({"server": name, "label": entry.label, "repo": entry.repo, "revision": entry.revision,
                     "files": list(entry.files), "folder": str(folder), "path": str(folder / entry.main_file),
                     "approx_bytes": int(entry.approx_gb * 1e9) if entry.approx_gb else None,
                     "configured_model": configured,
                     "in_use": configured == str(folder / entry.main_file), **st})
    from ..models.families import families_report, machine_memory

    machine = machine_memory()
    fams = families_report(loaded.config, machine)
    if args.json:
        print(json.dumps({"config": str(cfg_path), "models": rows, "families": fams, "machine": machine}, indent=1))
        return 0
    for r in rows:
        state = "present" if r["present"] else ("partial" if r["partial_bytes"] else "missing")
        size = fmt_size(r["bytes"]) if r["present"] else (
            f"{fmt_size(r['bytes'] + r['partial_bytes'])} of ~{fmt_size(r['approx_bytes'])}")
        print(f"{r['server']:6s} {r['label']}  [{state}, {size}]")
        print(f"       {r['repo']}: {', '.join(r['files'])}")
        print(f"       folder {r['folder']}" + ("  (the config uses it)" if r["in_use"] else ""))
    _print_families(fams, machine)
    print(f"\nconfig: {cfg_path}. Download: bestbox models download heavy|light|all [--family NAME]")
    return 0


def _print_families(fams: list[dict], machine: dict) -> None:
    from ..models.download import fmt_size

    print(f"\nModel families (light + heavy loaded together with the configured contexts; this machine: "
          f"{fmt_size(machine['bytes'])} {machine['kind']}, {machine['detail']}). Sizes are approximate.")
    for f in fams:
        mark = "fits" if f["fits"] else "does NOT fit"
        print(f"  {f['family']:8s} {fmt_size(f['total_bytes'])} needed, {mark}  - {f['label']}")
        for role in ("heavy", "light"):
            m = f["models"][role]
            print(f"           {role:5s} {m['label']}: ~{fmt_size(m['file_bytes'])} file + "
                  f"{fmt_size(m['kv_bytes'])} KV cache ({m['ctx_size']} tokens)  {m['repo']}")


class _Printer:
    """One progress line on stderr: rewritten in place on a terminal, every few seconds otherwise."""

    def __init__(self, name: str, stream=None):
        self.name = name
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty()
        self.last = 0.0
        self.last_phase = ""
        self.width = 0

    def __call__(self, p) -> None:
        from ..models.progress import progress_line

        now = time.monotonic()
        changed = p.phase != self.last_phase
        if not self.tty and not changed and now - self.last < 2.0:
            return
        if self.tty and not changed and now - self.last < 0.2:
            return
        self.last, self.last_phase = now, p.phase
        line = f"{self.name}: {progress_line(p)}"
        if self.tty:
            self.stream.write("\r" + line.ljust(self.width))
            self.width = max(self.width, len(line))
        else:
            self.stream.write(line + "\n")
        self.stream.flush()

    def end(self) -> None:
        if self.tty and self.width:
            self.stream.write("\n")
            self.stream.flush()
            self.width = 0


def run_download(args) -> int:
    import asyncio

    from .. import paths
    from ..models.download import DownloadError
    from ..models.install import download_for_server

    try:
        entries = _entries(args)
    except ValueError as e:
        print(f"bestbox models download: {e}", file=sys.stderr)
        return 2
    cfg_path = paths.config_file()
    failed = 0
    for name, entry in entries:
        printer = _Printer(name)
        print(f"{name}: {entry.label} from {entry.repo} ({len(entry.files)} file"
              f"{'s' if len(entry.files) > 1 else ''})", file=sys.stderr)
        try:
            path = asyncio.run(download_for_server(name, config_path=cfg_path, folder=args.dir, entry=entry,
                                                   endpoint=args.endpoint, progress=printer,
                                                   update_config=not args.no_config, retries=args.retries))
        except DownloadError as e:
            printer.end()
            print(f"{name}: download failed: {e}", file=sys.stderr)
            failed += 1
            continue
        except KeyboardInterrupt:
            printer.end()
            print(f"{name}: interrupted; the partial file is kept. Run the same command again to resume.",
                  file=sys.stderr)
            return 130
        printer.end()
        where = "" if args.no_config else f"; [servers.{name}] model in {cfg_path} now points at it"
        print(f"{name}: done: {path}{where}")
    if failed:
        return 1
    if not args.no_config:
        print("Restart the servers to use the new model(s): bestbox servers restart all (or Restart in the window)")
    return 0
