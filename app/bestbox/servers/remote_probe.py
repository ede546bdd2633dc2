"""One health check of a remote (shared) server, telling the truth per kind of server.

The kind is detected, not configured, from `/v1/models` (`owned_by`): llama-server ("llamacpp")
also has `/props`, `/slots` and `/metrics` (llamacpp:*); vLLM ("vllm") has `/health` and `/metrics`
(vllm:num_requests_waiting / running); anything else is a generic OpenAI-compatible endpoint, of
which only `/v1/models` (with the key) and a completion are asked.

Returns what it saw (`RemoteCheck`); the remote supervisor's task owns the state. No I/O but the
HTTP client it is given, short timeouts everywhere: a dead server costs one connect timeout.
"""
from __future__ import annotations

import re
import ssl
import time
from dataclasses import dataclass

import httpx

from .state import ServerState

S = ServerState
_PROM = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{[^}]*\})?\s+([-+0-9.eEinfaN]+)\s*$")


@dataclass
class RemoteCheck:
    state: ServerState
    message: str
    kind: str = ""
    models: tuple[str, ...] = ()
    model: str = ""                     # the model name requests will carry
    round_trip_ms: float | None = None
    first_token_ms: float | None = None
    busy_slots: int | None = None
    total_slots: int | None = None
    queued: int | None = None
    processing: int | None = None


def tls_verify(url: str, ca_bundle: str = ""):
    """httpx's `verify` for a remote URL: off for plain http, the team's CA file, else the system's."""
    if not url.startswith("https"):
        return False
    return ssl.create_default_context(cafile=ca_bundle) if ca_bundle else True


def origin(url: str) -> str:
    """https://gpu.team.lan:8000/v1/ → https://gpu.team.lan:8000 (the server root; /v1 is added per request)."""
    u = url.strip().rstrip("/")
    return u[:-3].rstrip("/") if u.endswith("/v1") else u


def _prometheus(text: str) -> dict[str, float]:
    out: dict[str, float] = {}
    for line in text.splitlines():
        m = _PROM.match(line.strip())
        if m:
            try:
                out[m.group(1)] = out.get(m.group(1), 0.0) + float(m.group(2))  # summed over labels
            except ValueError:
                pass
    return out


def transport_error(e: Exception, url: str, timeout_s: float) -> str:
    """A failed request in words: the TLS problem named, a refused connection, a timeout."""
    cause: BaseException | None = e
    while cause is not None:
        if isinstance(cause, ssl.SSLCertVerificationError):
            return (f"TLS error: the certificate of {url} is not trusted ({cause.verify_message}); "
                    "set ca_bundle to the team's CA file")
        if isinstance(cause, ssl.SSLError):
            return f"TLS error talking to {url}: {cause.reason or cause}"
        cause = cause.__cause__ or cause.__context__
    if isinstance(e, httpx.TimeoutException):
        return f"no answer from {url} within {timeout_s:g} s ({type(e).__name__})"
    if isinstance(e, httpx.ConnectError):
        return f"cannot connect to {url} ({str(e) or 'connection refused'})"
    return f"{url}: {type(e).__name__}: {e}"


def _http_problem(r: httpx.Response, key_from: str) -> tuple[ServerState, str] | None:
    """The state a non-200 answer means, or None for 200."""
    code = r.status_code
    if code == 200:
        return None
    if code in (401, 403):
        return S.UNAUTHORIZED, (f"HTTP {code} {r.reason_phrase}: the server refused the API key ({key_from})")
    via = r.headers.get("server", "")
    if code in (502, 503, 504) and "json" not in r.headers.get("content-type", ""):
        proxy = f"the proxy ({via})" if via else "a proxy"
        return S.UNREACHABLE, f"{proxy} answered {code} {r.reason_phrase}: proxy up, server down"
    if code == 503:
        return S.UNREACHABLE, f"HTTP 503: the server is not ready (loading its model?): {r.text[:120]}"
    if code == 404:
        return S.UNREACHABLE, "HTTP 404 for /v1/models: is `url` the OpenAI-compatible base of the server?"
    return S.UNREACHABLE, f"HTTP {code} {r.reason_phrase}: {r.text[:160]}"


def _kind(listing: dict) -> str:
    owners = {str(m.get("owned_by", "")).lower() for m in listing.get("data") or [] if isinstance(m, dict)}
    if "llamacpp" in owners:
        return "llama-server"
    if "vllm" in owners:
        return "vllm"
    return "generic"


async def check(http: httpx.AsyncClient, url: str, headers: dict, *, want_model: str = "", slow_ms: float = 1500,
                key_from: str = "no key", first_token: bool = False, timeout_s: float = 3.0) -> RemoteCheck:
    """One check: reachable? our key accepted? our model offered? busy? slow?"""
    base = origin(url)
    t0 = time.monotonic()
    try:
        r = await http.get(base + "/v1/models", headers=headers)
        listing = r.json() if r.status_code == 200 else {}
    except httpx.ReadTimeout:
        # Connected, but no answer in time: a server drowning in requests, not a dead one.
        took = round((time.monotonic() - t0) * 1000, 1)
        return RemoteCheck(S.SLOW, f"slow: connected, but /v1/models did not answer within {took / 1000:.1f} s "
                                   "(overloaded?)", round_trip_ms=took)
    except (httpx.HTTPError, ssl.SSLError) as e:
        return RemoteCheck(S.UNREACHABLE, transport_error(e, base, timeout_s))
    except ValueError:
        return RemoteCheck(S.UNREACHABLE, f"{base}/v1/models did not answer JSON: is `url` an OpenAI-compatible base?")
    rt = round((time.monotonic() - t0) * 1000, 1)
    bad = _http_problem(r, key_from)
    if bad:
        return RemoteCheck(*bad, round_trip_ms=rt)
    kind = _kind(listing)
    models = tuple(str(m.get("id")) for m in listing.get("data") or [] if isinstance(m, dict) and m.get("id"))
    out = RemoteCheck(S.REMOTE, "", kind=kind, models=models, round_trip_ms=rt)
    if want_model and want_model not in models:
        out.state = S.MODEL_MISSING
        out.message = (f"model {want_model!r} is not served here; it offers: "
                       f"{', '.join(models) if models else '(no models listed)'}")
        return out
    out.model = want_model or (models[0] if models else "")
    try:
        problem = await _by_kind(http, base, headers, out, key_from)
        if problem is None and first_token and not _busy(out):  # behind a queue it would time the queue
            problem = await _first_token(http, base, headers, out, key_from, timeout=max(2.0, 4 * slow_ms / 1000))
    except httpx.ReadTimeout:
        out.first_token_ms = None
        if not _busy(out):
            out.state, out.message = S.SLOW, f"slow: reachable, but no first token within {4 * slow_ms / 1000:g} s"
            return out
    except (httpx.HTTPError, ssl.SSLError) as e:
        return RemoteCheck(S.UNREACHABLE, transport_error(e, base, timeout_s), kind=kind, models=models,
                           round_trip_ms=rt)
    if problem:
        out.state, out.message = problem
        return out
    _verdict(out, slow_ms)
    return out


# Per kind, the Prometheus counters of its queue: (waiting, running).
QUEUE_METRICS = {"llama-server": ("llamacpp:requests_deferred", "llamacpp:requests_processing"),
                 "vllm": ("vllm:num_requests_waiting", "vllm:num_requests_running")}


async def _by_kind(http, base: str, headers: dict, out: RemoteCheck, key_from: str):
    if out.kind == "llama-server":
        # llama-server leaves /v1/models open even with --api-key: /props tells whether our key works.
        r = await http.get(base + "/props", headers=headers)
        if r.status_code in (401, 403):
            return _http_problem(r, key_from)
        slots = await http.get(base + "/slots", headers=headers)
        if slots.status_code == 200 and isinstance(slots.json(), list):
            ss = [s for s in slots.json() if isinstance(s, dict)]
            out.total_slots = len(ss)
            out.busy_slots = sum(1 for s in ss if s.get("is_processing"))
    elif out.kind == "vllm":
        h = await http.get(base + "/health", headers=headers)
        if h.status_code != 200:
            return S.UNREACHABLE, f"vLLM /health answered {h.status_code}: its engine is not serving"
    if out.kind in QUEUE_METRICS:
        await _queue(http, base, headers, out, *QUEUE_METRICS[out.kind])
    return None


async def _queue(http, base: str, headers: dict, out: RemoteCheck, waiting: str, running: str) -> None:
    """Requests waiting and running, from the server's /metrics (when it exposes them)."""
    m = await http.get(base + "/metrics", headers=headers)
    if m.status_code != 200:
        return
    p = _prometheus(m.text)
    if waiting in p:
        out.queued = int(p[waiting])
    if running in p:
        out.processing = int(p[running])


async def _first_token(http, base: str, headers: dict, out: RemoteCheck, key_from: str, timeout: float):
    """A one-token completion: proves the server generates, and times its first token."""
    t0 = time.monotonic()
    r = await http.post(base + "/v1/chat/completions", headers=headers, timeout=timeout,
                        json={"model": out.model or "local", "max_tokens": 1, "temperature": 0,
                              "messages": [{"role": "user", "content": "Hi"}]})
    if r.status_code == 404 and "model" in r.text.lower():
        return S.MODEL_MISSING, f"the server refused model {out.model!r}: {r.text[:160]}"
    bad = _http_problem(r, key_from)
    if bad:
        return bad
    out.first_token_ms = round((time.monotonic() - t0) * 1000, 1)
    return None


def _busy(out: RemoteCheck) -> bool:
    full = out.total_slots is not None and out.busy_slots is not None and out.busy_slots >= out.total_slots > 0
    return (out.queued or 0) > 0 or full


def _verdict(out: RemoteCheck, slow_ms: float) -> None:
    """Busy (other people's requests) before slow: a queue explains a slow first token."""
    where = f"{out.kind}" + (f", model {out.model.rsplit('/', 1)[-1]}" if out.model else "")
    if _busy(out):
        bits = []
        if out.total_slots is not None:
            bits.append(f"{out.busy_slots}/{out.total_slots} slots busy")
        elif out.processing is not None:
            bits.append(f"{out.processing} running")
        if out.queued:
            bits.append(f"{out.queued} waiting")
        out.state, out.message = S.BUSY, f"busy with other requests ({', '.join(bits)}); {where}"
        return
    times = f"round trip {out.round_trip_ms:.0f} ms" + (
        f", first token {out.first_token_ms:.0f} ms" if out.first_token_ms is not None else "")
    slow = max(out.round_trip_ms or 0, out.first_token_ms or 0) > slow_ms
    if slow:
        out.state, out.message = S.SLOW, f"slow: {times} (over {slow_ms:g} ms); {where}"
    else:
        out.state, out.message = S.REMOTE, f"ready: {times}; {where}"
