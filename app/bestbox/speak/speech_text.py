"""Markdown → words for the ear. Tables, lists, code and links are summarised or cleaned, never read
symbol by symbol ("hashtag hashtag", "pipe pipe")."""
from __future__ import annotations

import re

_FENCE = re.compile(r"```.*?(?:```|$)", re.S)
_INLINE_CODE = re.compile(r"`([^`\n]*)`")
_IMAGE = re.compile(r"!\[([^\]]*)\]\([^)]*\)")
_LINK = re.compile(r"\[([^\]]+)\]\([^)]*\)")
_URL = re.compile(r"\b(?:https?://|www\.)([^\s/)>\]]+?)(?:[/?#][^\s)>\]]*?)?(?=[.,;:!?]?(?:\s|$|[)>\]]))")
_EMPH = re.compile(r"(\*\*|__|\*|_|~~)(?=\S)(.+?)(?<=\S)\1")
_HEADING = re.compile(r"^\s{0,3}#{1,6}\s*(.*?)\s*#*\s*$", re.M)
_QUOTE = re.compile(r"^\s*>\s?", re.M)
_RULE = re.compile(r"^\s*([-*_])(\s*\1){2,}\s*$", re.M)
_BULLET = re.compile(r"^\s*(?:[-*+•]|\d+[.)])\s+(.*)$")
_TABLE_SEP = re.compile(r"^\s*\|?\s*:?-{2,}:?\s*(\|\s*:?-{2,}:?\s*)*\|?\s*$")
_MONEY = re.compile(r"([$€£])\s?(\d[\d,]*(?:\.\d+)?)(\s?[kKmM]\b)?")
_CURRENCY = {"$": "dollars", "€": "euros", "£": "pounds"}
_SYMBOLS = {"&": " and ", "%": " percent", "→": " to ", "->": " to ", "=>": " to ", "≈": " about ",
            "×": " times ", "+": " plus "}


def _cells(line: str) -> list[str]:
    return [c.strip() for c in line.strip().strip("|").split("|")]


def _table_summary(rows: list[list[str]]) -> str:
    head, body = rows[0], rows[1:]
    n = len(body)
    cols = ", ".join(c for c in head if c)
    first = ", ".join(f"{h} {v}" for h, v in zip(head, body[0]) if v) if body else ""
    s = f"A table of {n} row{'s' if n != 1 else ''} with columns {cols}."
    if first:
        s += f" The first row: {first}."
    return s


def _tables(text: str) -> str:
    lines, out, i = text.split("\n"), [], 0
    while i < len(lines):
        if "|" in lines[i] and i + 1 < len(lines) and _TABLE_SEP.match(lines[i + 1]):
            rows = [_cells(lines[i])]
            i += 2
            while i < len(lines) and "|" in lines[i]:
                rows.append(_cells(lines[i]))
                i += 1
            out.append(_table_summary(rows))
            continue
        out.append(lines[i])
        i += 1
    return "\n".join(out)


def _lists(text: str) -> str:
    """Bullets become sentences (each item ends with a full stop so it is its own phrase)."""
    out = []
    for line in text.split("\n"):
        m = _BULLET.match(line)
        if m:
            item = m.group(1).strip()
            out.append(item if item[-1:] in ".!?:;" else item + ".")
        else:
            out.append(line)
    return "\n".join(out)


def _money(m: re.Match) -> str:
    mult = {"k": " thousand", "m": " million"}.get((m.group(3) or "").strip().lower(), "")
    return f"{m.group(2)}{mult} {_CURRENCY[m.group(1)]}"


def for_speech(markdown: str) -> str:
    """Plain sentences to speak. Code blocks are named, not read; a URL is read as its site."""
    t = _FENCE.sub(" (There is a code block on screen.) ", markdown)
    t = _tables(t)
    t = _IMAGE.sub(r"\1", t)
    t = _LINK.sub(r"\1", t)
    t = _URL.sub(lambda m: "a link to " + m.group(1).removeprefix("www."), t)
    t = _INLINE_CODE.sub(r"\1", t)
    t = _HEADING.sub(lambda m: m.group(1) + ("" if m.group(1)[-1:] in ".!?:" else "."), t)
    t = _RULE.sub("", t)
    t = _QUOTE.sub("", t)
    t = _lists(t)
    for _ in range(2):
        t = _EMPH.sub(r"\2", t)
    t = _MONEY.sub(_money, t)
    for sym, word in _SYMBOLS.items():
        t = t.replace(sym, word)
    t = re.sub(r"[*#|<>_~^\\]+", " ", t)
    t = re.sub(r"\s*\n\s*", " ", t)
    return re.sub(r"\s{2,}", " ", t).strip()
