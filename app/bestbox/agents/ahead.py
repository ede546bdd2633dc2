"""A tool choice made ahead of its turn, on a voice turn's speculative transcript.

The silence window that ends a voice turn already holds the speculative transcript and its route
(`speech.speculation`, `routing.Router.preroute`). The model's tool choice, the largest block after
the close of recording (~2 s on the demo models on 2 cores, ~0.35 s for a real 14B on a GPU), can
start there too: `choose_ahead` asks the server for the call exactly as the turn's first step would
(same system prompt, conversation, shortlist and schema; `key` says so) and, when the call is valid
and only reads, runs the tool as well. The turn takes the choice only when its own first step has
the same key (`AgentRunner.run(ahead=...)`) and the tool's result only for the same tool and
arguments; a tool that changes data never runs ahead (it waits for the person's confirmation in the
turn, as always). Who starts, keeps and drops it: `pipeline.ahead`.

Schema-forced calls only (the demo models and the GPU bench's random-weight models): a native
tool step streams and may think, and is left to the turn."""
from __future__ import annotations

import asyncio
import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from ..trace import now_ms
from . import prompts
from .arguments import apply_request, settle
from .calls import ParsedCall, call_schema, parse_schema_output, result_for_model
from .tool_ranker import shortlist
from .tools import Tool, get_tool, tools_for
from .tools.base import today


@dataclass
class ChoiceAhead:
    key: str                    # choice_key() of the request it answered
    comp: Any                   # the server's Completion (the call as text, its timings)
    start_ms: float             # absolute now_ms() times
    end_ms: float
    tool: str | None = None     # the read-only call that was run ahead, with the arguments it ran with
    args: dict | None = None
    result: dict | None = None
    run_ms: tuple[float, float] | None = None
    notes: list[str] = field(default_factory=list)
    asked_ms: float | None = None    # when the speculative transcript asked for it (pipeline.ahead)
    routed_ms: float | None = None   # when its route was known
    prefill: asyncio.Task | None = None   # the answer's prompt, read into the server's cache ahead

    def cancel_prefill(self) -> None:
        if self.prefill is not None and not self.prefill.done():
            self.prefill.cancel()


SERVER_TIMINGS = ("prompt_n", "cache_n", "prompt_ms", "predicted_n", "predicted_ms")


def server_detail(timings: dict | None) -> dict:
    """The server's own numbers of a call that a trace stage keeps (a cache_n near the prompt's
    length says the prompt was reused, a prompt_ms near the call's time says it was not)."""
    t = timings or {}
    return {k: round(t[k], 2) if isinstance(t[k], float) else t[k] for k in SERVER_TIMINGS if k in t}


def schema_convo(agent: str, messages: list[dict]) -> list[dict]:
    """The first schema-mode request's messages (the turn's `_run_schema` uses the same)."""
    sys = prompts.agent_system_prompt(agent, tools_for(agent), mode="schema", today=today())
    return [{"role": "system", "content": sys}, *messages]


# The answer's prompt read ahead (prompt only, max_tokens 0) once a read-only tool ran ahead: the
# turn's answer then starts from the server's cache instead of reading the tool result after the
# close (~125 ms for 600 tokens on a 14B on an H200; seconds on the demo model on 2 cores).
PREFILL_ANSWER = True


def result_turns(tool: str, args: dict, result: dict, max_chars: int) -> list[dict]:
    """The call and its result as the schema-mode conversation continues after a tool choice (the
    turn's answer prompt is the tool choice's prompt plus these)."""
    return [{"role": "assistant", "content": json.dumps({"tool": tool, "arguments": args})},
            {"role": "user", "content": prompts.tool_result_message(tool, result_for_model(result, max_chars))}]


async def prefill(client: Any, messages: list[dict]) -> tuple[float, float, dict]:
    """Read `messages` into the server's prompt cache without generating (an optimisation: a
    failure only means the answer reads its prompt itself); (start, end, server timings)."""
    t = now_ms()
    comp = await client.complete(messages, max_tokens=0, temperature=0.0)
    return t, now_ms(), dict(comp.timings or {})


async def await_prefill(task: asyncio.Task | None, used: bool, trace) -> None:
    """Before the turn's answer: wait for the prompt read ahead when the turn answers from the same
    call and result (a server with a free second slot would otherwise read it again beside it, both
    slower), else cancel it. Its stage goes on the turn's trace."""
    if task is None:
        return
    if not used:
        task.cancel()
        return
    await asyncio.wait([task])
    if not task.cancelled() and task.exception() is None:
        start, end, timings = task.result()
        trace.add_stage("answer_prefill_ahead", start, end, **server_detail(timings))


def choice_key(client: Any, agent: str, convo: list[dict], offered: list[Tool], max_tokens: int) -> str:
    blob = json.dumps([str(getattr(client, "base_url", "")), str(getattr(client, "name", "")), agent, convo,
                       [t.name for t in offered], max_tokens], sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()


async def choose_ahead(runner, agent: str, messages: list[dict], request: str, *,
                       asked_ms: float | None = None, routed_ms: float | None = None) -> ChoiceAhead | None:
    """The turn's first tool choice for `messages`, asked now; None where the turn would not make one
    the same way (no tools, native mode, thinking)."""
    tools = tools_for(agent)
    if not tools or runner.thinking or await runner.resolve_mode() != "schema":
        return None
    messages = await runner._fit(agent, messages)   # the history the turn's run() keeps
    offered = shortlist(request, tools)
    convo = schema_convo(agent, messages)
    start = now_ms()
    comp = await runner.client.complete(convo, json_schema=call_schema(offered), temperature=0.0,
                                        max_tokens=runner.call_max_tokens)
    ahead = ChoiceAhead(choice_key(runner.client, agent, convo, offered, runner.call_max_tokens), comp,
                        start, now_ms(), asked_ms=asked_ms, routed_ms=routed_ms)
    parsed = parse_schema_output(comp.text, offered + [t for t in tools if t not in offered])
    tool = get_tool(parsed.name) if isinstance(parsed, ParsedCall) else None
    if tool is None or tool.mutating:
        ahead.notes.append("no tool run ahead: " + ("it changes data" if tool else "no valid call"))
        return ahead
    args, _ = apply_request(tool, parsed.arguments, request)
    args, _ = await asyncio.to_thread(settle, tool, args, request, runner.db_path)
    if isinstance(tool.validate(args), dict):
        ahead.notes.append("no tool run ahead: invalid arguments")
        return ahead
    t = now_ms()
    ahead.result = await asyncio.to_thread(tool.run, runner.db_path, **args)
    ahead.tool, ahead.args, ahead.run_ms = tool.name, args, (t, now_ms())
    # Only where the turn will ask the model to answer from the result (no error, some rows).
    if PREFILL_ANSWER and "error" not in ahead.result and ahead.result.get("rows") != []:
        msgs = [*convo, *result_turns(tool.name, args, ahead.result, runner.max_result_chars)]
        ahead.prefill = asyncio.ensure_future(prefill(runner.client, msgs))
        ahead.prefill.add_done_callback(_quiet)
    return ahead


def _quiet(task: asyncio.Task) -> None:
    if not task.cancelled():
        task.exception()    # retrieved: a failed prefill is no error of the turn
