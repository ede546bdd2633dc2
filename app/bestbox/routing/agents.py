"""The one list of agents: who can answer, the word the light model says for each, how the router
prompt describes it, and how the window names it. Standard library only, so the GPU benchmark can
build the router prompt on a bare Python (see prompts.py).

A new agent is one row here (plus its tools in agents/tools and examples in routing/data)."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class AgentInfo:
    key: str          # the name in RouteDecision, the CLI's JSON and the corrections store
    label: str        # what the window shows
    hint: str         # the window's one-line description (the route badge's menu)
    word: str         # what the light model says under the grammar: "it" is one token, "it_ops" three
    prompt: str       # the router prompt's description of the agent's requests
    domain: bool = True   # a domain agent answers with the company's tools; "general" does not
    # The user's indexed documents may answer its requests (agents/doc_lookup.py): looked up in code
    # before a tool-less agent answers, and when a domain agent's own data gave no result.
    documents: bool = False


TABLE: tuple[AgentInfo, ...] = (
    AgentInfo("erp", "ERP", "purchasing, vendors, invoices, stock", "erp",
              "vendors, suppliers, purchase orders, supplier invoices, spend, procurement, stock, warehouses, "
              "products, lead times.", documents=True),
    AgentInfo("crm", "CRM", "customers, opportunities, complaints", "crm",
              "customers, contacts, leads, opportunities, deals, pipeline, sales, quotes, customer calls, "
              "complaints.", documents=True),
    AgentInfo("it_ops", "IT Ops", "hosts, incidents, tickets, backups", "it",
              "servers, hosts, outages, incidents, tickets, backups, logs, passwords, laptops, VPN, wifi, printers.",
              documents=True),
    AgentInfo("oa", "Office", "policies, leave, rooms, meetings", "oa",
              "meeting rooms, bookings, meetings, calendar, leave and vacation days, policies, templates, "
              "documents, expenses.", documents=True),
    AgentInfo("general", "General", "everything else, no tools", "general",
              "greetings, thanks, small talk, jokes, arithmetic, general knowledge, anything else.", domain=False,
              documents=True),
)

BY_KEY: dict[str, AgentInfo] = {a.key: a for a in TABLE}
AGENTS: tuple[str, ...] = tuple(a.key for a in TABLE)
DOMAIN_AGENTS: frozenset[str] = frozenset(a.key for a in TABLE if a.domain)


def label(key: str) -> str:
    """The window's name of an agent; an unknown key is shown readably rather than hidden."""
    a = BY_KEY.get(key)
    return a.label if a else (key.replace("_", " ").title() or "?")
