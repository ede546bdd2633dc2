"""A local stand-in for Hugging Face: `/{owner}/{name}/resolve/{rev}/{file}` answers 302 to a "CDN"
path on the same server with X-Linked-Etag (sha256) and X-Linked-Size, like HF does for LFS files;
the CDN serves the bytes with Content-Length, Accept-Ranges and Range/206. Knobs: gated repos
(401 without the right token), a connection cut once mid-file, a wrong sha256, a slow CDN.
Nothing here touches the internet."""
from __future__ import annotations

import hashlib
import os
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote

import pytest

MB = 1024 * 1024


@dataclass
class Hub:
    url: str = ""
    repos: dict[str, dict[str, bytes]] = field(default_factory=dict)
    gated: dict[str, str] = field(default_factory=dict)       # repo -> the token that opens it
    cut_once: dict[str, int] = field(default_factory=dict)    # file -> bytes sent before the cut
    bad_sha: set[str] = field(default_factory=set)            # files whose X-Linked-Etag is wrong
    delay_per_chunk: float = 0.0                              # seconds per 64 KiB from the CDN
    requests: list[dict] = field(default_factory=list)

    def add(self, repo: str, file: str, size: int, seed: int = 0) -> bytes:
        data = os.urandom(size) if not seed else hashlib.sha256(str(seed).encode()).digest() * (size // 32 + 1)
        data = data[:size]
        self.repos.setdefault(repo, {})[file] = data
        return data

    def sha(self, file: str) -> str:
        for files in self.repos.values():
            if file in files:
                return hashlib.sha256(files[file]).hexdigest()
        raise KeyError(file)

    def gets(self, path_part: str) -> list[dict]:
        return [r for r in self.requests if r["method"] == "GET" and path_part in r["path"]]


def _handler(hub: Hub):
    class H(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *a):  # quiet
            pass

        def _send(self, code: int, headers: dict | None = None, body: bytes = b"") -> None:
            self.send_response(code)
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if body and self.command != "HEAD":
                self.wfile.write(body)

        def do_HEAD(self):  # noqa: N802
            self._route()

        def do_GET(self):  # noqa: N802
            self._route()

        def _route(self) -> None:
            hub.requests.append({"method": self.command, "path": self.path, "headers": dict(self.headers)})
            path = unquote(self.path.split("?", 1)[0])
            if path.startswith("/cdn/"):
                return self._cdn(path[len("/cdn/"):])
            parts = path.strip("/").split("/")
            if len(parts) < 5 or parts[2] != "resolve":
                return self._send(404, {"X-Error-Code": "EntryNotFound"})
            repo, file = "/".join(parts[:2]), "/".join(parts[4:])
            if repo in hub.gated:
                if self.headers.get("Authorization") != f"Bearer {hub.gated[repo]}":
                    return self._send(401, {"X-Error-Code": "GatedRepo",
                                            "X-Error-Message": "Access to this model is restricted."})
            if repo not in hub.repos:
                return self._send(401, {"X-Error-Code": "RepoNotFound", "X-Error-Message": "Repository not found"})
            if file not in hub.repos[repo]:
                return self._send(404, {"X-Error-Code": "EntryNotFound", "X-Error-Message": "Entry not found"})
            data = hub.repos[repo][file]
            sha = hashlib.sha256(data).hexdigest()
            if file in hub.bad_sha:
                sha = "0" * 64
            self._send(302, {"Location": f"/cdn/{repo}/{file}?X-Amz-Signature=x", "X-Linked-Etag": f'"{sha}"',
                             "X-Linked-Size": str(len(data)), "ETag": '"gitsha1-not-a-sha256"'})

        def _cdn(self, rest: str) -> None:
            owner, name, file = rest.split("/", 2)
            data = hub.repos.get(f"{owner}/{name}", {}).get(file)
            if data is None:
                return self._send(404)
            start, code = 0, 200
            rng = self.headers.get("Range")
            headers = {"Accept-Ranges": "bytes", "ETag": '"cdn-md5-abc"', "Content-Type": "binary/octet-stream"}
            if rng and rng.startswith("bytes="):
                start = int(rng[6:].split("-")[0])
                if start >= len(data):
                    headers["Content-Range"] = f"bytes */{len(data)}"
                    return self._send(416, headers)
                code = 206
                headers["Content-Range"] = f"bytes {start}-{len(data) - 1}/{len(data)}"
            body = data[start:]
            self.send_response(code)
            for k, v in headers.items():
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command == "HEAD":
                return
            cut = hub.cut_once.pop(file, None) if self.command == "GET" else None
            sent = 0
            try:
                for i in range(0, len(body), 65536):
                    chunk = body[i:i + 65536]
                    if cut is not None and start + sent + len(chunk) > cut:
                        self.wfile.write(chunk[:max(0, cut - start - sent)])
                        self.wfile.flush()
                        self.close_connection = True
                        self.connection.shutdown(2)
                        return
                    self.wfile.write(chunk)
                    sent += len(chunk)
                    if hub.delay_per_chunk:
                        time.sleep(hub.delay_per_chunk)
            except OSError:  # the client went away (cancelled, disk full)
                self.close_connection = True

    return H


@pytest.fixture
def hub():
    h = Hub()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(h))
    server.daemon_threads = True
    h.url = f"http://127.0.0.1:{server.server_address[1]}"
    t = threading.Thread(target=server.serve_forever, name="fake-hf", daemon=True)
    t.start()
    yield h
    server.shutdown()
    server.server_close()


@pytest.fixture
def cfg_file(tmp_path, monkeypatch) -> Path:
    """A fresh commented default config, as a first run writes it; $BESTBOX_CONFIG points at it."""
    from bestbox import config

    path = tmp_path / "config" / "config.toml"
    config.load(path)
    monkeypatch.setenv("BESTBOX_CONFIG", str(path))
    monkeypatch.setenv("BESTBOX_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("HF_ENDPOINT", raising=False)
    monkeypatch.delenv("HF_TOKEN", raising=False)
    return path
