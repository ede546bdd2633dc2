"""The commented config file that `config.load` writes on first run, generated from the schema:
each table's comment is its model's docstring, each key's comment its `Field(description=...)`,
each value its default. A new setting is written once, in config.py.

A new section: a pydantic model (docstring + described fields) added as a field of `Config` with a
`default_factory`; it appears here with no other change. A model used twice (the two servers)
is commented the first time only, so the file stays short.
"""
from __future__ import annotations

import inspect
import textwrap

import tomlkit
from pydantic import BaseModel

WIDTH = 100


def _comment(text: str | None) -> list[str]:
    """`# ...` lines: each line of `text` wrapped at WIDTH; a line starting with a space (an
    example) is kept as written."""
    if not text:
        return []
    out: list[str] = []
    for para in text.strip("\n").split("\n"):
        if para.startswith(" ") or not para.strip():
            out.append(f"#{para}".rstrip())
        else:
            out += textwrap.wrap(para, WIDTH, initial_indent="# ", subsequent_indent="# ",
                                 break_long_words=False, break_on_hyphens=False)
    return out


def _value(v) -> str:
    return tomlkit.item(v).as_string()


def _doc(model: type[BaseModel]) -> str | None:
    doc = model.__doc__
    # pydantic gives every model BaseModel's docstring when it has none of its own.
    return None if not doc or doc == BaseModel.__doc__ else inspect.cleandoc(doc)


def _table(lines: list[str], name: str, node: BaseModel, note: str | None, seen: set) -> None:
    plain = {k: f for k, f in type(node).model_fields.items()
             if not isinstance(getattr(node, k), BaseModel)}
    first = type(node) not in seen
    seen.add(type(node))
    if plain:
        lines.append("")
        lines += _comment(note) or (_comment(_doc(type(node))) if first else [])
        lines.append(f"[{name}]")
        for key, f in plain.items():
            if first:
                lines += _comment(f.description)
            lines.append(f"{key} = {_value(getattr(node, key))}")
    for key, f in type(node).model_fields.items():
        child = getattr(node, key)
        if isinstance(child, BaseModel):
            _table(lines, f"{name}.{key}" if name else key, child, f.description, seen)


def render(config: BaseModel) -> str:
    """The whole file for `config` (normally the defaults with a generated api_key)."""
    lines = _comment(_doc(type(config)))
    _table(lines, "", config, None, set())
    return "\n".join(lines).lstrip("\n") + "\n"
