"""When a tier's server cannot answer: what the turn says, and whether a failure is worth a second
server. Endpoints that know more than `client()` (the ServerManager: `snapshot()`, `suspect()`)
give the reason; plain ones (tests, the bench) get the generic note."""
from __future__ import annotations

import logging

import httpx
import openai

log = logging.getLogger(__name__)


def _snapshot(endpoints, name: str):
    try:
        return endpoints.snapshot(name)
    except Exception:  # endpoints without snapshots (tests, the bench)
        return None


def is_remote(endpoints, name: str) -> bool:
    snap = _snapshot(endpoints, name)
    return bool(snap is not None and getattr(snap, "remote", False))


def why_not(endpoints, tier: str) -> str | None:
    """'heavy unreachable (remote https://gpu.team.lan:8000: ...)' for a remote tier that is not
    serving; None for a local one (the caller's own note says it is not running)."""
    snap = _snapshot(endpoints, tier)
    if snap is None or not getattr(snap, "remote", False):
        return None
    word = getattr(snap.state, "value", str(snap.state)).replace("_", " ")
    if word == "connecting":
        word = "not answering yet"
    detail = f": {snap.message}" if snap.message else ""
    return f"{tier} {word} (remote {snap.url}{detail})"


def other_tier(tier: str) -> str:
    return "light" if tier == "heavy" else "heavy"


def server_of(served_by: str | None, client) -> dict | None:
    """Which server answered, for the turn's JSON and history: the tier, remote or local, the address;
    `"stand_in": True` when it is a remote tier's local stand-in (the badge and CLI line say so)."""
    if client is None:
        return None
    out = {"tier": served_by, "where": "remote" if getattr(client, "remote", False) else "local",
           "url": getattr(client, "base_url", "")}
    if getattr(client, "stand_in", False):
        out["stand_in"] = True
    return out


async def stand_in(endpoints, tier: str):
    """The tier's local stand-in (a remote server with fallback = "local"), or None."""
    fn = getattr(endpoints, "stand_in", None)
    if fn is None:
        return None
    try:
        return await fn(tier)
    except Exception:  # a stand-in that cannot start: the other tier answers
        log.warning("local %s could not start", tier, exc_info=True)
        return None


async def pick_server(endpoints, tier: str):
    """(served_by, client, note): the server that answers, and a note when it is not the one the
    policy wanted. A remote tier that does not answer: its local stand-in if configured, else the
    other tier, both with the reason."""
    c = endpoints.client(tier)
    if c is not None:
        return tier, c, None
    why = why_not(endpoints, tier)
    if why is not None:
        local = await stand_in(endpoints, tier)
        if local is not None:
            return tier, local, f"Answered by local {tier}: team server {why.split(' ', 1)[1]}."
    other = other_tier(tier)
    c = endpoints.client(other)
    if c is None:
        return None, None, None
    if why:  # a remote tier says why, with its address
        return other, c, f"Answered by {other}: {why}."
    if other == "light":
        return other, c, ("Answered by the small (light) model because the heavy server is not running; "
                          "answers may be weaker.")
    return other, c, "Answered by the heavy model because the light server is not running."


async def backup(endpoints, served_by: str, client):
    """After a remote server went away mid-answer: (name, client, note) of who answers the same
    request now (the local stand-in, else the other tier), or (None, None, None)."""
    suspect(endpoints, served_by)
    local = await stand_in(endpoints, served_by)
    if local is not None:
        return served_by, local, (f"Answered by local {served_by}: team server unreachable (remote "
                                  f"{client.base_url} stopped answering).")
    other = other_tier(served_by)
    c = endpoints.client(other)
    if c is None:
        return None, None, None
    return other, c, (f"Answered by {other}: {served_by} unreachable (remote {client.base_url} "
                      "stopped answering).")


def connection_lost(e: BaseException) -> bool:
    """A failure that says the server went away (not a bad request): worth the other tier."""
    from .assistant import ServerFailed

    if isinstance(e, ServerFailed):
        return any(w in str(e) for w in ("Connection", "RemoteProtocol", "ReadError", "peer closed", "502",
                                         "503", "504", "timed out", "Timeout"))
    if isinstance(e, openai.APIStatusError):
        return e.status_code in (502, 503, 504)
    return isinstance(e, (openai.APIConnectionError, httpx.ConnectError, httpx.RemoteProtocolError,
                          httpx.ReadError))


def suspect(endpoints, name: str) -> None:
    """Tell the supervision a request to `name` failed (a remote server is checked again at once)."""
    fn = getattr(endpoints, "suspect", None)
    if fn is not None:
        fn(name)
