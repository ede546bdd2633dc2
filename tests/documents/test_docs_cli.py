"""`bestbox docs index|search|status` as a user runs them: JSON shapes, --add keeps the config's comments."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest


def _bestbox(*args, env):
    p = subprocess.run([sys.executable, "-m", "bestbox", *args], capture_output=True, text=True, env=env, timeout=600)
    return p


@pytest.fixture
def cli_env(tmp_path):
    env = dict(os.environ, BESTBOX_CONFIG=str(tmp_path / "config.toml"), BESTBOX_DATA_DIR=str(tmp_path / "data"))
    return env


def test_index_add_search_status(cli_env, labelled_docs, tmp_path):
    p = _bestbox("docs", "index", "--add", str(labelled_docs), "--json", env=cli_env)
    assert p.returncode == 0, p.stderr
    rep = json.loads(p.stdout)
    assert rep["folders"] == [str(labelled_docs)] and rep["added"] == 12 and rep["failed"] == 5
    assert {f["path"].rsplit("/", 1)[1] for f in rep["failures"]} == {
        "scanned.pdf", "locked.pdf", "broken.pdf", "broken.docx", "binary.txt"}
    assert "retrieval_mode" in rep

    cfg_text = (tmp_path / "config.toml").read_text()
    assert f'documents = ["{labelled_docs}"]' in cfg_text
    assert "# BestBox configuration" in cfg_text and "# empty: the generated demo company" in cfg_text

    p = _bestbox("docs", "search", "mileage per kilometre private car", "--json", env=cli_env)
    assert p.returncode == 0, p.stderr
    out = json.loads(p.stdout)
    assert out["mode"] in ("fused", "keyword-only") and out["mode_note"]
    hit = out["hits"][0]
    assert set(hit) == {"path", "page", "score", "snippet"}
    assert hit["path"].endswith("travel-policy.md") and hit["page"] is None

    p = _bestbox("docs", "search", "sick leave doctor's certificate", "--json", env=cli_env)
    top = json.loads(p.stdout)["hits"][0]
    assert top["path"].endswith("employee-handbook.pdf") and top["page"] == 3

    p = _bestbox("docs", "status", "--json", env=cli_env)
    assert p.returncode == 0, p.stderr
    st = json.loads(p.stdout)
    assert st["folders"][0]["files"] == 17 and st["folders"][0]["failed"] == 5 and st["folders"][0]["exists"]
    assert len(st["failed"]) == 5 and all(f["reason"] for f in st["failed"])

    p = _bestbox("docs", "status", env=cli_env)
    assert "not searchable: no text layer (scanned?)" in p.stdout


def test_add_rejects_a_missing_folder(cli_env, tmp_path):
    p = _bestbox("docs", "index", "--add", str(tmp_path / "nope"), env=cli_env)
    assert p.returncode == 2 and "is not a folder" in p.stderr


def test_index_without_folders_says_how_to_add_one(cli_env):
    p = _bestbox("docs", "index", env=cli_env)
    assert p.returncode == 2 and "--add DIR" in p.stderr
