"""`bestbox models list|download` as a user runs it (a subprocess), against the local fake hub."""
from __future__ import annotations

import json
import os
import subprocess
import sys

from bestbox import config

MB = 1024 * 1024
REPO = "Qwen/Test-GGUF"


def _bestbox(*args, env_extra=None, timeout=60):
    env = {**os.environ, "HF_ENDPOINT": "http://127.0.0.1:9", **(env_extra or {})}  # never the real hub
    env.pop("HF_TOKEN", None)
    return subprocess.run([sys.executable, "-m", "bestbox", *args], capture_output=True, text=True, env=env,
                          timeout=timeout)


def test_cli_download_and_list(hub, cfg_file, tmp_path):
    data = hub.add(REPO, "m-00001-of-00002.gguf", 2 * MB)
    hub.add(REPO, "m-00002-of-00002.gguf", MB)
    hub.cut_once["m-00001-of-00002.gguf"] = MB  # resumed inside the same run
    dest = tmp_path / "models"
    r = _bestbox("models", "download", "light", "--endpoint", hub.url, "--repo", REPO,
                 "--file", "m-00001-of-00002.gguf", "--dir", str(dest))
    assert r.returncode == 0, r.stderr
    assert "light: " in r.stderr and "MB/s" in r.stderr and "(1/2)" in r.stderr  # the progress line
    assert "done:" in r.stdout
    assert (dest / "m-00001-of-00002.gguf").read_bytes() == data and (dest / "m-00002-of-00002.gguf").exists()
    assert config.load(cfg_file).config.servers.light.model == str(dest / "m-00001-of-00002.gguf")
    assert any("Range" in q["headers"] for q in hub.gets("/cdn/"))

    r = _bestbox("models", "list", "--json")
    assert r.returncode == 0, r.stderr
    rows = {m["server"]: m for m in json.loads(r.stdout)["models"]}
    assert rows["heavy"]["repo"] == "Qwen/Qwen2.5-14B-Instruct-GGUF" and rows["light"]["present"] is False
    assert rows["light"]["configured_model"] == str(dest / "m-00001-of-00002.gguf")


def test_cli_failure_is_readable(hub, cfg_file, tmp_path):
    before = cfg_file.read_text()
    r = _bestbox("models", "download", "heavy", "--endpoint", hub.url, "--repo", REPO, "--file", "missing.gguf",
                 "--dir", str(tmp_path))
    assert r.returncode == 1
    assert "heavy: download failed:" in r.stderr and "not found" in r.stderr and "Traceback" not in r.stderr
    assert cfg_file.read_text() == before
    r = _bestbox("models", "download", "all", "--repo", REPO)
    assert r.returncode == 2 and "--repo and --file go together" in r.stderr
