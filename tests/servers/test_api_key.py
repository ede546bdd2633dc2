"""The servers' API key lives apart from the user-edited config and survives a broken one."""
from __future__ import annotations

import os
import stat

from bestbox import config
from bestbox.servers import api_key


def test_the_users_key_wins_and_is_remembered(tmp_path, monkeypatch):
    monkeypatch.setenv("BESTBOX_DATA_DIR", str(tmp_path / "data"))
    path = tmp_path / "config.toml"
    path.write_text('[llama]\napi_key = "users-own-key"\n')
    assert config.load(path).config.llama.api_key == "users-own-key"
    assert api_key.remembered() == "users-own-key"
    assert stat.S_IMODE(os.stat(api_key.key_file()).st_mode) == 0o600


def test_a_broken_config_keeps_the_last_good_key(tmp_path, monkeypatch):
    monkeypatch.setenv("BESTBOX_DATA_DIR", str(tmp_path / "data"))
    path = tmp_path / "config.toml"
    path.write_text('[llama]\napi_key = "k-123"\n')
    config.load(path)
    path.write_text("[llama\napi_key = ")  # not TOML at all
    loaded = config.load(path)
    assert not loaded.ok and loaded.config.llama.api_key == "k-123"
    path.write_text('[routing]\nmode = "nope"\n')  # valid TOML, invalid value, no key line
    assert config.load(path).config.llama.api_key == "k-123"


def test_without_any_key_one_is_made_once(tmp_path, monkeypatch):
    monkeypatch.setenv("BESTBOX_DATA_DIR", str(tmp_path / "data"))
    path = tmp_path / "config.toml"
    path.write_text("[routing]\nmode = \"fast\"\n")
    first = config.load(path).config.llama.api_key
    assert len(first) >= 20 and config.load(path).config.llama.api_key == first
    assert config.load(tmp_path / "missing.toml", create=False).config.llama.api_key == first
    assert "api_key" not in path.read_text()  # the user's file is left as written
