"""Typed tools over the demo company database, grouped by agent.

Each `Tool` has `name`, `description`, `schema` (OpenAI tools format), `parameters` (JSON schema),
`mutating`, `run(db, **args) -> dict` and, for mutating tools, `preview(db, **args) -> str`.
"""
from __future__ import annotations

from . import crm, documents, erp, it_ops, oa
from .base import MAX_ROWS, Period, Tool, parse_period

TOOLS_BY_AGENT: dict[str, list[Tool]] = {"erp": erp.TOOLS, "crm": crm.TOOLS, "it_ops": it_ops.TOOLS, "oa": oa.TOOLS + documents.TOOLS}
_BY_NAME: dict[str, Tool] = {t.name: t for tools in TOOLS_BY_AGENT.values() for t in tools}


def get_tool(name: str) -> Tool | None:
    return _BY_NAME.get(name)


def all_tools() -> list[Tool]:
    return list(_BY_NAME.values())


def tools_for(agent: str) -> list[Tool]:
    return list(TOOLS_BY_AGENT.get(agent, []))


def openai_tools(agent: str) -> list[dict]:
    return [t.schema for t in tools_for(agent)]


__all__ = ["MAX_ROWS", "Period", "TOOLS_BY_AGENT", "Tool", "all_tools", "get_tool", "openai_tools",
           "parse_period", "tools_for"]
