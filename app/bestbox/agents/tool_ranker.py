"""Narrow an agent's tools to the ones a request is about, before a small model chooses.

Native tool calling (Qwen2.5 with --jinja) sees every tool of the agent. In schema mode — the
path for models that cannot call tools natively, typically small ones — a long menu of look-alike
tools is where they go wrong, so a cheap lexical ranker (the request's words against each tool's
name, description and argument names) keeps the few that match, best first. It costs well under
a millisecond and shortens the forced-call grammar and prompt too."""
from __future__ import annotations

import re

from .tools.base import Tool

_STOP = {"the", "a", "an", "of", "for", "to", "me", "my", "show", "what", "whats", "is", "are", "and", "or",
         "in", "on", "by", "with", "please", "can", "you", "i", "we", "our", "do", "does", "how", "list",
         "give", "get", "tell", "about", "this", "that", "there", "any", "all", "us", "be", "it", "at"}


def _stem(w: str) -> str:
    for suf in ("ies", "es", "s", "ing", "ed"):
        if len(w) > len(suf) + 3 and w.endswith(suf):
            return w[: -len(suf)] + ("y" if suf == "ies" else "")
    return w


def words(text: str) -> set[str]:
    return {_stem(w) for w in re.findall(r"[a-z0-9]+", text.lower()) if w not in _STOP and len(w) > 1}


def _tool_words(tool: Tool) -> tuple[set[str], set[str]]:
    """(strong, weak): words of the tool's name count more than words of its description."""
    strong = words(tool.name.replace("_", " "))
    weak = words(tool.description) | words(" ".join(tool.parameters.get("properties", {}).keys()).replace("_", " "))
    return strong, weak - strong


def rank(text: str, tools: list[Tool]) -> list[tuple[float, Tool]]:
    q = words(text)
    scored = []
    for i, t in enumerate(tools):
        strong, weak = _tool_words(t)
        score = 2.0 * len(q & strong) + 1.0 * len(q & weak)
        scored.append((score, -i, t))
    scored.sort(key=lambda x: (x[0], x[1]), reverse=True)
    return [(s, t) for s, _, t in scored]


def shortlist(text: str, tools: list[Tool], k: int = 3) -> list[Tool]:
    """The tools worth offering, best first: the clear winner alone, else the top k with any match,
    else all of them (nothing matched: let the model choose from everything)."""
    ranked = rank(text, tools)
    if not ranked or ranked[0][0] == 0:
        return tools
    best = ranked[0][0]
    second = ranked[1][0] if len(ranked) > 1 else 0.0
    if best >= 3 and best >= 2 * second:
        return [ranked[0][1]]
    return [t for s, t in ranked[:k] if s > 0]
