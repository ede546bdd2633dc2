"""The downloader against the local fake Hugging Face (conftest.Hub): full download with progress,
sha256 and the config update; resume after a cut; readable 404/401/network errors; a wrong sha256;
too little disk space; cancelling keeps the .part."""
from __future__ import annotations

import asyncio
import shutil
from collections import namedtuple

import pytest

from bestbox import config
from bestbox.models import catalog
from bestbox.models.download import DownloadError, download_model
from bestbox.models.install import download_for_server

MB = 1024 * 1024
REPO = "Qwen/Test-GGUF"
P1, P2 = "tiny-q4_k_m-00001-of-00002.gguf", "tiny-q4_k_m-00002-of-00002.gguf"


def _entry(*files, repo=REPO):
    return catalog.custom_entry("heavy", repo, list(files))


def test_catalog_and_split_names():
    heavy, light = catalog.entry_for("heavy"), catalog.entry_for("light")
    assert heavy.repo == "Qwen/Qwen2.5-14B-Instruct-GGUF" and len(heavy.files) == 3
    assert heavy.main_file == "qwen2.5-14b-instruct-q4_k_m-00001-of-00003.gguf"
    assert light.files == tuple(catalog.split_parts("qwen2.5-7b-instruct-q5_k_m-00001-of-00002.gguf"))
    assert catalog.split_parts("plain.gguf") == ["plain.gguf"]
    assert _entry(P1).files == (P1, P2)  # a first part brings the rest


def test_full_download_updates_config(hub, cfg_file, tmp_path):
    a = hub.add(REPO, P1, 3 * MB + 17)
    b = hub.add(REPO, P2, 2 * MB)
    seen = []
    dest = tmp_path / "models"
    path = asyncio.run(download_for_server("heavy", config_path=cfg_file, folder=dest, entry=_entry(P1),
                                           endpoint=hub.url, progress=seen.append))
    assert path == dest / P1
    assert (dest / P1).read_bytes() == a and (dest / P2).read_bytes() == b
    assert not list(dest.glob("*.part"))
    # progress: overall bytes only grow, end at the total, with a speed and both parts named
    done = [p.done for p in seen]
    assert done == sorted(done) and seen[-1].done == seen[-1].total == len(a) + len(b)
    assert {p.index for p in seen} >= {1, 2} and any(p.phase == "verify" for p in seen)
    assert any(p.speed_bps > 0 for p in seen)
    # HF's shape: resolve → 302 → CDN, with the sha256 from X-Linked-Etag
    assert hub.gets(f"/{REPO}/resolve/main/{P1}") and hub.gets(f"/cdn/{REPO}/{P1}")
    # the config now points at part 1 and keeps its comments
    text = cfg_file.read_text()
    assert "# The heavy model" in text
    assert config.load(cfg_file).config.servers.heavy.model == str(dest / P1)
    # a second run finds the files and fetches nothing
    n = len(hub.gets("/cdn/"))
    asyncio.run(download_model(_entry(P1), dest, endpoint=hub.url))
    assert len(hub.gets("/cdn/")) == n


def test_resume_after_cut(hub, tmp_path):
    data = hub.add(REPO, "one.gguf", 4 * MB + 5)
    hub.cut_once["one.gguf"] = 1 * MB + 123
    dest = tmp_path / "m"
    with pytest.raises(DownloadError) as e:
        asyncio.run(download_model(_entry("one.gguf"), dest, endpoint=hub.url, retries=0))
    assert e.value.kind == "network" and "run again to resume" in str(e.value)
    part = dest / "one.gguf.part"
    kept = part.stat().st_size
    assert 0 < kept <= 1 * MB + 123 and not (dest / "one.gguf").exists()
    asyncio.run(download_model(_entry("one.gguf"), dest, endpoint=hub.url, retries=0))
    last = hub.gets("/cdn/")[-1]
    assert last["headers"].get("Range") == f"bytes={kept}-"
    assert (dest / "one.gguf").read_bytes() == data and not part.exists()


def test_resume_within_one_call(hub, tmp_path):
    data = hub.add(REPO, "one.gguf", 3 * MB)
    hub.cut_once["one.gguf"] = 2 * MB
    asyncio.run(download_model(_entry("one.gguf"), tmp_path, endpoint=hub.url, retries=2))
    cdn = hub.gets("/cdn/")
    assert len(cdn) == 2 and "Range" not in cdn[0]["headers"] and cdn[1]["headers"]["Range"].startswith("bytes=")
    assert (tmp_path / "one.gguf").read_bytes() == data


def test_not_found_and_gated_messages(hub, tmp_path):
    hub.add(REPO, "one.gguf", 1000)
    with pytest.raises(DownloadError) as e:
        asyncio.run(download_model(_entry("nope.gguf"), tmp_path, endpoint=hub.url))
    assert e.value.kind == "not_found" and e.value.status == 404
    assert f"{REPO} has no file nope.gguf" in str(e.value) and "check the repo and file names" in str(e.value)

    with pytest.raises(DownloadError) as e:
        asyncio.run(download_model(_entry("one.gguf", repo="Nobody/Nothing"), tmp_path, endpoint=hub.url))
    assert e.value.kind == "not_found" and "Nobody/Nothing not found" in str(e.value)

    hub.add("Meta/Gated", "g.gguf", 2000)
    hub.gated["Meta/Gated"] = "secret"
    with pytest.raises(DownloadError) as e:
        asyncio.run(download_model(_entry("g.gguf", repo="Meta/Gated"), tmp_path, endpoint=hub.url))
    assert e.value.kind == "auth" and e.value.status == 401
    assert "gated or private" in str(e.value) and "HF_TOKEN" in str(e.value)
    with pytest.raises(DownloadError) as e:
        asyncio.run(download_model(_entry("g.gguf", repo="Meta/Gated"), tmp_path, endpoint=hub.url, token="wrong"))
    assert "the token in HF_TOKEN has no access" in str(e.value)
    asyncio.run(download_model(_entry("g.gguf", repo="Meta/Gated"), tmp_path, endpoint=hub.url, token="secret"))
    assert (tmp_path / "g.gguf").stat().st_size == 2000
    assert not list(tmp_path.glob("*.part"))


def test_network_down(tmp_path):
    import socket

    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()  # nothing listens here
    with pytest.raises(DownloadError) as e:
        asyncio.run(download_model(_entry("x.gguf"), tmp_path, endpoint=f"http://127.0.0.1:{port}", retries=0))
    assert e.value.kind == "network" and "cannot connect to 127.0.0.1" in str(e.value)


def test_wrong_sha256_is_rejected(hub, tmp_path):
    hub.add(REPO, "one.gguf", 2 * MB)
    hub.bad_sha.add("one.gguf")
    with pytest.raises(DownloadError) as e:
        asyncio.run(download_model(_entry("one.gguf"), tmp_path, endpoint=hub.url))
    assert e.value.kind == "checksum" and "sha256 mismatch" in str(e.value)
    assert not (tmp_path / "one.gguf").exists() and not (tmp_path / "one.gguf.part").exists()


def test_disk_space_shortfall(hub, tmp_path, monkeypatch):
    hub.add(REPO, P1, 3 * MB)
    hub.add(REPO, P2, 3 * MB)
    Usage = namedtuple("Usage", "total used free")
    monkeypatch.setattr(shutil, "disk_usage", lambda p: Usage(10**9, 10**9 - 5 * MB, 5 * MB))
    with pytest.raises(DownloadError) as e:
        asyncio.run(download_model(_entry(P1), tmp_path, endpoint=hub.url))
    assert e.value.kind == "disk" and "not enough disk space" in str(e.value) and "6.3 MB still to download" in str(e.value)
    assert not hub.gets("/cdn/")  # refused before the first byte
    assert not list(tmp_path.glob("*.gguf*"))


def test_cancel_keeps_part(hub, tmp_path):
    data = hub.add(REPO, "one.gguf", 3 * MB)
    hub.delay_per_chunk = 0.01  # ~6 MB/s

    async def go():
        got = asyncio.Event()

        def cb(p):
            if p.file_done > 512 * 1024:
                got.set()

        t = asyncio.ensure_future(download_model(_entry("one.gguf"), tmp_path, endpoint=hub.url, progress=cb))
        await asyncio.wait_for(got.wait(), 10)
        t.cancel()
        with pytest.raises(asyncio.CancelledError):
            await t

    asyncio.run(go())
    part = tmp_path / "one.gguf.part"
    assert part.exists() and 0 < part.stat().st_size < len(data)
    hub.delay_per_chunk = 0
    asyncio.run(download_model(_entry("one.gguf"), tmp_path, endpoint=hub.url))
    assert (tmp_path / "one.gguf").read_bytes() == data


def test_disk_full_while_writing(hub, tmp_path, monkeypatch):
    import errno
    import io

    from bestbox.models import download

    hub.add(REPO, "one.gguf", 2 * MB)

    class Full(io.BytesIO):
        def write(self, b):
            raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(download, "open", lambda *a, **k: Full(), raising=False)
    with pytest.raises(DownloadError) as e:
        asyncio.run(download_model(_entry("one.gguf"), tmp_path, endpoint=hub.url))
    assert e.value.kind == "disk" and "disk full while writing" in str(e.value) and "run again to resume" in str(e.value)
