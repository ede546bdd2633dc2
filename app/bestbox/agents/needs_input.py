"""A tool call the model could not complete, turned into a form a person can fill in.

`form_request(tool, arguments, problem, request)` builds the data of the "needs_input" turn event
(see pipeline/events.py): the tool's schema with plain-word titles and date formats, what is
missing or unreadable, and what the model and the request already gave.
`call_in_text(text, tools)` recognises a model that wrote its call as the answer, and `AnswerGate`
holds back streamed text that starts like one, so a raw call is never shown as an answer.
"""
from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import TypeAdapter

from .calls import CallError, ParsedCall, parse_schema_output
from .tools import Tool
from .tools.base import field_kind

# Plain words for argument names that do not read well as they are.
FIELD_TITLES = {
    "date": "Day", "start": "Start time", "duration_minutes": "Length (minutes)", "min_capacity": "Seats (at least)",
    "needs_video": "Needs video", "room": "Room", "organizer": "Organizer", "limit": "How many",
    "period": "Period", "closing": "Closing in", "needed_by": "Needed by", "min_days_overdue": "At least days overdue",
    "below_reorder": "Only below reorder point", "only_problems": "Only hosts with problems",
    "include_warnings": "Include warnings", "days": "Days back", "hours": "Hours back", "sort": "Sort by",
    "host": "Host", "environment": "Environment", "kind": "Kind of document", "query": "Search for",
    "quantity": "Quantity", "warehouse": "Warehouse", "product": "Product (SKU or name)", "year": "Year",
    "employee": "Employee", "customer": "Customer", "contact": "Contact person", "subject": "Subject",
    "notes": "Notes", "note": "Note", "title": "Title", "description": "Description", "priority": "Priority",
    "team": "Team", "severity": "Severity", "level": "Log level", "vendor": "Vendor", "category": "Category",
    "owner": "Account owner", "name": "Name",
}
_FORMATS = {"date": "date", "time": "time", "date-time": "date-time"}


def field_title(name: str) -> str:
    return FIELD_TITLES.get(name) or name.replace("_", " ").capitalize()


def tool_title(tool: Tool) -> str:
    """"Open an IT ticket (changes data; …)." → "Open an IT ticket"."""
    head = re.split(r" \(|: |\. |;", tool.description, maxsplit=1)[0].strip().rstrip(".")
    return head[:60] or tool.name.replace("_", " ").capitalize()


def _enum(prop: dict) -> list[str] | None:
    pat = prop.get("pattern") or ""
    m = re.fullmatch(r"\^\(([\w|]+)\)\$", pat)
    if m:
        return m.group(1).split("|")
    m = re.fullmatch(r"\^(\w*)\[(\d)-(\d)\]\$", pat)
    if m:
        return [f"{m.group(1)}{i}" for i in range(int(m.group(2)), int(m.group(3)) + 1)]
    m = re.match(r"One of: (.+)$", prop.get("description") or "")
    if m:
        return [x.strip() for x in m.group(1).split(",") if x.strip()]
    return None


def form_schema(tool: Tool) -> dict:
    """The tool's JSON schema for a form: plain-word titles, date/time formats, fixed choices as enum."""
    schema = tool.parameters
    schema["title"] = tool_title(tool)
    for name, prop in schema.get("properties", {}).items():
        prop["title"] = field_title(name)
        kind = field_kind(tool.args, name)
        if kind in _FORMATS:
            prop["format"] = _FORMATS[kind]
            if isinstance(prop.get("default"), str):   # "today" → the date a picker can show
                ok, value = _normalized(tool, name, prop["default"])
                prop["default"] = value if ok else prop["default"]
        choices = _enum(prop)
        if choices and "enum" not in prop:
            prop["enum"] = choices
    return schema


def _normalized(tool: Tool, name: str, value: Any) -> tuple[bool, Any]:
    """(ok, value as the tool would see it) for one argument, checked on its own."""
    f = tool.args.model_fields.get(name)
    if f is None:
        return False, value
    try:
        return True, TypeAdapter(Annotated[(f.annotation, *f.metadata)]).validate_python(value)
    except Exception:  # any validation failure: the field goes back to the person
        return False, value


def form_request(tool: Tool, arguments: dict | None, problem: dict | str | None, request: str = "") -> dict:
    """The "needs_input" event data for `tool`. `problem`: the tool's error result (with `missing` and
    `invalid` from Tool.validate), or a sentence."""
    from .arguments import apply_request

    props = tool.parameters.get("properties", {})
    required = tool.parameters.get("required", [])
    given, _ = apply_request(tool, dict(arguments or {}), request)
    prob = problem if isinstance(problem, dict) else {}
    invalid = {k: v for k, v in (prob.get("invalid") or {}).items() if k in props}
    if prob.get("error") and not prob.get("invalid") and not prob.get("missing"):
        # A tool's own refusal ("no room matches 'Boardroom'"): point at the field it names.
        named = [n for n in props if re.search(rf"\b{re.escape(n)}s?\b", str(prob["error"]), re.I)]
        invalid.update({n: str(prob["error"]) for n in named[:1]})
    prefilled: dict = {}
    for name, value in given.items():
        if name not in props or name in invalid or value in (None, ""):
            continue
        ok, norm = _normalized(tool, name, value)
        if ok:
            prefilled[name] = norm
        else:
            invalid.setdefault(name, "this value could not be read")
    missing = [n for n in required if n not in prefilled]
    missing += [n for n in invalid if n not in missing]
    return {"tool": tool.name, "title": tool_title(tool), "message": _sentence(tool, missing, invalid, problem),
            "missing": missing, "invalid": invalid, "prefilled": prefilled, "schema": form_schema(tool),
            "write": bool(tool.mutating)}


def _sentence(tool: Tool, missing: list[str], invalid: dict, problem: dict | str | None) -> str:
    what = tool_title(tool)
    what = what[0].lower() + what[1:]
    if invalid:
        name, why = next(iter(invalid.items()))
        return f"Could not {what}: the {field_title(name).lower()} is not valid ({why}). Please check it."
    if missing:
        names = [field_title(n).lower() for n in missing]
        listed = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
        return f"Could not {what}: the model did not give the {listed}. Please fill {'it' if len(names) == 1 else 'them'} in."
    text = problem if isinstance(problem, str) else str((problem or {}).get("error") or "")
    if text and not text.startswith("invalid arguments"):
        return f"Could not {what}: {text.rstrip('.')}. Please check the values and send them."
    return f"Could not {what} as the model wrote the call. Please check the values and send them."


# Calls written as text ------------------------------------------------------------------------------

_FENCE = re.compile(r"^\s*(?:```(?:json)?|<tool_call>)\s*|\s*(?:```|</tool_call>)\s*$")


def call_in_text(text: str, tools: list[Tool]) -> ParsedCall | CallError | None:
    """The call a model wrote as its answer ({"tool": ..., "arguments": ...}, fenced or in
    <tool_call> tags), parsed against `tools`; None when the text is not a call."""
    t = _FENCE.sub("", text or "").strip()
    if not t.startswith("{") or not re.search(r'"(?:tool|name|function)"\s*:', t):
        return None
    parsed = parse_schema_output(t, tools)
    if isinstance(parsed, CallError) and parsed.name is None and "JSON" in parsed.message:
        return None
    return parsed


class AnswerGate:
    """Streams answer text through, except text that starts like a tool call ("{", "```", "<tool"),
    which is held until the end so the caller can decide whether it was a call."""

    def __init__(self) -> None:
        self.held: list[str] = []
        self.state = "undecided"   # undecided → open (streams) | holding

    def feed(self, piece: str) -> list[str]:
        """The pieces to show now (possibly held ones, in order)."""
        if self.state == "open":
            return [piece]
        self.held.append(piece)
        if self.state == "holding":
            return []
        head = "".join(self.held).lstrip()
        if not head:
            return []
        for marker in ("{", "```", "<tool_call>"):
            if head.startswith(marker):
                self.state = "holding"
                return []
            if marker.startswith(head):
                return []       # could still become the marker
        return self._open()

    def _open(self) -> list[str]:
        self.state = "open"
        out, self.held = self.held, []
        return out

    def text(self) -> str:
        return "".join(self.held)
