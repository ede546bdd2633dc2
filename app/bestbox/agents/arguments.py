"""What the user's own words say about a call's arguments, applied after the model chose them.

Small models drop or replace values the user said plainly ("the top five vendors" called with
limit 3, "open a ticket" with no title). Two rules, each small and tested:
- an explicit count in the request ("top five", "10 vendors", "first 3") is the `limit`;
- a data-changing call without its required title/subject gets the request's own description of the
  problem (the confirmation card shows it before anything changes).
"""
from __future__ import annotations

import re

from .tools import Tool
from .tools.spoken import NUMBER_WORD, number_from_words

_NUM = rf"(\d{{1,3}}|{NUMBER_WORD})"
# "top five", "first 10", "the 3 biggest", "5 vendors", "ten largest customers"
_COUNT_PATTERNS = [
    re.compile(rf"\b(?:top|first|last|bottom|best|worst|biggest|largest|slowest|fastest|latest|newest|oldest)\s+{_NUM}\b"),
    re.compile(rf"\b{_NUM}\s+(?:biggest|largest|best|worst|top|slowest|fastest|latest|newest|oldest|most|main)\b"),
    re.compile(rf"\b(?:show|list|give|get|find)(?:\s+me)?(?:\s+the)?\s+{_NUM}\s+[a-z]+s\b"),
]
# A number followed by these is a quantity or a duration, not how many rows to show.
_NOT_A_COUNT = re.compile(r"^\s*(?:days?|hours?|minutes?|weeks?|months?|years?|units?|pieces?|pcs|%|percent|eur|euros?)\b")

_SUBJECT_FIELDS = ("title", "subject")
_COMMAND = re.compile(r"\b(?:please\s+)?(?:can you\s+|could you\s+)?(?:open|create|file|raise|log|make|book|submit)"
                      r"\s+(?:a|an|the|me a)?\s*(?:new\s+)?(?:it\s+)?(?:ticket|call|requisition|room|booking|request)\b"
                      r"(?:\s+(?:for|about)\s+(?:it|this|that))?", re.I)


def requested_count(text: str) -> int | None:
    """The number of items the user asked for, when they said one; None otherwise."""
    t = " ".join(text.lower().split())
    for pat in _COUNT_PATTERNS:
        for m in pat.finditer(t):
            if _NOT_A_COUNT.match(t[m.end():]):
                continue
            n = number_from_words(m.group(1))
            if n:
                return n
    return None


def subject_from_request(text: str) -> str | None:
    """The request without its command: "my laptop can't connect to the VPN, open a ticket" →
    "My laptop can't connect to the VPN". None when nothing is left."""
    rest = _COMMAND.sub(" ", text)
    rest = re.sub(r"\s+", " ", rest).strip(" ,.;:-–!?")
    rest = re.sub(r"^(?:and|because|since|as|so|with|about|for|to)\s+|\s+(?:and|so|please)$", "", rest, flags=re.I).strip(" ,.;:-")
    if len(rest) < 3:
        return None
    return (rest[0].upper() + rest[1:])[:120]


_DAY = re.compile(r"\b(?:today|tomorrow|the day after tomorrow|(?:next |this |on )?(?:mon|tues|wednes|thurs|fri|satur|sun)day"
                  r"|\d{4}-\d{2}-\d{2}|(?:\d{1,2} )?(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]* \d{1,2}(?:st|nd|rd|th)?)\b")
_TIME = re.compile(rf"\b(?:at\s+(?:\d{{1,2}}(?::\d{{2}})?|{NUMBER_WORD})(?:\s*(?:am|pm|o'clock))?"
                   rf"|\d{{1,2}}:\d{{2}}(?:\s*(?:am|pm))?|\d{{1,2}}\s*(?:am|pm)|noon)\b")
_DURATION = re.compile(rf"\bfor\s+((?:an?|half an|\d{{1,3}}|{NUMBER_WORD})\s*(?:hours?|h|minutes?|mins?)"
                       rf"(?:\s+and\s+a\s+half)?)\b")


def _one(pattern: re.Pattern, text: str) -> str | None:
    """The phrase `pattern` finds in `text` when it finds exactly one (two days: which one is meant?)."""
    found = {m.group(1) if m.groups() else m.group(0) for m in pattern.finditer(text)}
    return found.pop() if len(found) == 1 else None


def _said_when(tool: Tool, request: str) -> dict:
    """Day, time and length the request states, for the tool's date/time/duration fields."""
    from .tools.base import field_kind
    from .tools.spoken import parse_clock, parse_day, parse_minutes

    t = " ".join(request.lower().split())
    out: dict = {}
    for name in tool.parameters.get("properties", {}):
        kind, value = field_kind(tool.args, name), None
        try:
            if kind == "date" and (phrase := _one(_DAY, t)):
                value = parse_day(phrase)
            elif kind == "time" and (phrase := _one(_TIME, t)):
                value = parse_clock(phrase)
            elif name == "duration_minutes" and (phrase := _one(_DURATION, t)):
                value = parse_minutes(phrase)
        except ValueError:
            value = None
        if isinstance(value, (str, int)) and not isinstance(value, bool):
            out[name] = value
    return out


def _example_values(agent: str) -> set[tuple[str, str]]:
    """(field, value) pairs of the worked examples in the agent's prompt."""
    import json

    from .prompts import EXAMPLES

    pairs = set()
    for _q, call in EXAMPLES.get(agent, []):
        for k, v in (json.loads(call).get("arguments") or {}).items():
            pairs.add((k, str(v).lower()))
    return pairs


def _said(value, request: str) -> bool:
    v = str(value).lower().replace("_", " ")
    t = request.lower()
    if v in t:
        return True
    n = number_from_words(v)
    return n is not None and n == requested_count(request)


def without_echoes(tool: Tool, args: dict, request: str) -> tuple[dict, list[str]]:
    """Drop values a small model copied from the prompt's worked examples ("min_capacity": 8 from
    "is a room for 8 free…") when the request does not say them; the tool's default applies."""
    echoes = _example_values(tool.agent)
    drop = [k for k, v in args.items() if (k, str(v).lower()) in echoes and not _said(v, request)]
    return {k: v for k, v in args.items() if k not in drop}, [f"{k} {args[k]!r} dropped (an example's value)"
                                                               for k in drop]


def without_guesses(tool: Tool, args: dict, request: str, problem: dict) -> dict | None:
    """`args` without the optional values the tool refused and the user never said (an invented host
    or team); None when there is nothing to drop."""
    props = tool.parameters.get("properties", {})
    required = set(tool.parameters.get("required", []))
    bad = set(problem.get("invalid") or {})
    text = str(problem.get("error") or "")
    bad |= {n for n in props if re.search(rf"\b{re.escape(n)}s?\b", text, re.I)}
    drop = [f for f in bad if f in args and f not in required and not _said(args[f], request)]
    return {k: v for k, v in args.items() if k not in drop} if drop else None


def _words(text: str) -> set[str]:
    return {w for w in re.findall(r"[a-z0-9]{3,}", text.lower()) if w not in {"the", "and", "for", "with", "open",
                                                                             "ticket", "please", "can", "you"}}


def apply_request(tool: Tool, args: dict, request: str) -> tuple[dict, list[str]]:
    """`args` corrected by what the request says; also returns a note per change (for the trace)."""
    props = tool.parameters.get("properties", {})
    out, changes = without_echoes(tool, dict(args), request)
    for name, value in _said_when(tool, request).items():
        if out.get(name) != value:
            changes.append(f"{name} {out.get(name)!r} → {value!r} (as the request says)")
            out[name] = value
    n = requested_count(request) if "limit" in props else None
    if n is not None:
        hi = props["limit"].get("maximum", n)
        n = min(n, hi)
        if out.get("limit") != n:
            changes.append(f"limit {out.get('limit')!r} → {n} (the request asks for {n})")
            out["limit"] = n
    if tool.mutating:
        for f in _SUBJECT_FIELDS:
            given = str(out.get(f) or "").strip()
            # Missing, or a stock phrase ("Your issue") sharing no word with what the user said.
            if f in tool.parameters.get("required", []) and not _words(given) & _words(request):
                subject = subject_from_request(request)
                if subject:
                    out[f] = subject
                    changes.append(f"{f} {given!r} → the request's own words")
    return out, changes


def settle(tool: Tool, args: dict, request: str, db_path) -> tuple[dict, list[str]]:
    """Drop, one by one, optional values the tool refuses (validation, or a write's preview) that the
    user never said: the call then runs with the tool's defaults instead of failing. Sync (DB reads)."""
    changes: list[str] = []
    for _ in range(3):
        checked = tool.validate(args)
        if isinstance(checked, dict):
            problem = checked
        elif tool.mutating:
            desc = tool.preview(db_path, **args)
            if not desc.startswith("Cannot run"):
                break
            problem = {"error": desc.split(": ", 1)[-1]}
        else:
            break
        fixed = without_guesses(tool, args, request, problem)
        if fixed is None:
            break
        changes.append(f"dropped {', '.join(sorted(set(args) - set(fixed)))} (refused, and not in the request)")
        args = fixed
    return args, changes


_CHANGE = re.compile(r"\b(?:open|create|file|raise|log|book|reserve|submit|make|schedule|order|request|add|record|"
                     r"cancel|register|put in)\b", re.I)


def asks_for_change(request: str) -> bool:
    """Whether the user asked for something to be done (a write), not only for information.
    A small model calls open_ticket for "how many open incidents…": that must not become a form."""
    t = re.sub(r"\bopen (?=incidents?|tickets?\b(?! for)|complaints?|invoices?|opportunit|orders?)", "", request.lower())
    return bool(_CHANGE.search(t))
