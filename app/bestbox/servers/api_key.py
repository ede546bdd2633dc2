"""The API key BestBox's llama-servers run with, kept apart from the user-edited config file.

A key the user writes in `[llama] api_key` wins, and is remembered here as the last good key.
Without one (none written, or a config too broken to read) the remembered key is used, made once at
random. So a broken config never hands the next command a fresh key that the servers BestBox
started would reject: `servers stop` and the window keep talking to them.
"""
from __future__ import annotations

import os
import secrets
from pathlib import Path

from .. import paths

KEY_FILE = "llama-api-key"


def key_file() -> Path:
    return paths.data_dir() / KEY_FILE


def remembered() -> str:
    """The last key BestBox's servers were given ('' when none yet)."""
    try:
        return key_file().read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError):
        return ""


def remember(key: str) -> None:
    """Keep `key` (readable by this user only). A failure to write is not fatal: the key still
    works for this run."""
    path = key_file()
    if remembered() == key:
        return
    tmp = path.with_name(path.name + ".tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(key + "\n")
        os.replace(tmp, path)
    except OSError:
        pass


def resolve(explicit: str) -> str:
    """The key to use: the user's own when given (remembered as the last good one), else the
    remembered key, else a new random one (remembered)."""
    if explicit:
        remember(explicit)
        return explicit
    key = remembered()
    if not key:
        key = secrets.token_urlsafe(24)
        remember(key)
    return key
