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


def apply_request(tool: Tool, args: dict, request: str) -> tuple[dict, list[str]]:
    """`args` corrected by what the request says; also returns a note per change (for the trace)."""
    props = tool.parameters.get("properties", {})
    out, changes = dict(args), []
    n = requested_count(request) if "limit" in props else None
    if n is not None:
        hi = props["limit"].get("maximum", n)
        n = min(n, hi)
        if out.get("limit") != n:
            changes.append(f"limit {out.get('limit')!r} → {n} (the request asks for {n})")
            out["limit"] = n
    if tool.mutating:
        for f in _SUBJECT_FIELDS:
            if f in tool.parameters.get("required", []) and not str(out.get(f) or "").strip():
                subject = subject_from_request(request)
                if subject:
                    out[f] = subject
                    changes.append(f"{f} taken from the request")
    return out, changes
