"""The agent loop: pick a tool (natively or schema-forced), run it, then stream the answer.

    runner = AgentRunner(client, db_path, tools_mode="auto")
    async for ev in runner.run("erp", [{"role": "user", "content": "top vendors this quarter"}],
                               confirm=ask_user):
        ...   # ToolCallEvent, ConfirmNeededEvent, DeclinedEvent, ToolResultEvent, TokenEvent, DoneEvent

Two ways to get a tool call:
- native: OpenAI `tools` on a server started with --jinja whose chat template supports tools (Qwen2.5).
- schema: `response_format` forces {"tool": <one of the names>, "arguments": <that tool's schema>},
  which any model follows (even SmolLM2-135M); the result goes back as a user turn.
`auto` asks the server's /props and picks native when its template supports tools.

The loop never raises for bad model output; each problem becomes a tool-result error the model
sees, bounded by `max_steps`. Cancelling the consuming task closes the HTTP stream.
"""
from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import AsyncIterator, Awaitable, Callable

import httpx
import openai

from ..llm.client import LLMClient
from ..llm.templates import server_profile
from ..trace import TurnTrace
from . import prompts
from .events import (AgentEvent, ConfirmNeededEvent, DeclinedEvent, DoneEvent, LLMCallEvent,  # noqa: F401
                     NeedsInputEvent, ReasoningEvent, TokenEvent, ToolCallEvent, ToolCallPreview, ToolResultEvent)
from .ahead import ChoiceAhead, await_prefill, choice_key, result_turns, schema_convo, server_detail
from .arguments import apply_request, asks_for_change, settle
from .needs_input import AnswerGate, call_in_text, form_request
from .salvage import empty_answer, fit_history, salvage_call, unparsed_form
from .tool_ranker import shortlist
from .calls import (CallError, ParsedCall, ToolCallRecord, call_schema, parse_native_call, parse_schema_output,
                    result_for_model, result_summary)
from .doc_lookup import TOOL as DOC_TOOL, look_up, reads_documents
from .tools import Tool, get_tool, tools_for
from .tools.base import today

MAX_CALLS_PER_STEP = 4
# Qwen2.5-Instruct's own generation config uses repetition_penalty 1.05; it also keeps small models
# from looping on one sentence until the token limit.
ANSWER_SAMPLING = {"repeat_penalty": 1.05}


# Mode probing ---------------------------------------------------------------------------------------

_PROBED: dict[str, tuple[float, str]] = {}
_PROBE_TTL_S = 120.0


async def probe_tools_mode(base_url: str, api_key: str = "", timeout: float = 3.0, client=None) -> str:
    """'native' when the server's chat template supports tool calls (/props chat_template_caps), else 'schema'.
    Remembered per server for a while: every turn makes a runner, and a probe costs a request."""
    hit = _PROBED.get(base_url)
    if hit and time.monotonic() - hit[0] < _PROBE_TTL_S:
        return hit[1]
    if client is not None and getattr(client, "remote", False):
        from .tools_probe import probe_remote  # vLLM / generic: a probe call with tools decides

        mode = await probe_remote(client, timeout)
    else:
        mode = await _probe(base_url, api_key, timeout)
    _PROBED[base_url] = (time.monotonic(), mode)
    return mode


async def _probe(base_url: str, api_key: str, timeout: float) -> str:
    # The same /props read that gives every request its template fields (llm/templates.py).
    prof = await server_profile(base_url, api_key, timeout)
    return "native" if prof.native_tools else "schema"


Confirm = Callable[[ToolCallPreview], Awaitable[bool]]


class AgentRunner:
    def __init__(self, client: LLMClient, db_path: str | Path, tools_mode: str = "auto", *,
                 answer_max_tokens: int = 400, call_max_tokens: int = 200, max_result_chars: int = 6000,
                 temperature: float = 0.2, thinking: bool = False):
        """thinking: let a thinking template reason before native steps and the answer (ReasoningEvents,
        timed apart); tool choices under a schema never think."""
        if tools_mode not in ("auto", "native", "schema"):
            raise ValueError(f"tools_mode must be auto, native or schema, not {tools_mode!r}")
        self.client = client
        self.db_path = Path(db_path)
        self.tools_mode = tools_mode
        self.answer_max_tokens = answer_max_tokens
        self.call_max_tokens = call_max_tokens
        self.max_result_chars = max_result_chars
        self.temperature = temperature
        self.thinking = thinking
        self._resolved: str | None = None if tools_mode == "auto" else tools_mode

    async def resolve_mode(self) -> str:
        if self._resolved is None:
            self._resolved = await probe_tools_mode(self.client.base_url, self.client.api_key, client=self.client)
        return self._resolved

    async def run(self, agent: str, messages: list[dict], *, confirm: Confirm | None = None, max_steps: int = 4,
                  tool_choice: str | None = None, call: tuple[str, dict] | None = None,
                  trace: TurnTrace | None = None, ahead: "ChoiceAhead | None" = None) -> AsyncIterator[AgentEvent]:
        """Answer the conversation `messages` (user/assistant turns, no system) as `agent`.

        tool_choice: None/"auto" (the model picks; schema mode always calls one tool first),
        "required" (native: passed to the server), or a tool name (forces that tool, via schema).
        call: (tool name, arguments) the user completed in a form: run exactly that, then answer.
        confirm: awaited for every data-changing call; None declines them all.
        A call the model cannot complete ends in a NeedsInputEvent (and no answer); an agent with
        tools never presents an answer that used no tool result as fact (DoneEvent.unverified).
        trace: the turn's trace (first token marked on it); default: one that starts now.
        ahead: the first tool choice made on a speculative transcript (agents/ahead.py), taken
        only when it answered exactly this first step.
        """
        st = _RunState(agent=agent, trace=trace or TurnTrace(), max_steps=max(1, min(int(max_steps), 8)),
                       request=_last_user_text(messages), ahead=ahead)
        tools = tools_for(agent)
        messages = await self._fit(agent, messages)
        st.messages = list(messages)        # for the documents fallback (_no_result)
        if not tools and call is None and reads_documents(agent):
            found = await asyncio.to_thread(look_up, st.request)
            if found is not None:       # the user's documents answer it: cite them (issue 8)
                tools, call, st.mode = [get_tool(DOC_TOOL)], (DOC_TOOL, found), "documents"
        if not tools:
            st.mode = "none"
            sys = prompts.agent_system_prompt(agent, [], mode="none", today=today())
            async for ev in self._answer(st, [{"role": "system", "content": sys}, *messages], "answer"):
                yield ev
            yield st.done()
            return
        if call is not None:
            st.mode = st.mode or "form"
            async for ev in self._run_given(st, call, messages, confirm):
                yield ev
            yield st.done()
            return
        forced = get_tool(tool_choice) if tool_choice not in (None, "auto", "required") else None
        if tool_choice not in (None, "auto", "required") and (forced is None or forced not in tools):
            forced = None
            st.note = f"tool_choice '{tool_choice}' is not a tool of agent {agent}; the model chooses"
        mode = "schema" if forced else await self.resolve_mode()
        st.mode = mode
        offered = [forced] if forced else shortlist(st.request, tools)
        if mode == "native":
            async for ev in self._run_native(st, tools, messages, confirm, tool_choice):
                yield ev
            if st.prose_only and not st.failed:
                # Answered from thin air: look it up with a forced call (works with any model).
                st.mode = "native+schema"
                async for ev in self._run_schema(st, offered, messages, confirm):
                    yield ev
        else:
            async for ev in self._run_schema(st, offered, messages, confirm):
                yield ev
        yield st.done()

    async def _fit(self, agent: str, messages: list[dict]) -> list[dict]:
        """The newest turns that fit the server's context with the tool listing, a call, a result and
        the answer counted (a request over the context fails at the server and looks up nothing)."""
        per_slot = getattr(self.client, "context_per_slot", None)
        try:
            ctx = await per_slot() if per_slot else None
        except Exception:  # a profile read is a nicety here: without it the history stays as it is
            ctx = None
        fixed = prompts.agent_system_prompt(agent, tools_for(agent), mode="schema", today=today())
        reserve = self.answer_max_tokens + self.call_max_tokens + 300  # + room for a shortened tool result
        return fit_history(messages, ctx, fixed, reserve)

    # schema mode ------------------------------------------------------------------------------------

    async def _run_schema(self, st: "_RunState", tools: list[Tool], messages: list[dict],
                          confirm: Confirm | None) -> AsyncIterator[AgentEvent]:
        convo = schema_convo(st.agent, messages)
        extra: list[dict] = []          # call/result turns added after the user's messages
        schema = call_schema(tools)
        retried = False
        attempts = max(1, st.max_steps - 1)  # the last step is always the answer
        tries = 0
        while tries < attempts:
            t = time.perf_counter()
            comp = ahead_comp = self._take_ahead(st, convo, tools) if tries == 0 else None
            try:
                comp = comp or await self.client.complete([*convo, *extra], json_schema=schema, temperature=0.0,
                                                          max_tokens=self.call_max_tokens)
            except (openai.APIError, httpx.HTTPError) as e:
                st.note = f"the model server failed while choosing a tool: {_short(e)}"
                break
            st.steps += 1
            tries += 1
            if comp is not ahead_comp:     # the choice made ahead has its own stage (_take_ahead)
                st.trace.add_stage("tool_choice", t * 1000.0, time.perf_counter() * 1000.0,
                                   **server_detail(comp.timings))
            yield LLMCallEvent("tool_choice", _ms(t), comp.timings, comp.text[:500])
            # The grammar offers the shortlist; a call of any other tool of this agent is still valid.
            parsed = parse_schema_output(comp.text, _union(tools, tools_for(st.agent)))
            cut = comp.finish_reason == "length"
            if isinstance(parsed, CallError) and cut:
                parsed.message += " (the reply was cut off at the token limit)"
            if isinstance(parsed, CallError) and parsed.name is None:
                st.salvaged = salvage_call(comp.text, _union(tools, tools_for(st.agent)), cut) or st.salvaged
                # No usable call at all: ask once more, then give up (the loop ends in a form).
                if retried:
                    st.note = f"no usable tool call: {parsed.message}"
                    break
                retried = True
                if cut:
                    # Cut off while repeating words of earlier turns: at temperature 0 the same prompt
                    # gives the same reply, so ask again from the request alone.
                    convo, extra = [convo[0], *messages[-1:]], []
                else:
                    extra += [{"role": "assistant", "content": comp.text[:500] or "(empty)"},
                              {"role": "user", "content": prompts.retry_message(parsed.message)}]
                continue
            call_id = f"call_{st.steps}"
            name = parsed.name
            args = parsed.arguments if isinstance(parsed, ParsedCall) else {}
            async for ev in self._execute(st, name, args, parsed, call_id, confirm):
                yield ev
            result = st.last_result
            extra += result_turns(name, st.last_args, result, self.max_result_chars)
            if "error" not in result:
                break               # one successful call answers the question; an error gets another try
        if not st.succeeded:
            if st.form is None and not st.records:
                # the tool it began to call (or the request names): a form, unless the server failed
                st.form = None if st.note.startswith("the model server failed") else \
                    unparsed_form(st.salvaged, st.request, tools)
            async for ev in self._no_result(st):
                yield ev
            return
        # Same system prompt and turns as the tool choice, so llama-server's prompt cache reuses them.
        await await_prefill(st.prefill, st.trace.values.get("tool_run_ahead") == "reused" and len(extra) == 2,
                            st.trace)
        async for ev in self._final_answer(st, [*convo, *extra]):
            yield ev

    async def _run_given(self, st: "_RunState", call: tuple[str, dict], messages: list[dict],
                         confirm: Confirm | None) -> AsyncIterator[AgentEvent]:
        """The call a person completed in a form: validated and run as given, then answered."""
        name, args = call
        tool = get_tool(name)
        if tool is None or (tool not in tools_for(st.agent) and not (name == DOC_TOOL and reads_documents(st.agent))):
            parsed: ParsedCall | CallError = CallError(f"unknown tool '{str(name)[:60]}'", raw=str(name)[:100])
        else:
            parsed = ParsedCall(name, dict(args or {}))
        async for ev in self._execute(st, str(name), dict(args or {}), parsed, "call_form", confirm, from_form=True):
            yield ev
        if not st.succeeded:
            async for ev in self._no_result(st):
                yield ev
            return
        sys = prompts.agent_system_prompt(st.agent, tools_for(st.agent), mode="schema", today=today())
        msgs = [{"role": "system", "content": sys}, *messages,
                *result_turns(name, st.last_args, st.last_result, self.max_result_chars)]
        async for ev in self._final_answer(st, msgs):
            yield ev

    # native mode ------------------------------------------------------------------------------------

    async def _run_native(self, st: "_RunState", tools: list[Tool], messages: list[dict], confirm: Confirm | None,
                          tool_choice: str | None) -> AsyncIterator[AgentEvent]:
        sys = prompts.agent_system_prompt(st.agent, tools, mode="native", today=today())
        convo = [{"role": "system", "content": sys}, *messages]
        specs = [t.schema for t in tools]
        while st.steps < st.max_steps:
            last = st.steps == st.max_steps - 1
            extra = {"tool_choice": "required"} if tool_choice == "required" and st.steps == 0 else None
            # Before a tool result, hold the text back: prose here is an answer without data.
            hold = not st.succeeded
            async for ev in self._answer(st, convo, "native_step", tools=None if last else specs, extra=extra,
                                         hold=hold):
                yield ev
            calls = st.last_stream_calls
            held, st.held = st.held, ""
            if st.failed:
                return
            if not calls and held:
                text_call = call_in_text(held, tools)
                if text_call is not None:   # the model wrote its call as text: treat it as the call
                    calls = [{"name": text_call.name or "?", "arguments": json.dumps(
                        text_call.arguments if isinstance(text_call, ParsedCall) else {})}]
                    held = ""
            if not calls:
                if st.records and not st.succeeded:
                    async for ev in self._no_result(st):
                        yield ev
                elif not st.records:
                    st.prose_only, st.prose = True, held
                elif held:
                    async for ev in self._emit(st, held):
                        yield ev
                return
            if held:        # words before the call ("Let me look that up")
                async for ev in self._emit(st, held):
                    yield ev
            calls = calls[:MAX_CALLS_PER_STEP]
            ids = [c.get("id") or f"call_{st.steps}_{i}" for i, c in enumerate(calls)]
            parsed_calls = [parse_native_call(c, tools) for c in calls]
            for p in parsed_calls:      # echo the arguments as they will run (the user's count wins)
                if isinstance(p, ParsedCall) and get_tool(p.name) is not None:
                    p.arguments = apply_request(get_tool(p.name), p.arguments, st.request)[0]
            # Echo only valid JSON arguments: llama-server parses them back for the chat template and fails
            # the whole next request (HTTP 500) on invalid ones, e.g. a call cut off at the token limit.
            convo.append({"role": "assistant", "content": None, "tool_calls": [
                {"id": i, "type": "function", "function": {
                    "name": str(c.get("name", ""))[:100],
                    "arguments": json.dumps(p.arguments, ensure_ascii=False) if isinstance(p, ParsedCall) else "{}"}}
                for i, c, p in zip(ids, calls, parsed_calls)]})
            for c, cid, parsed in zip(calls, ids, parsed_calls):
                name = parsed.name or str(c.get("name") or "?")[:100]
                args = parsed.arguments if isinstance(parsed, ParsedCall) else {}
                async for ev in self._execute(st, name, args, parsed, cid, confirm):
                    yield ev
                convo.append({"role": "tool", "tool_call_id": cid,
                              "content": result_for_model(st.last_result, self.max_result_chars)})
            if st.form is not None and st.steps >= st.max_steps - 1 and not st.succeeded:
                break
        if not st.succeeded and st.records:
            async for ev in self._no_result(st):
                yield ev
        elif st.succeeded and not st.text.strip():     # the last step ran a call instead of answering
            async for ev in self._emit(st, _result_as_answer(st)):
                yield ev

    def _take_ahead(self, st: "_RunState", convo: list[dict], offered: list[Tool]):
        """The choice made ahead when it answered this very request (its stages go on the turn's
        trace: "tool_choice_ahead" from its start in the silence window); None otherwise."""
        ahead, st.ahead = st.ahead, None
        if ahead is None:
            return None
        if ahead.key != choice_key(self.client, st.agent, convo, offered, self.call_max_tokens):
            st.trace.values["tool_choice_ahead"] = "dropped: the turn's request differs"
            return None
        waits = {k: round(ahead.start_ms - at, 2) for k, at in (("after_asked_ms", ahead.asked_ms),
                                                                 ("after_routed_ms", ahead.routed_ms)) if at}
        st.trace.add_stage("tool_choice_ahead", ahead.start_ms, ahead.end_ms,
                           **server_detail(ahead.comp.timings), **waits)
        st.trace.values["tool_choice_ahead"] = "reused"
        if ahead.run_ms is not None:
            st.trace.add_stage("tool_run_ahead", *ahead.run_ms, tool=ahead.tool)
            st.ran_ahead = (ahead.tool, ahead.args, ahead.result)
            st.prefill = ahead.prefill
        return ahead.comp

    # shared -----------------------------------------------------------------------------------------

    async def _execute(self, st: "_RunState", name: str, args: dict, parsed: ParsedCall | CallError, call_id: str,
                       confirm: Confirm | None, *, from_form: bool = False) -> AsyncIterator[AgentEvent]:
        """Run one parsed call (or report its parse error), asking for confirmation when it changes data."""
        tool = get_tool(name)
        if tool is not None and isinstance(parsed, ParsedCall) and not from_form:
            args, changes = apply_request(tool, args, st.request)
            args, more = await asyncio.to_thread(settle, tool, args, st.request, self.db_path)
            st.adjustments += [f"{name}: {c}" for c in changes + more]
        yield ToolCallEvent(name, args, st.steps, call_id, bool(tool and tool.mutating))
        t = time.perf_counter()
        record = ToolCallRecord(name, args)
        checked = tool.validate(args) if tool is not None and isinstance(parsed, ParsedCall) else None
        if isinstance(parsed, CallError):
            result = parsed.as_result()
        elif tool.mutating and not from_form and not asks_for_change(st.request):
            result = {"error": "this tool changes data and the user did not ask for a change; use a tool that "
                               "only reads", "tool": name, "unasked": True}
        elif isinstance(checked, dict):
            result = checked            # invalid arguments: the model (then the form) gets the reasons
        elif tool.mutating:
            result = await self._confirm_and_run(st, tool, name, args, call_id, confirm, record)
        elif (ran := _ran_ahead(st, name, args)) is not None:
            result = ran
        else:
            result = await asyncio.to_thread(tool.run, self.db_path, **args)
        if tool is not None and ("missing" in result or "invalid" in result):
            st.form = (tool, args, result)              # values missing or unreadable
        elif tool is not None and isinstance(parsed, CallError) and parsed.name:
            st.form = (tool, args, None)                # the call itself was malformed
        elif tool is not None and tool.mutating and "error" in result and not result.get("unasked"):
            st.form = (tool, args, result)              # e.g. no room of that name: the person picks one
        elif "error" not in result:
            st.succeeded = True
        rows, err, summary = result_summary(result)
        record.rows_returned, record.error, record.ms = rows, err, _ms(t)
        st.tool_ms += record.ms
        st.records.append(record)
        st.last_result, st.last_args, st.last_tool = result, args, name
        for ev in st.pending:
            yield ev
        st.pending.clear()
        yield ToolResultEvent(name, result, rows, err, summary, record.ms, call_id, args)

    async def _confirm_and_run(self, st: "_RunState", tool: Tool, name: str, args: dict, call_id: str,
                               confirm: Confirm | None, record: ToolCallRecord) -> dict:
        desc = await asyncio.to_thread(tool.preview, self.db_path, **args)
        if desc.startswith("Cannot run"):
            return {"error": desc.split(": ", 1)[-1], "tool": name}
        preview = ToolCallPreview(name, args, desc, st.agent, call_id)
        st.pending.append(ConfirmNeededEvent(preview))
        ok = False
        if confirm is not None:
            try:
                ok = bool(await confirm(preview))
            except asyncio.CancelledError:
                raise
            except Exception:
                ok = False
        if ok:
            return await asyncio.to_thread(tool.run, self.db_path, **args)
        record.declined = True
        st.pending.append(DeclinedEvent(name, args, call_id))
        return {"declined": True, "message": f"The user declined: {desc} Nothing was changed."}

    async def _no_result(self, st: "_RunState") -> AsyncIterator[AgentEvent]:
        """No tool result to answer from: a form when a call only lacked values, else say so plainly
        (the model is not asked: a small one lists invented figures as if they were data)."""
        if st.form is not None:
            tool, args, result = st.form
            st.needs_input = form_request(tool, args, result, st.request)
            yield NeedsInputEvent(st.needs_input)
            return
        if not st.docs_tried and reads_documents(st.agent) and st.request:
            st.docs_tried = True        # the agent's own data had no answer: the user's documents may
            found = await asyncio.to_thread(look_up, st.request)
            if found is not None:
                st.mode = f"{st.mode}+documents"
                async for ev in self._run_given(st, (DOC_TOOL, found), st.messages, None):
                    yield ev
                return
        st.unverified = True
        tool_error = (st.records and get_tool(st.last_tool) is not None and not st.last_result.get("unasked")
                      and st.last_result.get("error"))
        if tool_error:
            text = f"I found nothing in the company data to answer this: {str(tool_error).rstrip('.')}."
        else:
            text = ("Nothing was looked up in the company data: the model did not produce a usable lookup for "
                    "this question. Try naming what you need, e.g. a period, a name or a number.")
        async for ev in self._emit(st, text):
            yield ev

    async def _final_answer(self, st: "_RunState", msgs: list[dict]) -> AsyncIterator[AgentEvent]:
        """The answer from a tool result; a reply that is a raw call becomes the result as text. An empty
        result is said as it is: asked to answer from no rows, a small model lists names from earlier turns."""
        if st.last_result.get("rows") == [] and not st.last_result.get("error"):
            async for ev in self._emit(st, empty_answer(st.last_tool, st.last_args, st.last_result)):
                yield ev
            return
        async for ev in self._answer(st, msgs, "answer", gate=True):
            yield ev
        held, st.held = st.held, ""
        if held and not st.failed:
            text = held if call_in_text(held, tools_for(st.agent)) is None else _result_as_answer(st)
            async for ev in self._emit(st, text):
                yield ev

    async def _emit(self, st: "_RunState", text: str) -> AsyncIterator[AgentEvent]:
        st.mark_first_token()
        st.text += text
        yield TokenEvent(text)

    async def _answer(self, st: "_RunState", msgs: list[dict], purpose: str, *, tools: list[dict] | None = None,
                      extra: dict | None = None, hold: bool = False, gate: bool = False) -> AsyncIterator[AgentEvent]:
        """Stream one model request: tokens out as they come; tool calls (native) kept in st.
        hold: keep all text in st.held; gate: keep it only when it starts like a tool call."""
        t = time.perf_counter()
        st.last_stream_calls = []
        st.held = ""
        keeper = AnswerGate() if gate else None
        stream = self.client.stream(msgs, max_tokens=self.answer_max_tokens, temperature=self.temperature,
                                    tools=tools, extra={**ANSWER_SAMPLING, **(extra or {})}, thinking=self.thinking)
        try:
            async for ev in stream:
                if ev.kind == "reasoning" and ev.text:
                    st.mark_reasoning()
                    yield ReasoningEvent(ev.text)
                elif ev.kind == "token" and ev.text:
                    if hold:
                        st.held += ev.text
                        continue
                    for piece in (keeper.feed(ev.text) if keeper else [ev.text]):
                        st.mark_first_token()
                        st.text += piece
                        yield TokenEvent(piece)
                elif ev.kind == "done":
                    st.timings = ev.timings or {}
                    st.last_stream_calls = ev.tool_calls or []
        except (openai.APIError, httpx.HTTPError) as e:
            st.failed = True
            msg = _short(e)
            if tools and ("jinja" in msg.lower() or "tool" in msg.lower()) and self.tools_mode == "auto":
                self._resolved = "schema"  # the server cannot do native tools after all; next run uses schema
            st.note = (st.note + "; " if st.note else "") + f"the model server failed: {msg}"
        finally:
            await stream.aclose()
            if keeper is not None and keeper.state != "open":
                st.held = keeper.text()
            st.end_reasoning()
        st.steps += 1
        st.llm_ms += _ms(t)
        yield LLMCallEvent(purpose, _ms(t), st.timings)


def _result_as_answer(st: "_RunState") -> str:
    from .calls import result_markdown

    if st.last_result.get("declined"):
        return str(st.last_result.get("message") or "Cancelled; nothing was changed.")
    tool = get_tool(st.last_tool)
    head = tool.description.split(" (")[0].rstrip(".") if tool else st.last_tool
    return f"{head}:\n\n{result_markdown(st.last_result)}"


@dataclass
class _RunState:
    agent: str
    trace: TurnTrace
    max_steps: int
    mode: str = ""
    steps: int = 0
    text: str = ""
    timings: dict = field(default_factory=dict)
    records: list[ToolCallRecord] = field(default_factory=list)
    last_result: dict = field(default_factory=dict)
    last_stream_calls: list[dict] = field(default_factory=list)
    reasoning_ms: float = 0.0
    _reasoning_t: float | None = None
    tool_ms: float = 0.0
    llm_ms: float = 0.0
    failed: bool = False
    note: str = ""
    request: str = ""                   # the user's last message, for apply_request
    held: str = ""                      # streamed text not shown yet (see _answer's hold/gate)
    prose_only: bool = False            # native: the model answered without calling any tool
    prose: str = ""
    succeeded: bool = False             # some tool returned a result (not an error)
    form: tuple | None = None           # (tool, args, error) of the last call that lacked values
    needs_input: dict | None = None
    unverified: bool = False
    adjustments: list[str] = field(default_factory=list)
    pending: list = field(default_factory=list)   # confirm/declined events to yield before the result
    last_args: dict = field(default_factory=dict)
    last_tool: str = ""
    salvaged: tuple | None = None       # (tool, finished arguments) of a forced call that could not be read
    ahead: "ChoiceAhead | None" = None  # the first tool choice made in the silence window
    ran_ahead: tuple | None = None      # (tool, args, result) run ahead with it
    prefill: "asyncio.Task | None" = None   # its answer prompt, read ahead (agents.ahead.prefill)
    messages: list = field(default_factory=list)   # the conversation, for the documents fallback
    docs_tried: bool = False

    def mark_first_token(self) -> None:
        self.end_reasoning()
        self.trace.mark("first_token")

    def mark_reasoning(self) -> None:
        if self._reasoning_t is None:
            self._reasoning_t = time.perf_counter()

    def end_reasoning(self) -> None:
        """Reasoning time runs from its first piece to the first answer token (or the step's end)."""
        if self._reasoning_t is not None:
            self.reasoning_ms += _ms(self._reasoning_t)
            self._reasoning_t = None

    def done(self) -> DoneEvent:
        self.end_reasoning()
        return DoneEvent(self.text, self.timings, [r.as_dict() for r in self.records], self.agent, self.mode,
                         self.steps, {"ttft_ms": _r(self.trace.marks.get("first_token")),
                                      "total_ms": _r(self.trace.elapsed_ms()),
                                      "tools_ms": _r(self.tool_ms), "llm_ms": _r(self.llm_ms),
                                      **({"reasoning_ms": _r(self.reasoning_ms)} if self.reasoning_ms else {})},
                         self.note, self.failed, self.needs_input, self.unverified, list(self.adjustments))


def _ran_ahead(st: "_RunState", name: str, args: dict) -> dict | None:
    """The read-only tool's result from the silence window, when the turn runs the same call."""
    ran, st.ran_ahead = st.ran_ahead, None
    if ran is None or ran[0] != name or ran[1] != args or ran[2] is None:
        if ran is not None:
            st.trace.values["tool_run_ahead"] = "dropped: other call"
        return None
    st.trace.values["tool_run_ahead"] = "reused"
    return ran[2]


def _union(first: list, rest: list) -> list:
    return first + [t for t in rest if t not in first]


def _last_user_text(messages: list[dict]) -> str:
    for m in reversed(messages):
        if m.get("role") == "user" and isinstance(m.get("content"), str):
            return m["content"]
    return ""


def _ms(t0: float) -> float:
    return (time.perf_counter() - t0) * 1000.0


def _r(x: float | None) -> float | None:
    return None if x is None else round(x, 2)


def _short(e: Exception) -> str:
    return f"{type(e).__name__}: {str(e)[:200]}"
