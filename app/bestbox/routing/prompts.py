"""The light-model router's prompt, grammar and schema, built from the agent table (agents.py):
standard library only, so the GPU benchmark (bench/server_bench.py) sends exactly what the app
sends, even on a bare Python."""
from __future__ import annotations


from .agents import AGENTS, TABLE

# The words the model may say, and the agent each means (routing/agents.py: "it" for it_ops, one
# token instead of three); with the end token, every label then fits in <= 4 generated tokens.
LABELS: dict[str, str] = {a.word: a.key for a in TABLE}
GRAMMAR = "root ::= " + " | ".join(f'"{w}"' for w in LABELS) + "\n"
MAX_TOKENS = 8   # never reached: the grammar allows only the end token right after a label

_EXAMPLES = """\
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


def _system_prompt(json_labels: bool) -> str:
    teams = "\n".join(f"{a.key if json_labels else a.word}: {a.prompt}" for a in TABLE)
    examples = _EXAMPLES
    if json_labels:
        examples = "\n".join(ln.rsplit(" -> ", 1)[0] + " -> " + LABELS[ln.rsplit(" -> ", 1)[1]]
                             for ln in _EXAMPLES.splitlines())
    return ("You route office requests to the team that handles them. Answer with one label only.\n"
            f"{teams}\nExamples:\n{examples}")


SYSTEM_PROMPT = _system_prompt(json_labels=False)

JSON_SCHEMA = {
    "type": "object",
    "properties": {
        "agent": {"type": "string", "enum": list(AGENTS)},
        "needs_tools": {"type": "boolean"},
        "complexity": {"type": "string", "enum": ["low", "medium", "high"]},
    },
    "required": ["agent", "needs_tools", "complexity"],
    "additionalProperties": False,
}

JSON_SYSTEM_PROMPT = _system_prompt(json_labels=True).replace(
    "Answer with one label only.",
    'Answer with JSON: {"agent": label, "needs_tools": true if company data is needed, '
    '"complexity": "low" | "medium" | "high"}.',
)
