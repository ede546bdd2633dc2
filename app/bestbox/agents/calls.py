"""Turning model output into a tool call, and a tool result into text for the model.

Everything here is garbage-tolerant: invalid JSON, an unknown tool, arguments of the wrong type
or absurd size come back as a `CallError` whose message is given to the model as the tool result.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from ..llm.client import parse_json_object
from .result_text import compact_result
from .tools import Tool
from .tools.base import MAX_ARG_CHARS

MAX_OUTPUT_CHARS = 8000  # a whole schema-mode reply; more than this is not a call


@dataclass
class ParsedCall:
    name: str
    arguments: dict
    call_id: str = ""


@dataclass
class CallError:
    message: str
    name: str | None = None
    raw: str = ""
    arguments: Any = None

    def as_result(self) -> dict:
        return {"error": self.message, **({"tool": self.name} if self.name else {})}


def _names(tools: list[Tool]) -> list[str]:
    return [t.name for t in tools]


def _check(name: Any, args: Any, tools: list[Tool], raw: str) -> ParsedCall | CallError:
    if not isinstance(name, str) or not name:
        return CallError(f"no tool name given; choose one of {_names(tools)}", raw=raw[:300])
    if name not in _names(tools):
        return CallError(f"unknown tool '{name[:60]}'; available: {_names(tools)}", name=None, raw=raw[:300])
    if args is None:
        args = {}
    if isinstance(args, str):  # some templates double-encode arguments
        if len(args) > MAX_ARG_CHARS:
            return CallError(f"arguments too large ({len(args)} characters, limit {MAX_ARG_CHARS})", name, raw[:300])
        try:
            args = json.loads(args) if args.strip() else {}
        except json.JSONDecodeError as e:
            return CallError(f"arguments are not valid JSON: {e.msg} at position {e.pos}", name, raw[:300])
    if not isinstance(args, dict):
        return CallError(f"arguments must be a JSON object, got {type(args).__name__}", name, raw[:300])
    size = len(json.dumps(args, ensure_ascii=False, default=str))
    if size > MAX_ARG_CHARS:
        return CallError(f"arguments too large ({size} characters, limit {MAX_ARG_CHARS})", name, raw[:300])
    return ParsedCall(name, args)


def parse_schema_output(text: str, tools: list[Tool]) -> ParsedCall | CallError:
    """A schema-mode reply: {"tool": name, "arguments": {...}} (also tolerates "name"/"parameters")."""
    if text is None or not str(text).strip():
        return CallError("empty reply; a tool call was expected")
    text = str(text)
    if len(text) > MAX_OUTPUT_CHARS:
        return CallError(f"reply too large ({len(text)} characters) to be a tool call", raw=text[:300])
    obj = parse_json_object(text)
    if obj is None:
        return CallError("reply is not valid JSON; expected {\"tool\": ..., \"arguments\": {...}}", raw=text[:300])
    name = obj.get("tool", obj.get("name"))
    args = obj.get("arguments", obj.get("parameters", obj.get("args")))
    return _check(name, args, tools, text)


def parse_native_call(call: dict, tools: list[Tool]) -> ParsedCall | CallError:
    """An OpenAI tool call as LLMClient returns it: {"id", "name", "arguments": JSON string}."""
    raw = str(call.get("arguments", ""))
    if len(raw) > MAX_OUTPUT_CHARS:
        return CallError(f"arguments too large ({len(raw)} characters, limit {MAX_ARG_CHARS})",
                         call.get("name") if call.get("name") in _names(tools) else None, raw[:300])
    out = _check(call.get("name"), call.get("arguments"), tools, raw)
    if isinstance(out, ParsedCall):
        out.call_id = call.get("id") or ""
    return out


def call_schema(tools: list[Tool]) -> dict:
    """The response_format schema that forces exactly one valid call of one of `tools`."""
    options = [{"type": "object",
                "properties": {"tool": {"const": t.name}, "arguments": _lean(t.parameters)},
                "required": ["tool", "arguments"], "additionalProperties": False} for t in tools]
    return options[0] if len(options) == 1 else {"oneOf": options}


def _lean(node: Any) -> Any:
    """Drop string length bounds from a schema used as a grammar: llama.cpp expands maxLength into
    one rule per character, which slows sampling; pydantic still enforces the bounds afterwards, and
    the token limit of the request bounds the output."""
    if isinstance(node, dict):
        return {k: _lean(v) for k, v in node.items() if k not in ("maxLength", "minLength", "description")}
    if isinstance(node, list):
        return [_lean(x) for x in node]
    return node


def result_summary(result: dict) -> tuple[int | None, str | None, str]:
    """(rows returned, error, one-line summary) for events and traces."""
    if "error" in result:
        return None, str(result["error"]), f"error: {result['error']}"
    rows = result.get("row_count")
    if rows is None and isinstance(result.get("rows"), list):
        rows = len(result["rows"])
    if result.get("declined"):
        return 0, None, "declined by the user"
    bits = [f"{rows} row{'s' if rows != 1 else ''}"] if rows is not None else []
    if result.get("truncated"):
        bits.append("more available")
    for k in ("total_spend", "total_overdue_amount", "open_amount", "total_won"):
        if k in result:
            bits.append(f"{k.replace('_', ' ')} {result[k]:,.2f}")
    return rows, None, ", ".join(bits) or "ok"


def _cell(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:,.2f}" if abs(v) >= 1000 else f"{v:g}"
    if isinstance(v, (dict, list)):
        return json.dumps(v, ensure_ascii=False, separators=(",", ":"), default=str)
    return "" if v is None else str(v).replace("|", "/").replace("\n", " ")


def _table(rows: list[dict]) -> list[str]:
    cols: list[str] = []
    for r in rows:
        cols += [k for k in r if k not in cols and k != "body"]
    out = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    out += ["| " + " | ".join(_cell(r.get(c)) for c in cols) + " |" for r in rows]
    return out


def render_result(result: dict) -> str:
    """A tool result as short text: `key: value` lines and a Markdown table of the rows. Models of
    every size read (and small ones copy) this far better than nested JSON, and it costs fewer tokens."""
    lines: list[str] = []
    for k, v in result.items():
        if k == "rows" or v is None:
            continue
        if isinstance(v, list) and v and all(isinstance(x, dict) for x in v):
            lines.append(f"{k}:")
            lines += _table(v)
        elif isinstance(v, dict):
            lines.append(f"{k}: " + ", ".join(f"{a}={_cell(b)}" for a, b in v.items()))
        else:
            lines.append(f"{k}: {_cell(v)}")
    rows = result.get("rows")
    if isinstance(rows, list) and rows:
        lines += _table(rows) if all(isinstance(r, dict) for r in rows) else [_cell(rows)]
        body = rows[0].get("body") if isinstance(rows[0], dict) else None
        if body:
            lines.append(f"Full text of the first result:\n{body}")
    return "\n".join(lines)


def result_markdown(result: dict, max_names: int = 10) -> str:
    """A tool result as an answer people read (when the model gave none): its fields as a list, and its
    rows named by their first column (the window shows the rows themselves as a table above)."""
    shown = {k: v for k, v in result.items() if k not in ("row_count", "truncated", "rows_kept", "rows")}
    lines = [f"- {ln}" for ln in render_result(shown).split("\n") if ln.strip() and not ln.startswith("|")]
    rows = result.get("rows")
    if isinstance(rows, list) and rows and all(isinstance(r, dict) for r in rows):
        names = [_cell(next(iter(r.values()), "")) for r in rows[:max_names]]
        more = " …" if len(rows) > max_names else ""
        lines.append(f"- {len(rows)} row{'s' if len(rows) != 1 else ''}: {', '.join(names)}{more}")
    return "\n".join(lines)


def result_for_model(result: dict, max_chars: int = 6000) -> str:
    """The text the model sees (`result_text.compact_result`); drops trailing rows (and says so) to fit
    `max_chars`."""
    text = compact_result(result)
    rows = result.get("rows")
    shown = len(rows) if isinstance(rows, list) else 0
    while shown and len(text) > max_chars:
        shown = shown * 2 // 3 if shown > 3 else shown - 1
        text = compact_result(result, shown)
    return text if len(text) <= max_chars else text[: max_chars - 8] + " …(cut)"


@dataclass
class ToolCallRecord:
    name: str
    arguments: dict
    rows_returned: int | None = None
    error: str | None = None
    ms: float = 0.0
    declined: bool = False
    extra: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        d = {"name": self.name, "arguments": self.arguments, "rows_returned": self.rows_returned,
             "error": self.error, "ms": round(self.ms, 2)}
        if self.declined:
            d["declined"] = True
        return d
