"""When a tier's server cannot answer: what the turn says, and whether a failure is worth a second
server. Endpoints that know more than `client()` (the ServerManager: `snapshot()`, `suspect()`)
give the reason; plain ones (tests, the bench) get the generic note."""
from __future__ import annotations

import httpx
import openai


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


def remote_note(endpoints, tier: str, other: str) -> str | None:
    why = why_not(endpoints, tier)
    return f"Answered by {other}: {why}." if why else None


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
