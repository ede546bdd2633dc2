"""The states a supervised server can be in, and the immutable snapshot everyone else reads."""
from __future__ import annotations

import enum
from dataclasses import asdict, dataclass, field


class ServerState(str, enum.Enum):
    STOPPED = "stopped"
    STARTING = "starting"            # spawned, /health not answering yet
    LOADING = "loading"              # /health 503: the model is loading (see load_progress)
    READY = "ready"                  # /health 200 and one tiny completion succeeded
    DEGRADED = "degraded"            # was ready; health is slow or erroring
    CRASHED = "crashed"              # exited while ready; a restart with backoff is pending
    EXTERNAL = "external"            # a llama-server we did not start holds the port: monitored only
    PORT_CONFLICT = "port_conflict"  # something else holds the port (see message: PID and name)
    STOPPING = "stopping"
    FAILED = "failed"                # gave up: a readable reason is in message

    def __str__(self) -> str:
        return self.value


# States in which the server answers requests.
SERVING = frozenset({ServerState.READY, ServerState.EXTERNAL, ServerState.DEGRADED})
# States a start ends in (one way or the other).
SETTLED = frozenset({ServerState.READY, ServerState.EXTERNAL, ServerState.FAILED, ServerState.PORT_CONFLICT,
                     ServerState.STOPPED, ServerState.DEGRADED})
ACTIVE = frozenset({ServerState.STARTING, ServerState.LOADING, ServerState.READY, ServerState.DEGRADED,
                    ServerState.CRASHED, ServerState.STOPPING})


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
    requests_total: int | None = None       # requests finished while we watched (busy slots going idle)
    requests_processing: int | None = None  # from /metrics
    busy_slots: int | None = None
    total_slots: int | None = None
    rss_bytes: int | None = None            # process tree, psutil
    cpu_percent: float | None = None
    vram_bytes: int | None = None           # nvidia-smi / rocm-smi when present
    load_progress: float | None = None      # 0..1 from the server's log while loading
    message: str = ""                       # why: the human-readable reason for the state
    restarts: int = 0
    owned: bool = False                     # this process spawned it
    adopted: bool = False                   # ours from an earlier run (PID file): we may stop it
    custom_command: bool = False
    log_path: str = ""

    @property
    def serving(self) -> bool:
        return self.state in SERVING

    def to_dict(self) -> dict:
        d = asdict(self)
        d["state"] = self.state.value
        return d


@dataclass
class _Stats:
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
