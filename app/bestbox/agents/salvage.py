"""What is left of a forced tool call the model did not finish, and how much history fits.

A schema-forced reply cut off at the token limit (a small model that repeats a word from an earlier
turn until the limit, seen with SmolLM2-135M on "book a meeting room…" after a ticket request) is
still a valid JSON prefix: the tool name comes first, then the fields in order. `salvage_call` closes
it (json-repair) and keeps the tool and the fields that were complete; the field being written when
the reply was cut is dropped, since its value is unfinished. The loop turns that into the tool's form,
prefilled from it and from the request, instead of a sentence saying nothing was looked up.

`empty_answer` says what a lookup without rows looked up: asked to answer from no rows, a small model
lists names from earlier turns as if they were the result.

`fit_history` keeps the conversation under the server's context per slot: the system prompt (which
lists the tools in schema mode) and the reply's token limit are counted first, then the newest
turns that fit; the user's last message always stays.
"""
from __future__ import annotations

from .tools import Tool, get_tool
from .tool_ranker import rank

CHARS_PER_TOKEN = 3.0       # English with JSON and names: ~3.5–4 chars a token; 3 errs on the safe side


def salvage_call(text: str, tools: list[Tool], cut_off: bool) -> tuple[Tool, dict] | None:
    """(tool, complete arguments) from a reply that names one of `tools`, else None."""
    import json_repair

    try:
        obj = json_repair.repair_json(str(text or "")[:8000], return_objects=True)
    except Exception:  # json-repair is tolerant, but a reply is untrusted text: never fail the turn on it
        return None
    if not isinstance(obj, dict):
        return None
    name = obj.get("tool", obj.get("name"))
    tool = next((t for t in tools if t.name == name), None)
    if tool is None:
        return None
    args = obj.get("arguments")
    args = dict(args) if isinstance(args, dict) else {}
    if cut_off and args:
        args.pop(list(args)[-1])       # the field that was being written when the reply was cut
    props = tool.parameters.get("properties", {})
    return tool, {k: v for k, v in args.items() if k in props and v not in (None, "")}


def best_match(request: str, tools: list[Tool]) -> Tool | None:
    """The tool the request's words point to, or None when no tool shares a word with it."""
    ranked = rank(request, tools)
    return ranked[0][1] if ranked and ranked[0][0] > 0 else None


def tokens(text: str) -> int:
    return int(len(text) / CHARS_PER_TOKEN) + 4      # + the template's few tokens around a message


def fit_history(messages: list[dict], ctx_tokens: int | None, fixed: str, reply_tokens: int) -> list[dict]:
    """The newest messages that fit in `ctx_tokens` with the `fixed` text (system prompt) and the reply;
    the last message always stays. Unknown context size: unchanged."""
    if not ctx_tokens or not messages:
        return messages
    budget = ctx_tokens - tokens(fixed) - reply_tokens
    kept = [messages[-1]]
    budget -= tokens(str(messages[-1].get("content") or ""))
    for m in reversed(messages[:-1]):
        cost = tokens(str(m.get("content") or ""))
        if cost > budget:
            break
        kept.append(m)
        budget -= cost
    kept.reverse()
    while len(kept) > 1 and kept[0].get("role") != "user":   # a conversation starts with the user
        kept.pop(0)
    return kept


def unparsed_form(salvaged: tuple | None, request: str, offered: list[Tool]) -> tuple | None:
    """After forced calls that could not be read: (tool, arguments, None) for the form of the tool the
    model began to call (with the fields it finished), else of the offered tool the request's words
    point to; None when nothing points anywhere."""
    if salvaged is not None:
        return (salvaged[0], salvaged[1], None)
    tool = best_match(request, offered)
    return (tool, {}, None) if tool is not None else None


def empty_answer(tool_name: str, args: dict, result: dict) -> str:
    """The answer to a lookup that found no rows: the tool's own words, else what was looked up."""
    own = result.get("message")
    if isinstance(own, str) and own.strip():    # "The indexed documents do not answer this question; …"
        return own.split(";")[0].strip().rstrip(".") + "."
    tool = get_tool(tool_name)
    head = tool.description.split(" (")[0].split(":")[0].rstrip(".") if tool else tool_name
    given = ", ".join(f"{k} = {v}" for k, v in args.items() if v not in (None, "", [], {}))
    return f"The lookup found no rows ({head}" + (f"; {given}" if given else "") + "). Try other values."
