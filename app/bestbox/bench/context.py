"""What every `bestbox bench` section gets: the options of the run and a context (config, servers,
recording endpoints, spoken clips, the Whisper model, one Assistant per configuration), plus the
small helpers the sections share."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable


@dataclass
class Options:
    out_dir: Path
    repeats: int = 3
    quick: bool = False
    answer_tokens: int = 48
    tool_call_tokens: int | str | None = None   # random-weight models: a real call's length (recording.py); "auto" until run_bench resolves it
    ui: bool = True
    log: Callable[[str], None] = lambda m: None
    sections: tuple[str, ...] | None = None   # None: every section (runner.SECTION_FUNCS)


@dataclass
class Ctx:
    cfg: Any
    mgr: Any
    opt: Options
    config_path: Path | None = None
    sel: dict = field(default_factory=dict)
    rec: Any = None
    wavs: dict = field(default_factory=dict)
    transcriber: Any = None
    glossary: Any = None
    assistants: dict = field(default_factory=dict)
    closers: list = field(default_factory=list)   # called at the end of the run

    async def transcriber_ready(self):
        await self.transcriber.load_async()
        return self.transcriber


def reps(ctx: Ctx) -> int:
    return 1 if ctx.opt.quick else max(2, ctx.opt.repeats)


def rot(items, r: int) -> list:
    """The items rotated by r: each repeat runs every method in another order, so drift hits them alike."""
    items = list(items)
    k = r % len(items)
    return items[k:] + items[:k]


def rnd(v, nd=2):
    return None if v is None else round(float(v), nd)


def count(items) -> dict:
    out: dict = {}
    for i in items:
        out[str(i)] = out.get(str(i), 0) + 1
    return out
