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
from dataclasses import dataclass
from pathlib import Path
from typing import Callable
from urllib.parse import quote, urlsplit

import httpx

from .catalog import ModelEntry
from .progress import Meter, Progress, ProgressCallback, fmt_size

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


class _Transfer:
    """One file's download state across attempts: the .part, the size and sha256 as far as known,
    and a running sha256 of the bytes in the .part (so a finished file is not read twice)."""

    def __init__(self, remote: RemoteFile, dest: Path, progress: Callable[..., None]):
        self.remote, self.dest, self.progress = remote, dest, progress
        self.part = dest.with_name(dest.name + ".part")
        self.size, self.sha = remote.size, remote.sha256
        self.hasher = None
        self.hashed = 0          # bytes of .part already in `hasher`

    def have(self) -> int:
        return self.part.stat().st_size if self.part.exists() else 0

    async def attempt(self, client: httpx.AsyncClient, raise_http: Callable[[httpx.Response], None]) -> None:
        """One GET for the rest of the file (a Range request when a .part exists)."""
        have = self.have()
        if self.size is not None and have > self.size:
            self.part.unlink()
            have = 0
        headers = {"Range": f"bytes={have}-"} if have else {}
        async with client.stream("GET", self.remote.url, headers=headers, follow_redirects=True) as r:
            if r.status_code == 416 and have:
                pass  # nothing left to send: the .part is complete (checked below) or stale
            elif r.status_code >= 400:
                raise_http(r)
            else:
                have = await self._start(r, have)
                await self._write(r, have)
        have = self.have()
        if self.size is not None and have < self.size:
            raise httpx.RemoteProtocolError(f"the server ended the file after {have} of {self.size} bytes")

    async def _start(self, r: httpx.Response, have: int) -> int:
        """Read what the answer says (range, size, sha256), check the disk, hash the kept bytes.
        Returns the offset the body starts at."""
        chain = list(r.history) + [r]
        self.sha = self.sha or _sha_from(chain)
        if r.status_code == 206:
            m = re.match(r"bytes (\d+)-(\d+)/(\d+|\*)", r.headers.get("content-range", ""))
            start = int(m.group(1)) if m else -1
            if m and m.group(3) != "*":
                self.size = int(m.group(3))
            if start != have:  # not the range we asked for: start over
                self.part.unlink(missing_ok=True)
                raise httpx.RemoteProtocolError(f"asked for bytes {have}-, got {start}-")
        if r.status_code == 200:  # the server ignored the range (or there was none): from the start
            have = 0
            self.hasher, self.hashed = None, 0
            cl = r.headers.get("content-length")
            if cl and cl.isdigit():
                self.size = int(cl)
        if self.size is not None:
            check_disk_space(self.dest.parent, self.size - have)
        if have and (self.hasher is None or self.hashed != have):
            # The bytes kept from before: hash them off the event loop (GBs).
            self.hasher = await asyncio.get_running_loop().run_in_executor(None, _hash_file, self.part, have)
            self.hashed = have
        elif not have:
            self.hasher, self.hashed = hashlib.sha256(), 0
        return have

    async def _write(self, r: httpx.Response, have: int) -> None:
        try:
            with open(self.part, "ab" if have else "wb") as f:
                self.progress(have, force=True)
                async for chunk in r.aiter_bytes(CHUNK):
                    f.write(chunk)
                    self.hasher.update(chunk)
                    have += len(chunk)
                    self.hashed = have
                    self.progress(have, added=len(chunk))
        except OSError as e:
            self.hasher = None
            raise _disk_error(e, self.part) from e

    async def finish(self) -> None:
        """Check size and sha256, then rename the .part to its final name."""
        if not self.part.exists():
            raise DownloadError(f"{self.remote.file}: the server sent nothing", "http")
        have = self.part.stat().st_size
        if self.size is not None and have != self.size:
            self.part.unlink()
            raise DownloadError(f"{self.remote.file}: got {have} bytes, the server announced {self.size}; the "
                                "partial file was removed, run again", "checksum")
        if self.sha:
            self.progress(have, "verify", force=True)
            if self.hasher is None or self.hashed != have:
                self.hasher = await asyncio.get_running_loop().run_in_executor(None, _hash_file, self.part, None)
            got = self.hasher.hexdigest()
            if got != self.sha:
                self.part.unlink()
                raise DownloadError(f"{self.remote.file}: sha256 mismatch (expected {self.sha}, got {got}); the "
                                    "download was deleted, run again", "checksum")
        os.replace(self.part, self.dest)
        self.progress(have, force=True)


async def fetch(client: httpx.AsyncClient, remote: RemoteFile, dest: Path, *, repo: str, endpoint: str,
                token: str | None = None, meter: Meter | None = None, index: int = 1, count: int = 1,
                done_before: int = 0, total_all: int | None = None, retries: int = 3) -> Path:
    """Stream one file to `dest.part` (resuming it), verify, rename to `dest`. A broken connection
    or a 5xx is retried with backoff, resuming where the .part ends."""
    meter = meter or Meter(None)
    tr: _Transfer

    def progress(have: int, phase: str = "download", force: bool = False, added: int = 0) -> None:
        meter.add(added)
        size = tr.size
        speed = meter.speed()
        tot = total_all if total_all is not None else (size if count == 1 else None)
        left = (tot - done_before - have) if tot is not None else ((size - have) if size is not None else None)
        eta = left / speed if (left is not None and speed > 0) else None
        meter.emit(Progress(dest.name, index, count, done_before + have, tot, have, size, speed, eta, phase), force)

    tr = _Transfer(remote, dest, progress)
    attempt = 0

    def raise_http(r: httpx.Response) -> None:
        if r.status_code >= 500 and attempt < retries:
            raise httpx.RemoteProtocolError(f"HTTP {r.status_code}")
        raise _http_error(r, repo, remote.file, endpoint, token)

    while True:
        try:
            await tr.attempt(client, raise_http)
            break
        except httpx.TransportError as e:
            attempt += 1
            if attempt > retries:
                raise _network_error(e, remote.url) from e
            await asyncio.sleep(min(8.0, 0.5 * 2 ** (attempt - 1)))
    await tr.finish()
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
        meter = Meter(progress)
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
