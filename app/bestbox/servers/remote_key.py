"""The API key of a remote server: from `api_key_env`, else the OS keyring (`bestbox servers login NAME`).

The keyring entry is per server origin (service "bestbox", user "server https://gpu.team.lan:8000"),
so a key stored for one server is never sent to another address the config later names.
"""
from __future__ import annotations

import os

from .remote_probe import origin

KEYRING_SERVICE = "bestbox"
NO_BACKEND = ("this machine has no OS keyring (headless, or no Secret Service running): put the key in an "
              "environment variable and name it in [servers.{name}] api_key_env")


def keyring_user(url: str) -> str:
    return f"server {origin(url)}"


def find_key(name: str, cfg) -> tuple[str, str]:
    """(key or '', where it came from or why there is none) for the remote server `name`."""
    env = cfg.api_key_env.strip()
    if env and os.environ.get(env):
        return os.environ[env], f"${env}"
    try:
        import keyring
        from keyring.errors import KeyringError, NoKeyringError
    except ImportError:
        return "", f"no ${env or 'api_key_env'} and no keyring module"
    try:
        key = keyring.get_password(KEYRING_SERVICE, keyring_user(cfg.url))
    except NoKeyringError:
        return "", (f"${env} is not set; " if env else "") + NO_BACKEND.format(name=name)
    except KeyringError as e:
        return "", f"the OS keyring failed ({type(e).__name__})"
    if key:
        return key, f"the OS keyring ({KEYRING_SERVICE} / {keyring_user(cfg.url)})"
    if env:
        return "", f"${env} is not set and the OS keyring has no key for {origin(cfg.url)}"
    return "", f"no key (set api_key_env, or `bestbox servers login {name}`)"


def store_key(name: str, url: str, key: str) -> str:
    """Store `key` for `url` in the OS keyring; returns where. Raises RuntimeError with a readable
    message when there is no keyring backend."""
    try:
        import keyring
        from keyring.errors import KeyringError, NoKeyringError
    except ImportError:
        raise RuntimeError("the keyring module is missing (pip install keyring)") from None
    try:
        keyring.set_password(KEYRING_SERVICE, keyring_user(url), key)
    except NoKeyringError:
        raise RuntimeError(NO_BACKEND.format(name=name)) from None
    except KeyringError as e:
        raise RuntimeError(f"the OS keyring refused to store it ({type(e).__name__}: {e})") from None
    return f"{KEYRING_SERVICE} / {keyring_user(url)}"
