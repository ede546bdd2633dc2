"""The light-model router's prompt, grammar and schema: plain data with no imports, so the GPU
benchmark (bench/server_bench.py) sends exactly what the app sends, even on a bare Python."""

# The words the model may say, and the agent each means. IT Ops is "it": "it_ops" costs three
# tokens in small vocabularies ("it", "_", "ops"), "it" one; with the end token, every label then
# fits in <= 4 generated tokens.
LABELS: dict[str, str] = {"erp": "erp", "crm": "crm", "it": "it_ops", "oa": "oa", "general": "general"}
GRAMMAR = "root ::= " + " | ".join(f'"{w}"' for w in LABELS) + "\n"
MAX_TOKENS = 8   # never reached: the grammar allows only the end token right after a label

SYSTEM_PROMPT = """\
You route office requests to the team that handles them. Answer with one label only.
erp: vendors, suppliers, purchase orders, supplier invoices, spend, procurement, stock, warehouses, products, lead times.
crm: customers, contacts, leads, opportunities, deals, pipeline, sales, quotes, customer calls, complaints.
it: servers, hosts, outages, incidents, tickets, backups, logs, passwords, laptops, VPN, wifi, printers.
oa: meeting rooms, bookings, meetings, calendar, leave and vacation days, policies, templates, documents, expenses.
general: greetings, thanks, small talk, jokes, arithmetic, general knowledge, anything else.
Examples:
show me the top vendors by spend -> erp
which invoices are due this week -> erp
log a call with the buyer at Acme -> crm
how is the pipeline this quarter -> crm
the vpn is down again -> it
did last night's backups succeed -> it
book a meeting room for 3pm -> oa
how many vacation days do I have left -> oa
what's 15% of 80 -> general
thanks -> general"""

JSON_SCHEMA = {
    "type": "object",
    "properties": {
        "agent": {"type": "string", "enum": ["erp", "crm", "it_ops", "oa", "general"]},
        "needs_tools": {"type": "boolean"},
        "complexity": {"type": "string", "enum": ["low", "medium", "high"]},
    },
    "required": ["agent", "needs_tools", "complexity"],
    "additionalProperties": False,
}

JSON_SYSTEM_PROMPT = SYSTEM_PROMPT.replace("-> it\n", "-> it_ops\n").replace("\nit: ", "\nit_ops: ").replace(
    "Answer with one label only.",
    'Answer with JSON: {"agent": label, "needs_tools": true if company data is needed, '
    '"complexity": "low" | "medium" | "high"}.',
)
