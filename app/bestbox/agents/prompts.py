"""System prompts per agent. The static text comes first so llama-server's prompt cache reuses it."""
from __future__ import annotations

from datetime import date

from .tools import Tool

COMPANY = "BestBox Demo Manufacturing, a mid-sized European manufacturer"

ROLES = {
    "erp": "the ERP assistant: vendors, purchase orders, procurement spend, invoices, stock and requisitions",
    "crm": "the CRM assistant: customers, contacts, sales pipeline, won deals, calls and complaints",
    "it_ops": "the IT operations assistant: hosts, services, metrics, incidents, tickets, backups and logs",
    "oa": "the office assistant: company policies and templates, leave balances, meeting rooms and bookings",
    "general": "a helpful office assistant",
}

# One or two worked examples per agent for schema mode: small models copy the shape and the period words.
EXAMPLES = {
    "erp": [("how did procurement develop in 2025-Q3?", '{"tool": "procurement_trends", "arguments": {"period": "2025-Q3"}}'),
            ("top 3 vendors by spend this quarter", '{"tool": "top_vendors_by_spend", "arguments": {"period": "this_quarter", "limit": 3}}')],
    "crm": [("what does the pipeline look like?", '{"tool": "pipeline_summary", "arguments": {}}'),
            ("best customers last year", '{"tool": "top_customers", "arguments": {"period": "last_year", "limit": 5}}')],
    "it_ops": [("any servers in trouble?", '{"tool": "host_status", "arguments": {"only_problems": true}}'),
               ("did backups fail in the last 3 days?", '{"tool": "failed_backups", "arguments": {"days": 3}}')],
    "oa": [("what is the remote work policy?", '{"tool": "search_documents", "arguments": {"query": "remote work"}}'),
           ("is a room for 8 free tomorrow at 10?", '{"tool": "room_availability", "arguments": {"date": "tomorrow", "start": "10:00", "min_capacity": 8}}')],
}

STYLE = ("Be concise. Use only numbers that appear in tool results; never invent data. Amounts are EUR. "
         "Use a short Markdown table when listing several items. If a tool returned an error, say what went "
         "wrong in one sentence.")


def agent_system_prompt(agent: str, tools: list[Tool], *, mode: str, today: date | None = None) -> str:
    """The system prompt for choosing tools. In schema mode it lists the tools, since the model only
    sees their names and arguments through the response format."""
    today = today or date.today()
    head = f"You are {ROLES.get(agent, ROLES['general'])} of {COMPANY}. Today is {today.isoformat()}."
    if not tools:
        return f"{head} Answer briefly and helpfully. {STYLE}"
    if mode == "native":
        return (f"{head} Answer questions about company data by calling the tools; do not guess figures. "
                f"Call a tool that changes data only when the user asked for that change. {STYLE}")
    listing = "\n".join(f"- {t.name}: {t.description}" for t in tools)
    examples = "\n".join(f"User: {q}\nCall: {c}" for q, c in EXAMPLES.get(agent, []))
    return (f"{head} This quarter is {today.year}-Q{(today.month - 1) // 3 + 1}.\nTools:\n{listing}\n"
            "To fetch data, reply with one JSON object that calls the tool which answers the user's request: "
            '{"tool": "<name>", "arguments": {...}}. Leave out arguments you do not need. '
            "When you are given a tool result, answer in plain sentences from it. " + STYLE + " "
            "Periods: this_quarter, last_quarter, this_year, last_90_days or a quarter like 2026-Q1.\n"
            f"Examples:\n{examples}")


def answer_system_prompt(agent: str, today: date | None = None) -> str:
    """The system prompt for the final, streamed answer (schema mode)."""
    today = today or date.today()
    return (f"You are {ROLES.get(agent, ROLES['general'])} of {COMPANY}. Today is {today.isoformat()}. "
            f"Answer the user's question from the tool result you are given. {STYLE}")


def tool_result_message(name: str, result_text: str) -> str:
    """How a schema-mode tool result is shown to the model (as a user turn, which every template has).
    The arguments are not repeated: the call turn just before this one carries them."""
    return (f"Result of {name}:\n{result_text}\n"
            "Now answer my question in plain sentences from this result. Do not call a tool.")


def retry_message(problem: str) -> str:
    return f"That was not a usable tool call ({problem}). Reply with a corrected tool call as JSON."
