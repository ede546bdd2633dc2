"""The states a supervised server can be in, in ONE table, and the immutable snapshot everyone reads.

Like llama-swap's process states: each state says what it means, where it may go next (the
supervisor checks every change against `goes_to`, in `check_transition`), what the panel shows
(label, colour, tooltip) and the few facts the UI, the tray and the CLI ask of it. Nothing else
keeps its own set of state names: read `info(state)`.

This module imports only the standard library: the window reads it before the servers package
(httpx, psutil, pydantic) is loaded.
"""
from __future__ import annotations

import enum
from dataclasses import asdict, dataclass, field


class ServerState(str, enum.Enum):
    STOPPED = "stopped"
    STARTING = "starting"
    LOADING = "loading"
    READY = "ready"
    DEGRADED = "degraded"
    CRASHED = "crashed"
    EXTERNAL = "external"
    PORT_CONFLICT = "port_conflict"
    STOPPING = "stopping"
    FAILED = "failed"
    # A remote server (a `url` in its config): BestBox only watches it, never starts, stops or kills it.
    CONNECTING = "connecting"
    REMOTE = "remote"
    BUSY = "busy"
    SLOW = "slow"
    UNREACHABLE = "unreachable"
    UNAUTHORIZED = "unauthorized"
    MODEL_MISSING = "model_missing"

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True)
class StateInfo:
    state: ServerState
    meaning: str                 # for a newcomer reading the table
    goes_to: frozenset           # the states the supervisor may move to from here
    label: str                   # the panel's badge, the tray's tooltip
    colour: str                  # badge and status-bar dot (the tray icons use the same colours)
    tooltip: str                 # the badge's tooltip: what this state means to a user
    serving: bool = False        # answers requests (a client may be handed out)
    settled: bool = False        # a start ends here, one way or the other
    running: bool = False        # a process is (or is about to be) up: the toggle offers Stop
    on_its_way: bool = False     # coming up (a crashed server restarts after a backoff)
    can_start: bool = False      # Start makes sense
    can_stop: bool = False       # Stop makes sense for a server of ours
    can_restart: bool = False
    no_process: bool = False     # nothing of ours runs: new settings apply at once, the port can be looked at
    severity: str = "ok"         # ok | warning | error: the card's message style, the tray's error icon
    loading: bool = False        # the model is being loaded: the panel shows load progress
    tick_s: float = 1.0          # how often the supervisor looks at a server in this state
    remote: bool = False         # a server on another machine (a `url`): watched, never started or stopped

    @property
    def healthy(self) -> bool:
        """Serving without a problem (ready, or a server we did not start)."""
        return self.serving and self.severity == "ok"


_S = ServerState
_ANY_START = frozenset({_S.STARTING, _S.FAILED, _S.EXTERNAL, _S.PORT_CONFLICT, _S.STOPPED})
_REMOTE = frozenset({_S.CONNECTING, _S.REMOTE, _S.BUSY, _S.SLOW, _S.UNREACHABLE, _S.UNAUTHORIZED,
                     _S.MODEL_MISSING, _S.STOPPED})  # a remote server may go from any of its states to any

TABLE: dict[ServerState, StateInfo] = {i.state: i for i in (
    StateInfo(_S.STOPPED, "nothing runs on the port, or we stopped ours", _ANY_START | {_S.CONNECTING},
              "Stopped", "#8a929c", "Not running. Start launches llama-server.",
              settled=True, can_start=True, no_process=True),
    StateInfo(_S.STARTING, "spawned (or adopted); /health does not answer yet",
              frozenset({_S.LOADING, _S.READY, _S.FAILED, _S.STOPPING, _S.STOPPED}),
              "Starting", "#d98a06", "llama-server is starting.",
              running=True, on_its_way=True, can_stop=True, can_restart=True, loading=True, tick_s=0.25),
    StateInfo(_S.LOADING, "/health answers 503: the model loads (see load_progress), then one test completion",
              frozenset({_S.READY, _S.FAILED, _S.STOPPING, _S.STOPPED}),
              "Loading", "#d98a06", "The model is loading into memory.",
              running=True, on_its_way=True, can_stop=True, can_restart=True, loading=True, tick_s=0.25),
    StateInfo(_S.READY, "/health 200 and one tiny completion succeeded",
              frozenset({_S.DEGRADED, _S.CRASHED, _S.FAILED, _S.STOPPING, _S.STOPPED}),
              "Ready", "#1f9d55", "Ready: answering requests.",
              serving=True, settled=True, running=True, can_stop=True, can_restart=True, tick_s=0.5),
    StateInfo(_S.DEGRADED, "was ready; /health is slow or failing",
              frozenset({_S.READY, _S.CRASHED, _S.FAILED, _S.STOPPING, _S.STOPPED}),
              "Degraded", "#e0731b", "Running, but its health checks are slow or failing.",
              serving=True, settled=True, running=True, can_stop=True, can_restart=True, severity="warning",
              tick_s=0.5),
    StateInfo(_S.CRASHED, "exited while ready; a restart with backoff is pending", _ANY_START,
              "Crashed", "#d64545", "llama-server exited unexpectedly; BestBox restarts it.",
              running=True, on_its_way=True, can_start=True, can_stop=True, can_restart=True, severity="error"),
    StateInfo(_S.EXTERNAL, "a llama-server we did not start holds the port: monitored, never stopped",
              frozenset({_S.STOPPED, _S.STARTING, _S.PORT_CONFLICT}),
              "External", "#2f6fde", "A llama-server started outside BestBox: used and watched, never stopped.",
              serving=True, settled=True, running=True),
    StateInfo(_S.PORT_CONFLICT, "something else holds the port (the message names it)", _ANY_START,
              "Port conflict", "#d64545", "Another program holds this server's port.",
              settled=True, can_start=True, no_process=True, severity="error"),
    StateInfo(_S.STOPPING, "SIGTERM sent to the process group; waiting for it to exit",
              frozenset({_S.STOPPED}),
              "Stopping", "#8a929c", "Stopping llama-server.", running=True),
    StateInfo(_S.FAILED, "gave up: the message says why", _ANY_START,
              "Failed", "#d64545", "Could not start or keep it running; the message and the log say why.",
              settled=True, can_start=True, can_restart=True, no_process=True, severity="error"),
    # Remote rows: no Start/Stop/Restart (not ours), settings apply at once (no_process).
    StateInfo(_S.CONNECTING, "remote: the first check has not answered yet", _REMOTE,
              "Remote · checking", "#d98a06", "Checking the remote server.",
              on_its_way=True, no_process=True, remote=True, tick_s=0.5),
    StateInfo(_S.REMOTE, "remote: answers with our key and offers our model", _REMOTE,
              "Remote · ready", "#1f9d55", "A shared server on another machine: used and watched, never started "
              "or stopped by BestBox.", serving=True, settled=True, no_process=True, remote=True, tick_s=3.0),
    StateInfo(_S.BUSY, "remote: ready, but other people's requests fill its slots or queue", _REMOTE,
              "Remote · busy", "#2f6fde", "Busy with other people's requests: answers wait their turn, "
              "nothing is broken.", serving=True, settled=True, no_process=True, remote=True, tick_s=2.0),
    StateInfo(_S.SLOW, "remote: answers, but the round trip or the first token is over `slow_ms`", _REMOTE,
              "Remote · slow", "#e0731b", "Answers, but slowly (network or load); the message has the times.",
              serving=True, settled=True, no_process=True, remote=True, severity="warning", tick_s=3.0),
    StateInfo(_S.UNREACHABLE, "remote: no answer (connection, TLS, or a proxy whose server is down)", _REMOTE,
              "Remote · unreachable", "#d64545", "The remote server does not answer; the light model answers "
              "meanwhile.", settled=True, no_process=True, remote=True, severity="error", tick_s=2.0),
    StateInfo(_S.UNAUTHORIZED, "remote: 401/403, the key is wrong or missing", _REMOTE,
              "Remote · unauthorized", "#d64545", "The remote server refused the API key "
              "(api_key_env, or `bestbox servers login`).", settled=True, no_process=True, remote=True,
              severity="error", tick_s=10.0),
    StateInfo(_S.MODEL_MISSING, "remote: answers, but does not offer the configured model", _REMOTE,
              "Remote · model missing", "#d64545", "The remote server does not serve the configured model; "
              "the message lists the ones it offers.", settled=True, no_process=True, remote=True,
              severity="error", tick_s=10.0),
)}

_UNKNOWN = StateInfo(_S.STOPPED, "", frozenset(), "", "#8a929c", "")  # a name the table does not know


def info(state) -> StateInfo:
    """The table's row for a state given as a ServerState or its name ('port_conflict')."""
    try:
        return TABLE[ServerState(getattr(state, "value", state) or "stopped")]
    except ValueError:
        return _UNKNOWN


def check_transition(old: ServerState, new: ServerState) -> None:
    """The one check of a state change. Raises ValueError for a change the table does not allow."""
    if new is not old and new not in TABLE[old].goes_to:
        raise ValueError(f"server state {old.value} -> {new.value} is not an allowed transition")


def states_where(flag: str) -> frozenset:
    """The states whose row has `flag` set, e.g. states_where('serving')."""
    return frozenset(s for s, i in TABLE.items() if getattr(i, flag))


SERVING = states_where("serving")
SETTLED = states_where("settled")


@dataclass(frozen=True)
class ServerSnapshot:
    name: str
    state: ServerState = ServerState.STOPPED
    pid: int | None = None
    host: str = "127.0.0.1"
    port: int = 0
    base_url: str = ""
    model_path: str = ""
    model_name: str = ""
    using_demo_model: bool = False
    ctx_size: int | None = None             # configured total context (shared by the slots)
    ctx_per_slot: int | None = None         # from /props
    uptime_s: float | None = None
    tokens_per_s: float | None = None       # generation speed: /metrics deltas, else last completion timings
    requests_total: int | None = None       # requests finished while we watched
    requests_processing: int | None = None  # from /metrics
    busy_slots: int | None = None
    total_slots: int | None = None
    rss_bytes: int | None = None            # process tree, psutil
    cpu_percent: float | None = None
    vram_bytes: int | None = None           # nvidia-smi / rocm-smi when present
    load_progress: float | None = None      # 0..1 from the server's log while loading
    message: str = ""                       # why: the human-readable reason for the state
    restarts: int = 0
    last_exit: str = ""                     # how the last unexpected exit happened ("was killed by SIGKILL")
    last_exit_log: tuple[str, ...] = ()     # the log lines just before it
    owned: bool = False                     # this process spawned it
    adopted: bool = False                   # ours from an earlier run (PID file): we may stop it
    custom_command: bool = False
    log_path: str = ""
    remote: bool = False                    # a `url` in the config: another machine's server, never ours
    url: str = ""                           # the remote base URL as configured (shown with "remote")
    server_kind: str = ""                   # remote: llama-server | vllm | generic (detected)
    models: tuple[str, ...] = ()            # remote: the models it offers (the last list seen)
    round_trip_ms: float | None = None      # remote: the last /v1/models round trip
    first_token_ms: float | None = None     # remote: the last one-token probe's first token
    queued: int | None = None               # remote: requests waiting (llama-server deferred, vLLM waiting)

    @property
    def serving(self) -> bool:
        return self.state in SERVING

    @property
    def info(self) -> StateInfo:
        return info(self.state)

    def to_dict(self) -> dict:
        d = asdict(self)
        d["state"] = self.state.value
        d["last_exit_log"] = list(self.last_exit_log)
        d["models"] = list(self.models)
        return d


@dataclass
class ServerStats:
    """Mutable counters the supervisor folds into snapshots (owned by the supervisor task only)."""

    tokens_per_s: float | None = None
    requests_total: int | None = None
    requests_processing: int | None = None
    busy_slots: int | None = None
    total_slots: int | None = None
    rss_bytes: int | None = None
    cpu_percent: float | None = None
    vram_bytes: int | None = None
    model_name: str = ""
    ctx_per_slot: int | None = None
    pred_tokens: float | None = None
    pred_seconds: float | None = None
    slot_busy: dict = field(default_factory=dict)
