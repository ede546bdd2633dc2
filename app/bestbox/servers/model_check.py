"""Can this server's model do its roles? Named problems with their fix, for `doctor` and the server card.

    issues = await check_server("heavy", config.servers.heavy, base_url, api_key)
    for i in issues: print(i.problem, "→", i.fix)

The light server routes, cleans up transcripts and gives quick answers; the heavy one calls tools and
writes long answers. What stops a model from doing them:
- no chat template in the GGUF (most often a base model): llama-server falls back to ChatML, which the
  model was not trained on; it writes `<|im_end|>user …` runs instead of answers;
- no tool-call support in the template (heavy): tools still work through the schema-forced call, but
  one call per step and slower — named so the user knows why;
- a context per slot smaller than the role needs (configured, or the model's trained length).

Read from the GGUF header (no server needed) and, for a running server, from /props (which also covers
a template given with --chat-template-file, and servers BestBox did not start).
"""
from __future__ import annotations

import asyncio
from dataclasses import asdict, dataclass
from pathlib import Path

from ..config import ServerConfig
from ..llm.templates import ServerProfile, server_profile

ROLES = {"light": ("routing label", "ASR cleanup", "quick answers"), "heavy": ("tool calls", "long answers")}
# Tokens per slot a role needs: light — the router's or cleanup's few-shot prompt, or a quick answer with
# a few turns of history; heavy — the agent prompt with tool definitions, a tool result (up to ~6000
# characters) and a 400-token answer.
NEEDED_CTX = {"light": 2048, "heavy": 4096}
TEMPLATE_KEY = "tokenizer.chat_template"


@dataclass
class RoleIssue:
    server: str
    kind: str            # no_template | no_tools | small_context
    roles: tuple[str, ...]
    problem: str
    fix: str
    severity: str = "warn"   # error: the roles do not work; warn: they work, worse

    def to_dict(self) -> dict:
        return asdict(self)

    def line(self) -> str:
        return f"{self.problem} Fix: {self.fix}"


def _template_arg(args: list[str]) -> tuple[str | None, str | None]:
    """(kind, value) of a --chat-template-file / --chat-template given in the server's arguments."""
    for i, a in enumerate(args):
        for flag in ("--chat-template-file", "--chat-template"):
            if a == flag and i + 1 < len(args):
                return flag, args[i + 1]
            if a.startswith(flag + "="):
                return flag, a.split("=", 1)[1]
    return None, None


def _no_template(name: str, model: str) -> RoleIssue:
    return RoleIssue(
        name, "no_template", ROLES[name],
        f"{model} has no chat template (likely a base model, not an instruct one): llama-server falls back "
        "to ChatML, which this model was not trained on, and answers come back as runs of turn markers.",
        "use the instruct GGUF of this model, or give its chat template: "
        f'[servers.{name}] extra_args = ["--chat-template-file", "/path/to/template.jinja"]', "error")


def _no_tools(name: str) -> RoleIssue:
    return RoleIssue(
        name, "no_tools", ("tool calls",),
        "The chat template has no tool-call support: BestBox forces each call through a JSON schema instead "
        "(it works, one call per step, more tokens).",
        "for native tool calls use a model whose template supports tools, or give one with "
        f'[servers.{name}] extra_args = ["--chat-template-file", "/path/to/template-with-tools.jinja"]')


def _small_ctx(name: str, per_slot: int, why: str, fix: str) -> RoleIssue:
    need = NEEDED_CTX[name]
    return RoleIssue(name, "small_context", ROLES[name],
                     f"{why}: {per_slot} tokens per request, less than the {need} the {name} server's roles "
                     "need; long prompts are cut or refused.", fix)


def check_config_ctx(name: str, cfg: ServerConfig) -> list[RoleIssue]:
    per_slot = cfg.ctx_size // max(1, cfg.parallel)
    if per_slot >= NEEDED_CTX[name]:
        return []
    return [_small_ctx(name, per_slot, f"ctx_size {cfg.ctx_size} shared by {cfg.parallel} slot(s)",
                       f"set [servers.{name}] ctx_size to at least {NEEDED_CTX[name] * cfg.parallel}"
                       + (" or lower parallel" if cfg.parallel > 1 else ""))]


def check_model_file(name: str, cfg: ServerConfig, model: Path | None = None) -> list[RoleIssue]:
    """What the GGUF header and the configured arguments say (blocking: reads the file's header)."""
    from .command import resolve_model
    from .gguf import read_keys

    issues = check_config_ctx(name, cfg)
    if model is None and not cfg.command:
        model, _demo, _note = resolve_model(cfg.model)
    if model is None or not Path(model).is_file():
        return issues
    try:
        meta = read_keys(Path(model), {TEMPLATE_KEY, "general.architecture", "general.name"})
        arch = meta.get("general.architecture", "")
        trained = read_keys(Path(model), {f"{arch}.context_length"}).get(f"{arch}.context_length") if arch else None
    except (OSError, ValueError):
        return issues
    flag, value = _template_arg(list(cfg.command) or list(cfg.extra_args))
    template = meta.get(TEMPLATE_KEY) or ""
    if flag == "--chat-template-file":
        try:
            template = Path(value).expanduser().read_text(encoding="utf-8")
        except OSError:
            template = ""
    if not template and flag is None:
        issues.append(_no_template(name, Path(model).name))
    elif name == "heavy" and flag != "--chat-template" and template and "tools" not in template:
        issues.append(_no_tools(name))
    if isinstance(trained, int) and trained < NEEDED_CTX[name]:
        issues.append(_small_ctx(name, trained, f"{Path(model).name} was trained for a short context",
                                 f"use a model trained for at least {NEEDED_CTX[name]} tokens"))
    return issues


def check_profile(name: str, prof: ServerProfile) -> list[RoleIssue]:
    """What a running server reports (/props): the template it really uses, its slots' context."""
    if not prof.reachable:
        return []
    issues = []
    model = Path(prof.model_path).name or "the model"
    if prof.fallback_template:
        issues.append(_no_template(name, model))
    elif name == "heavy" and not prof.native_tools:
        issues.append(_no_tools(name))
    if prof.slot_ctx and prof.slot_ctx < NEEDED_CTX[name]:
        issues.append(_small_ctx(name, prof.slot_ctx, "the running server's context per slot",
                                 f"raise [servers.{name}] ctx_size (or lower parallel) and restart it"))
    return issues


async def check_server(name: str, cfg: ServerConfig, base_url: str | None = None, api_key: str = "",
                       model: Path | None = None) -> list[RoleIssue]:
    """File and config checks, overridden by what the running server says where it answers /props."""
    issues = await asyncio.to_thread(check_model_file, name, cfg, model)
    if not base_url:
        return issues
    prof = await server_profile(base_url, api_key, timeout=2.0, fresh=True)
    if not prof.reachable:
        return issues
    live = check_profile(name, prof)
    live_ctx = any(i.kind == "small_context" for i in live)
    # The server knows the template it really uses (also one given in a custom command); of the file's
    # findings keep the trained context length, and the configured one unless the server reported its own.
    return live + [i for i in issues if i.kind == "small_context" and ("trained" in i.problem or not live_ctx)]
