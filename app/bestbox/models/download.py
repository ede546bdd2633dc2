"""Download GGUF files from Hugging Face (or any server with the same URL layout): asyncio + httpx,
no Qt, so the CLI and the window share it.

`GET {endpoint}/{repo}/resolve/{revision}/{file}` following redirects (HF sends LFS files to a
CDN). The bytes go to `file.part`; an interruption keeps it and the next attempt asks for the rest
with an HTTP Range request. Before the first byte the free disk space is compared with what is
left to fetch. When the server names the file's sha256 (`X-Linked-Etag`, or an `ETag` that is a
sha256 — HF does so for LFS files) the finished file is checked against it; a mismatch deletes
the download. Only a complete, verified file is renamed to its final name. Cancelling (task
cancel) keeps the `.part` for a later resume.

Endpoint: `endpoint=`, else `$HF_ENDPOINT`, else https://huggingface.co. Token: `token=`, else
`$HF_TOKEN` (sent as a Bearer token; httpx drops it on a redirect to another host).
"""
from __future__ import annotations

import asyncio
import errno
import hashlib
import os
import re
import shutil
import time
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Callable
from urllib.parse import quote, urlsplit

import httpx

from .catalog import ModelEntry, entry_for

DEFAULT_ENDPOINT = "https://huggingface.co"
DISK_MARGIN = 64 * 1024 * 1024   # leave this much free after a download
CHUNK = 1024 * 1024
_SHA256 = re.compile(r"^[0-9a-f]{64}$")


class DownloadError(Exception):
    """A readable reason. kind: auth, not_found, network, disk, checksum, http, config."""

    def __init__(self, message: str, kind: str = "error", status: int | None = None):
        super().__init__(message)
        self.kind = kind
        self.status = status


@dataclass
class Progress:
    file: str                  # the file being fetched
    index: int                 # 1-based, of `count` files
    count: int
    done: int                  # bytes present of all files (resumed and finished ones included)
    total: int | None          # bytes of all files, when known
    file_done: int
    file_total: int | None
    speed_bps: float           # over the last few seconds, bytes actually transferred
    eta_s: float | None
    phase: str = "download"    # check | download | verify | done

    @property
    def fraction(self) -> float | None:
        return (self.done / self.total) if self.total else None


ProgressCallback = Callable[[Progress], None]


@dataclass
class RemoteFile:
    file: str
    url: str
    size: int | None
    sha256: str | None


def resolve_endpoint(endpoint: str | None = None) -> str:
    return (endpoint or os.environ.get("HF_ENDPOINT") or DEFAULT_ENDPOINT).rstrip("/")


def resolve_token(token: str | None = None) -> str | None:
    return token or os.environ.get("HF_TOKEN") or None


def file_url(endpoint: str, repo: str, file: str, revision: str = "main") -> str:
    return f"{endpoint}/{repo}/resolve/{quote(revision, safe='')}/{quote(file)}"


def fmt_size(n: float | None) -> str:
    if n is None:
        return "?"
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1000 or unit == "GB":
            return f"{n:.0f} {unit}" if unit in ("B", "KB") else f"{n:.1f} {unit}"
        n /= 1000
    return "?"


def fmt_eta(s: float | None) -> str:
    if s is None:
        return "?"
    s = int(s)
    if s < 60:
        return f"{s} s"
    if s < 3600:
        return f"{s // 60} min {s % 60:02d} s"
    return f"{s // 3600} h {(s % 3600) // 60:02d} min"


def progress_line(p: Progress) -> str:
    """`qwen…-00002-of-00003.gguf (2/3)  3.1 GB / 9.0 GB  34 %  41.2 MB/s  ETA 2 min 23 s`"""
    pct = f"  {p.fraction * 100:.0f} %" if p.fraction is not None else ""
    part = f" ({p.index}/{p.count})" if p.count > 1 else ""
    if p.phase == "verify":
        return f"{p.file}{part}  verifying sha256…"
    if p.phase == "done":
        return f"done, {fmt_size(p.done)}"
    return (f"{p.file}{part}  {fmt_size(p.done)} / {fmt_size(p.total)}{pct}  "
            f"{p.speed_bps / 1e6:.1f} MB/s  ETA {fmt_eta(p.eta_s)}")


# -- errors --------------------------------------------------------------------------------------
def _http_error(r: httpx.Response, repo: str, file: str, endpoint: str, token: str | None) -> DownloadError:
    code = r.status_code
    hf_code = r.headers.get("x-error-code", "")
    hf_msg = r.headers.get("x-error-message", "")
    where = f"{repo}/{file}"
    if code in (401, 403):
        if hf_code == "RepoNotFound":
            msg = (f"repository {repo} not found on {endpoint} (HTTP {code}; it may also be private: "
                   "set HF_TOKEN to a token with access)")
            return DownloadError(msg, "not_found", code)
        if token:
            msg = (f"access to {where} denied (HTTP {code}): the token in HF_TOKEN has no access. The repo is "
                   f"gated or private: accept its terms at {endpoint}/{repo} with the token's account")
        else:
            msg = (f"access to {where} denied (HTTP {code}): the repo is gated or private and needs a token. "
                   f"Accept its terms at {endpoint}/{repo}, create a read token and set HF_TOKEN")
        if hf_msg:
            msg += f" (server: {hf_msg})"
        return DownloadError(msg, "auth", code)
    if code == 404:
        what = {"EntryNotFound": f"{repo} has no file {file}",
                "RevisionNotFound": f"{repo} has no such revision",
                "RepoNotFound": f"repository {repo} not found"}.get(hf_code, f"{where} not found")
        return DownloadError(f"{what} on {endpoint} (HTTP 404): check the repo and file names", "not_found", 404)
    if code >= 500:
        return DownloadError(f"{endpoint} answered HTTP {code} for {where}: a server problem, try again later",
                             "http", code)
    return DownloadError(f"{endpoint} answered HTTP {code} for {where}" + (f": {hf_msg}" if hf_msg else ""),
                         "http", code)


def _network_error(e: Exception, url: str) -> DownloadError:
    host = urlsplit(url).netloc
    if isinstance(e, httpx.ConnectError):
        why = f"cannot connect to {host} ({e or type(e).__name__})"
    elif isinstance(e, httpx.TimeoutException):
        why = f"{host} stopped answering (timeout)"
    else:
        why = f"the connection to {host} broke ({e or type(e).__name__})"
    return DownloadError(f"network: {why}. Check the network connection (and HF_ENDPOINT / proxy settings); "
                         "run again to resume", "network")


def _disk_error(e: OSError, part: Path) -> DownloadError:
    if e.errno in (errno.ENOSPC, getattr(errno, "EDQUOT", -1)):
        return DownloadError(f"disk full while writing {part}: free some space and run again to resume "
                             "(the partial file is kept)", "disk")
    return DownloadError(f"cannot write {part}: {e.strerror or e}", "disk")


def _sha_from(responses: list[httpx.Response]) -> str | None:
    """X-Linked-Etag (HF, on the redirect) first, then any ETag that is a sha256."""
    for header in ("x-linked-etag", "etag"):
        for r in responses:
            v = r.headers.get(header, "").strip()
            v = v[2:] if v.startswith("W/") else v
            v = v.strip('"').lower()
            if _SHA256.match(v):
                return v
    return None


def _size_from(responses: list[httpx.Response]) -> int | None:
    final = responses[-1]
    for v in [final.headers.get("content-length")] + [r.headers.get("x-linked-size") for r in responses]:
        if v and v.isdigit():
            return int(v)
    return None


def check_disk_space(folder: Path, need: int) -> None:
    """Raise a DownloadError when `need` bytes (plus a margin) do not fit in `folder`."""
    probe = folder
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    free = shutil.disk_usage(probe).free
    if need + DISK_MARGIN > free:
        raise DownloadError(f"not enough disk space in {folder}: {fmt_size(need)} still to download, "
                            f"{fmt_size(free)} free. Free some space or choose another folder (--dir)", "disk")


class _Meter:
    """Speed over the last few seconds and the ETA; calls the callback at most every `every` s."""

    def __init__(self, cb: ProgressCallback | None, every: float = 0.1, window: float = 4.0):
        self.cb, self.every, self.window = cb, every, window
        self.samples: deque[tuple[float, int]] = deque()
        self.transferred = 0
        self.last_emit = 0.0

    def add(self, n: int) -> None:
        self.transferred += n

    def speed(self) -> float:
        now = time.monotonic()
        self.samples.append((now, self.transferred))
        while len(self.samples) > 2 and now - self.samples[0][0] > self.window:
            self.samples.popleft()
        t0, b0 = self.samples[0]
        return (self.transferred - b0) / (now - t0) if now - t0 > 0.001 else 0.0

    def emit(self, p: Progress, force: bool = False) -> None:
        if self.cb is None:
            return
        now = time.monotonic()
        if not force and now - self.last_emit < self.every:
            return
        self.last_emit = now
        self.cb(p)


def _hash_file(path: Path, limit: int | None = None) -> "hashlib._Hash":
    h = hashlib.sha256()
    left = limit
    with open(path, "rb") as f:
        while True:
            buf = f.read(CHUNK * 4 if left is None else min(CHUNK * 4, left))
            if not buf:
                break
            h.update(buf)
            if left is not None:
                left -= len(buf)
                if left <= 0:
                    break
    return h


# -- one file ------------------------------------------------------------------------------------
async def probe(client: httpx.AsyncClient, repo: str, file: str, *, endpoint: str, revision: str = "main",
                token: str | None = None, retries: int = 2) -> RemoteFile:
    """HEAD the file (following redirects): its size and sha256, or a readable error."""
    url = file_url(endpoint, repo, file, revision)
    for attempt in range(retries + 1):
        try:
            r = await client.head(url, follow_redirects=True)
        except httpx.TransportError as e:
            if attempt >= retries:
                raise _network_error(e, url) from e
            await asyncio.sleep(min(8.0, 0.5 * 2 ** attempt))
            continue
        if r.status_code >= 500 and attempt < retries:
            await asyncio.sleep(min(8.0, 0.5 * 2 ** attempt))
            continue
        if r.status_code in (405, 501):  # HEAD not allowed: learn the size from the GET
            return RemoteFile(file, url, None, None)
        if r.status_code >= 400:
            raise _http_error(r, repo, file, endpoint, token)
        chain = list(r.history) + [r]
        return RemoteFile(file, url, _size_from(chain), _sha_from(chain))
    raise AssertionError("unreachable")


async def fetch(client: httpx.AsyncClient, remote: RemoteFile, dest: Path, *, repo: str, endpoint: str,
                token: str | None = None, meter: _Meter | None = None, index: int = 1, count: int = 1,
                done_before: int = 0, total_all: int | None = None, retries: int = 3) -> Path:
    """Stream one file to `dest.part` (resuming it), verify, rename to `dest`."""
    meter = meter or _Meter(None)
    part = dest.with_name(dest.name + ".part")
    size, sha = remote.size, remote.sha256
    hasher = None
    hashed = 0          # bytes of .part already in `hasher`
    attempt = 0
    loop = asyncio.get_running_loop()

    def progress(have: int, phase: str = "download", force: bool = False) -> None:
        speed = meter.speed()
        tot = total_all if total_all is not None else (size if count == 1 else None)
        left = (tot - done_before - have) if tot is not None else ((size - have) if size is not None else None)
        eta = left / speed if (left is not None and speed > 0) else None
        meter.emit(Progress(dest.name, index, count, done_before + have, tot, have, size, speed, eta, phase), force)

    while True:
        have = part.stat().st_size if part.exists() else 0
        if size is not None and have > size:
            part.unlink()
            have = 0
        headers = {"Range": f"bytes={have}-"} if have else {}
        try:
            async with client.stream("GET", remote.url, headers=headers, follow_redirects=True) as r:
                if r.status_code == 416 and have:
                    # Nothing left to send: the .part is complete (checked below) or stale.
                    pass
                elif r.status_code >= 400:
                    if r.status_code >= 500 and attempt < retries:
                        raise httpx.RemoteProtocolError(f"HTTP {r.status_code}")
                    raise _http_error(r, repo, remote.file, endpoint, token)
                else:
                    chain = list(r.history) + [r]
                    sha = sha or _sha_from(chain)
                    start = 0
                    if r.status_code == 206:
                        m = re.match(r"bytes (\d+)-(\d+)/(\d+|\*)", r.headers.get("content-range", ""))
                        start = int(m.group(1)) if m else -1
                        if m and m.group(3) != "*":
                            size = int(m.group(3))
                    if r.status_code == 206 and start != have:  # not the range we asked for: start over
                        part.unlink(missing_ok=True)
                        raise httpx.RemoteProtocolError(f"asked for bytes {have}-, got {start}-")
                    if r.status_code == 200:  # the server ignored the range: from the start
                        have = 0
                        hasher, hashed = None, 0
                    if r.status_code == 200:
                        cl = r.headers.get("content-length")
                        if cl and cl.isdigit():
                            size = int(cl)
                    if size is not None:
                        check_disk_space(dest.parent, size - have)
                    if have and (hasher is None or hashed != have):
                        # The bytes kept from before: hash them off the event loop (GBs).
                        hasher = await loop.run_in_executor(None, _hash_file, part, have)
                        hashed = have
                    elif not have:
                        hasher, hashed = hashlib.sha256(), 0
                    try:
                        with open(part, "ab" if have else "wb") as f:
                            progress(have, force=True)
                            async for chunk in r.aiter_bytes(CHUNK):
                                f.write(chunk)
                                hasher.update(chunk)
                                have += len(chunk)
                                hashed = have
                                meter.add(len(chunk))
                                progress(have)
                    except OSError as e:
                        hasher = None
                        raise _disk_error(e, part) from e
            have = part.stat().st_size if part.exists() else 0
            if size is not None and have < size:
                raise httpx.RemoteProtocolError(f"the server ended the file after {have} of {size} bytes")
        except httpx.TransportError as e:
            attempt += 1
            if attempt > retries:
                raise _network_error(e, remote.url) from e
            await asyncio.sleep(min(8.0, 0.5 * 2 ** (attempt - 1)))
            continue
        break

    if not part.exists():
        raise DownloadError(f"{remote.file}: the server sent nothing", "http")
    have = part.stat().st_size
    if size is not None and have != size:
        part.unlink()
        raise DownloadError(f"{remote.file}: got {have} bytes, the server announced {size}; the partial file "
                            "was removed, run again", "checksum")
    if sha:
        progress(have, "verify", force=True)
        if hasher is None or hashed != have:
            hasher = await loop.run_in_executor(None, _hash_file, part, None)
        got = hasher.hexdigest()
        if got != sha:
            part.unlink()
            raise DownloadError(f"{remote.file}: sha256 mismatch (expected {sha}, got {got}); the download was "
                                "deleted, run again", "checksum")
    os.replace(part, dest)
    progress(have, force=True)
    return dest


# -- a model (one or more files) -----------------------------------------------------------------
def _client(token: str | None) -> httpx.AsyncClient:
    headers = {"User-Agent": "bestbox-model-download/1"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return httpx.AsyncClient(headers=headers, timeout=httpx.Timeout(30.0, connect=15.0))


async def download_model(entry: ModelEntry, folder: Path, *, endpoint: str | None = None, token: str | None = None,
                         progress: ProgressCallback | None = None, retries: int = 3,
                         client: httpx.AsyncClient | None = None) -> list[Path]:
    """All of the entry's files into `folder`. Files already there with the right size are kept.
    Returns the final paths (the first is what a config points at)."""
    endpoint = resolve_endpoint(endpoint)
    token = resolve_token(token)
    folder = Path(folder).expanduser()
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise DownloadError(f"cannot create the folder {folder}: {e.strerror or e}", "disk") from e
    own = client is None
    client = client or _client(token)
    try:
        remotes = [await probe(client, entry.repo, f, endpoint=endpoint, revision=entry.revision, token=token,
                               retries=min(retries, 2))
                   for f in entry.files]
        dests = [folder / Path(f).name for f in entry.files]
        sizes = [r.size for r in remotes]
        total = sum(sizes) if all(s is not None for s in sizes) else None
        pending, done_bytes, need = [], 0, 0
        for r, d in zip(remotes, dests):
            if d.exists() and r.size is not None and d.stat().st_size == r.size:
                done_bytes += r.size
                continue
            part = d.with_name(d.name + ".part")
            have = part.stat().st_size if part.exists() else 0
            need += max(0, (r.size or 0) - have)
            pending.append((r, d))
        check_disk_space(folder, need)
        meter = _Meter(progress)
        count = len(remotes)
        for r, d in pending:
            await fetch(client, r, d, repo=entry.repo, endpoint=endpoint, token=token, meter=meter,
                        index=entry.files.index(r.file) + 1, count=count, done_before=done_bytes,
                        total_all=total, retries=retries)
            done_bytes += d.stat().st_size
        if progress is not None:
            progress(Progress(dests[-1].name, count, count, done_bytes, total or done_bytes, 0, None, 0.0, 0.0, "done"))
        return dests
    finally:
        if own:
            await client.aclose()


def set_config_model(config_path: Path, name: str, model: Path) -> None:
    """Point [servers.NAME] model at `model`, keeping the file's comments (config.set_value)."""
    from .. import config as config_mod

    try:
        if not Path(config_path).exists():
            config_mod.load(Path(config_path))  # writes the commented defaults first
        config_mod.set_value(Path(config_path), ("servers", name, "model"), str(model))
    except Exception as e:  # noqa: BLE001 - tomlkit parse errors, permissions
        raise DownloadError(f"downloaded {model}, but could not update {config_path}: {e}. Set "
                            f"[servers.{name}] model = \"{model}\" yourself", "config") from e


def target_folder(name: str, entry: ModelEntry, config_path: Path | None, folder: str | Path | None) -> Path:
    """--dir, else the folder of the configured model, else the catalog's folder."""
    from .. import config as config_mod

    configured = ""
    if folder is None and config_path is not None:
        try:
            configured = config_mod.load(Path(config_path), create=False).config.server(name).model
        except Exception:  # noqa: BLE001
            configured = ""
    return entry.dest_dir(configured, folder)


async def download_for_server(name: str, *, config_path: Path | None = None, folder: str | Path | None = None,
                              entry: ModelEntry | None = None, endpoint: str | None = None,
                              token: str | None = None, progress: ProgressCallback | None = None,
                              update_config: bool = True, retries: int = 3) -> Path:
    """Download the model for server `name` (catalog or `entry`) and point its config at it.
    Returns the path the config now names (the first file)."""
    from .. import paths

    entry = entry or entry_for(name)
    config_path = Path(config_path) if config_path else paths.config_file()
    dest = target_folder(name, entry, config_path, folder)
    files = await download_model(entry, dest, endpoint=endpoint, token=token, progress=progress, retries=retries)
    if update_config:
        set_config_model(config_path, name, files[0])
    return files[0]


def local_status(entry: ModelEntry, folder: Path) -> dict:
    """What of the entry is in `folder`: present (all files), bytes on disk, partial downloads."""
    on_disk, partial, missing = 0, 0, []
    for f in entry.files:
        p = folder / Path(f).name
        if p.is_file():
            on_disk += p.stat().st_size
        else:
            missing.append(p.name)
            part = p.with_name(p.name + ".part")
            if part.is_file():
                partial += part.stat().st_size
    return {"present": not missing, "bytes": on_disk, "partial_bytes": partial, "missing": missing}
