"""The turn pipeline: route → pick the server → answer (agent with tools, or a quick answer),
streamed as TurnEvents, every stage timed in a TurnTrace, every message kept in History.

No Qt here: the chat pane, `bestbox ask`, `bestbox voice` and `bestbox bench` all drive this."""
from __future__ import annotations

import asyncio
import logging
import uuid
from typing import Any, AsyncIterator, Protocol

from ..agents.tools.documents import citations_of
from ..config import Config
from ..llm.client import LLMClient
from ..routing.agents import DOMAIN_AGENTS
from ..trace import TurnTrace, now_ms
from ..agents.needs_input import tool_title
from ..agents.tools import get_tool
from . import fallback, stored_results
from .ahead import TurnsAhead
from .answer_ahead import AnswersAhead
from .events import TurnEvent
from .history import History
from .turn_marks import form_route, form_text, is_demo_model

log = logging.getLogger(__name__)


class Endpoints(Protocol):
    """What the pipeline needs of the server supervision: a client for a ready server, or None."""

    def client(self, name: str) -> LLMClient | None: ...


def agent_of(decision) -> str:
    """The agent that answers a route: a domain agent, else the general one."""
    return decision.agent if decision.agent in DOMAIN_AGENTS else "general"


class ServerFailed(RuntimeError):
    pass


class Assistant:
    def __init__(self, config: Config, endpoints: Endpoints, *, history: History | None = None,
                 router=None, db_path=None):
        from ..routing.corrections import CorrectionStore
        from ..routing.router import Router

        self.config = config
        self.endpoints = endpoints
        self.history = history or History()
        self.corrections = CorrectionStore()
        self.router = router or Router(config, self.corrections)
        self._db_path = db_path
        self.ahead = TurnsAhead()   # the tool choice started on a speculative transcript
        self.answers_ahead = AnswersAhead()   # a no-tool answer started on it (answer_ahead.py)
        # None: the agent loop's own bound. The bench sets 1 on random-weight models only, which never
        # stop calling tools (bench/tool_rounds.py); real models keep the loop's bound.
        self.max_tool_rounds: int | None = None

    async def database(self):
        """The agents' database, generated on first use in a worker thread (a few seconds)."""
        # The user's synced records move to a new snapshot file at each sync: resolve them every turn.
        if self._db_path is None or (self.config.data.source and not self.config.data.database):
            from ..agents.data import ensure_database

            # One job at a time, shared: a tool choice started ahead (pipeline/ahead.py) and the turn
            # may both ask, and a dropped one must not leave the file half written for the other.
            job = getattr(self, "_db_job", None)
            if job is None or job.done():
                job = self._db_job = asyncio.get_running_loop().run_in_executor(None, ensure_database, self.config)
            self._db_path = await asyncio.shield(job)
        return self._db_path

    # -- conversation helpers the UI uses --------------------------------------------------------
    def new_conversation(self) -> str:
        return self.history.new_conversation()

    def correct_route(self, turn_id: str, agent: str) -> None:
        self.router.correct(turn_id, agent)
        self.history.annotate_turn(turn_id, corrected_agent=agent)  # shown again after a restart

    def preroute(self, text: str, conversation_id: str | None = None) -> None:
        """Route `text` ahead of its turn (a voice turn's speculative transcript, decided during
        the silence window), and start its tool choice (pipeline/ahead.py); the turn with the same
        text then takes them."""
        if hasattr(self.router, "preroute"):
            task = self.router.preroute(text, self.endpoints.client("light"), self.endpoints.client("heavy"))
            if task is not None and self.config.speech.tool_choice_ahead:
                self.ahead.start(self, text, conversation_id, task)
            if task is not None and self.config.speech.answer_ahead:
                self.answers_ahead.start(self, text, conversation_id, task)

    def drop_ahead(self, why: str = "speech resumed") -> None:
        """Speech went on after a speculative transcript: its tool choice no longer applies."""
        self.ahead.drop(why)
        self.answers_ahead.drop(why)

    def routing_report(self) -> dict:
        return self.corrections.report()

    def export_corrections(self, path) -> int:
        """The user's route corrections as JSONL (`bestbox route --eval` reads it); returns the count."""
        return self.corrections.export(path)

    def reset_corrections(self) -> None:
        """Forget the corrections; the fast path goes back to the shipped examples at once."""
        self.corrections.reset()

    # -- a turn ----------------------------------------------------------------------------------
    async def run_turn(self, text: str, conversation_id: str | None = None, *, source: str = "typed",
                       trace: TurnTrace | None = None, meta: dict | None = None,
                       auto_confirm: bool | None = None, turn_id: str | None = None,
                       _call: tuple[str, dict] | None = None) -> AsyncIterator[TurnEvent]:
        """Run one turn. Cancelling the consuming task stops generation (the HTTP stream closes)
        and keeps the partial answer in history, marked partial. A turn whose tool call the model
        could not complete ends with a "needs_input" event instead of "done" (see submit_tool)."""
        trace = trace or TurnTrace()
        text = text.strip()
        turn_id = turn_id or uuid.uuid4().hex[:12]
        conv = self.history.ensure(conversation_id, text)
        context = self.history.context(conv)
        if _call is not None:   # the request this form completes is the last user message
            context = context[:-1] if context and context[-1]["role"] == "assistant" else context
        self.history.add_message(conv, "user", text, turn_id=turn_id, meta={"source": source, **(meta or {})})

        light = self.endpoints.client("light")
        heavy = self.endpoints.client("heavy")
        if _call is not None:
            decision = form_route(get_tool(_call[0]).agent)
        else:
            with trace.stage("route"):
                decision = await self.router.route(text, light, heavy, turn_id=turn_id)
        route = decision.to_dict()
        yield TurnEvent("route", {"decision": route, "turn_id": turn_id, "conversation_id": conv}, trace=trace)

        served_by, client, note = await fallback.pick_server(self.endpoints, decision.tier)
        if client is None:
            msg = "Both model servers are down. Start them from the server panel (or `bestbox servers start`)."
            self.history.add_message(conv, "assistant", "", turn_id=turn_id, partial=True,
                                     meta={"route": route, "error": msg})
            yield TurnEvent("error", {"message": msg, "both_down": True, "turn_id": turn_id,
                                      "conversation_id": conv})
            return
        notes: list[str] = []
        server = fallback.server_of(served_by, client)
        if note:
            notes.append(note)
            yield TurnEvent("note", {"text": note})
        demo = is_demo_model(self.endpoints, self.config, served_by)
        needs_input: dict | None = None
        unverified = False
        adjustments: list[str] = []

        answer_parts: list[str] = []
        tool_calls: list[dict] = []
        results: list[tuple] = []       # (name, result, summary) per tool result: kept with the turn
        citations: list[dict] = []
        server_timings: dict = {}
        msg_id = self.history.add_message(conv, "assistant", "", turn_id=turn_id, partial=True,
                                          meta={"route": route, "model": served_by})
        finished = False
        error: str | None = None
        reasoning = None    # the trace's "reasoning" stage: first to last piece of reasoning
        try:
            async for ev in self._answer_or_fallback(decision, client, served_by, text, context, trace,
                                                     auto_confirm, _call):
                if ev.kind == "note" and ev.data.get("served_by"):  # the remote tier went away mid-answer
                    served_by, server = ev.data["served_by"], ev.data["server"]
                    route["partial_before_fallback"], answer_parts = "".join(answer_parts), []
                if ev.kind == "reasoning":
                    reasoning = reasoning or trace.add_stage("reasoning", now_ms(), now_ms())
                    reasoning.end_ms = now_ms() - trace.t0_ms
                elif ev.kind == "needs_input":
                    needs_input = ev.data = {**ev.data, "turn_id": turn_id, "conversation_id": conv}
                elif ev.kind == "note":
                    notes.append(ev.data["text"])
                elif ev.kind == "token":
                    trace.mark("first_token")
                    trace.mark("first_output")
                    answer_parts.append(ev.data["text"])
                elif ev.kind == "tool_call":
                    trace.mark("first_output")
                elif ev.kind == "tool_result":
                    tool_calls.append({k: ev.data.get(k) for k in ("name", "arguments", "rows", "error")})
                    results.append((ev.data.get("name"), ev.data.get("result"), ev.data.get("summary")))
                    cites, no_answer = citations_of(ev.data.get("name"), ev.data.get("result"))
                    citations += [c for c in cites if c not in citations]
                    if no_answer:
                        yield TurnEvent("note", {"text": no_answer})
                elif ev.kind == "done":
                    server_timings = ev.data.get("server_timings") or {}
                    if ev.data.get("tool_calls") is not None:
                        tool_calls = [{"name": c.get("name"), "arguments": c.get("arguments"),
                                       "rows": c.get("rows_returned"), "error": c.get("error")}
                                      for c in ev.data["tool_calls"]]
                    if ev.data.get("answer") and not answer_parts:
                        answer_parts.append(ev.data["answer"])
                    unverified = bool(ev.data.get("unverified"))
                    adjustments = list(ev.data.get("adjustments") or [])
                    continue
                yield ev
            finished = True
        except asyncio.CancelledError:
            error = "stopped"
            raise
        except Exception as e:  # a server that dies mid-answer, garbage, network errors
            error = _readable(e, served_by)
            log.warning("turn failed: %s", error, exc_info=True)
        finally:
            trace.mark("done")
            answer = "".join(answer_parts) or (needs_input or {}).get("message", "")
            tps = server_timings.get("predicted_per_second")
            if tps:
                trace.values["tokens_per_s"] = round(float(tps), 2)
            for k in ("prompt_n", "cache_n", "predicted_n"):
                if k in server_timings:
                    trace.values[f"server_{k}"] = server_timings[k]
            meta_out = {"route": route, "model": served_by, "server": server, "timings": trace.timings(),
                        "tool_calls": stored_results.attach(tool_calls, results),
                        "demo_model": demo, "unverified": unverified, "notes": notes, "citations": citations,
                        "adjustments": adjustments,
                        **({"needs_input": needs_input} if needs_input else {}), **({"error": error} if error else {})}
            self.history.update_message(msg_id, text=answer, meta=meta_out, partial=not finished)
        if error:
            yield TurnEvent("error", {"message": error, "partial_answer": answer, "turn_id": turn_id,
                                      "conversation_id": conv})
            return
        if needs_input:
            return      # the form is the end of this turn; submit_tool continues it
        yield TurnEvent("done", {"answer": answer, "route": route, "tool_calls": tool_calls, "citations": citations,
                                 "timings": trace.timings(), "model": served_by, "server": server, "partial": False,
                                 "turn_id": turn_id, "conversation_id": conv, "trace": trace.to_dict(),
                                 "demo_model": demo, "unverified": unverified, "notes": notes,
                                 "adjustments": adjustments})

    async def submit_tool(self, tool: str, arguments: dict, conversation_id: str | None, *,
                          turn_id: str | None = None, auto_confirm: bool | None = None,
                          trace: TurnTrace | None = None) -> AsyncIterator[TurnEvent]:
        """Run exactly this tool call (a "needs_input" form the user filled in) as a turn of
        `conversation_id`: "confirm" for writes as always, then the answer from the result
        (route, tool_call, tool_result, token…, done), or another "needs_input" when the values
        are still not valid. An unknown tool is an "error" event."""
        t = get_tool(tool)
        if t is None:
            yield TurnEvent("error", {"message": f"There is no tool called '{str(tool)[:60]}'.",
                                      "turn_id": turn_id, "conversation_id": conversation_id})
            return
        args = {k: v for k, v in (arguments or {}).items() if v not in (None, "")}
        async for ev in self.run_turn(form_text(tool_title(t), args), conversation_id, source="form",
                                      meta={"form": {"tool": tool, "arguments": args}}, trace=trace,
                                      auto_confirm=auto_confirm, turn_id=turn_id, _call=(tool, args)):
            yield ev

    async def _answer_or_fallback(self, decision, client: LLMClient, served_by: str, text: str,
                                  context: list[dict], trace: TurnTrace, auto_confirm,
                                  call: tuple[str, dict] | None = None) -> AsyncIterator[TurnEvent]:
        """The answer; when a remote server goes away mid-answer, the other tier answers the same
        question after a note that says so (the partial answer stays on screen and in the route)."""
        try:
            async for ev in self._answer(decision, client, served_by, text, context, trace, auto_confirm, call):
                yield ev
            return
        except Exception as e:
            if not (getattr(client, "remote", False) and fallback.connection_lost(e)):
                raise
            failure = e
        name, backup, note = await fallback.backup(self.endpoints, served_by, client)
        if backup is None:
            raise failure
        log.warning("remote %s failed (%s): %s", served_by, failure, note)
        yield TurnEvent("note", {"text": note, "served_by": name, "server": fallback.server_of(name, backup)})
        async for ev in self._answer(decision, backup, name, text, context, trace, auto_confirm, call):
            yield ev

    async def runner_for(self, decision, served_by: str, client) -> tuple[Any, bool]:
        """The agent runner for a route served by `served_by`, and whether it thinks: one place, so the
        work started ahead of a turn (pipeline/ahead.py, answer_ahead.py) asks what the turn will."""
        from ..agents.loop import AgentRunner

        cfg = self.config.server(served_by)
        # Thinking only where it can pay: heavy-tier answers on a server configured for it.
        thinking = cfg.thinking and decision.tier == "heavy"
        return AgentRunner(client, await self.database(), tools_mode=cfg.tools_mode, thinking=thinking), thinking

    def ahead_messages(self, conversation_id: str | None, text: str) -> list[dict]:
        """The messages a turn for `text` will send, for work started before the turn (its history
        then gets the user message the turn adds)."""
        context = self.history.context(conversation_id) if conversation_id else []
        return context + [{"role": "user", "content": text}]

    async def _answer(self, decision, client: LLMClient, served_by: str, text: str, context: list[dict],
                      trace: TurnTrace, auto_confirm: bool | None,
                      call: tuple[str, dict] | None = None) -> AsyncIterator[TurnEvent]:
        agent = agent_of(decision)
        runner, thinking = await self.runner_for(decision, served_by, client)
        pending: asyncio.Queue = asyncio.Queue()

        async def confirm(preview) -> bool:
            if auto_confirm is not None:
                return auto_confirm
            fut = asyncio.get_running_loop().create_future()
            await pending.put(TurnEvent("confirm", {"tool": preview.name, "arguments": preview.arguments,
                                                    "preview": preview.description}, reply=fut))
            return await fut

        messages = context if call is not None and context else context + [{"role": "user", "content": text}]
        ahead = await self.ahead.take(text, trace) if call is None else None
        steps = {} if self.max_tool_rounds is None else {"max_steps": self.max_tool_rounds + 1}  # + the answer
        made = None if call is not None else await self.answers_ahead.take(text, agent, client, thinking, messages,
                                                                            trace)
        agen = made or runner.run(agent, messages, confirm=confirm, call=call, trace=trace, ahead=ahead, **steps)
        async for ev in _merge(agen, pending):
            if isinstance(ev, TurnEvent):
                yield ev
                continue
            kind = ev.kind
            if kind == "token":
                yield TurnEvent("token", {"text": ev.text})
            elif kind == "reasoning":
                yield TurnEvent("reasoning", {"text": ev.text})
            elif kind == "tool_call":
                yield TurnEvent("tool_call", {"name": ev.name, "arguments": ev.arguments})
            elif kind == "tool_result":
                yield TurnEvent("tool_result", {"name": ev.name, "arguments": getattr(ev, "arguments", None),
                                                "rows": ev.rows, "summary": ev.summary, "error": ev.error,
                                                "result": ev.result})
            elif kind == "declined":
                yield TurnEvent("note", {"text": f"Cancelled: {ev.name} was not run."})
            elif kind == "needs_input":
                yield TurnEvent("needs_input", dict(ev.data))
            elif kind == "done":
                if ev.failed:
                    # The server died or errored mid-request: surface it as an error, keep the partial.
                    raise ServerFailed(ev.note or "the model server failed")
                if ev.unverified:
                    yield TurnEvent("note", {"text": "Nothing was looked up in the company data for this answer."})
                elif ev.note and not ev.needs_input:
                    yield TurnEvent("note", {"text": ev.note})
                yield TurnEvent("done", {"answer": ev.text, "server_timings": ev.timings, "metrics": ev.metrics,
                                         "tools_mode": ev.mode, "tool_calls": ev.tool_calls,
                                         "unverified": ev.unverified, "adjustments": ev.adjustments})


async def _merge(agen, queue: asyncio.Queue):
    """Interleave the agent's events with confirmation requests raised while it waits."""
    nxt = asyncio.ensure_future(agen.__anext__())
    qget = asyncio.ensure_future(queue.get())
    try:
        while True:
            done, _ = await asyncio.wait({nxt, qget}, return_when=asyncio.FIRST_COMPLETED)
            if qget in done:
                yield qget.result()
                qget = asyncio.ensure_future(queue.get())
            if nxt in done:
                try:
                    item = nxt.result()
                except StopAsyncIteration:
                    return
                yield item
                nxt = asyncio.ensure_future(agen.__anext__())
    finally:
        for t in (nxt, qget):
            if not t.done():
                t.cancel()
        # Let the generator's own step finish cancelling (closing its HTTP stream) before closing it.
        await asyncio.gather(nxt, qget, return_exceptions=True)
        await agen.aclose()


def _readable(e: BaseException, server: str | None) -> str:
    import httpx
    import openai

    name = f"the {server} server" if server else "the model server"
    if isinstance(e, ServerFailed):
        detail = str(e)
        if any(w in detail for w in ("Connection", "RemoteProtocol", "ReadError", "peer closed")):
            return f"Lost the connection to {name} mid-answer; it may have crashed. The partial answer is kept."
        return f"{name.capitalize()} could not answer: {detail}"
    if isinstance(e, (openai.APIConnectionError, httpx.ConnectError, httpx.RemoteProtocolError,
                      httpx.ReadError)):
        return f"Lost the connection to {name} mid-answer; it may have crashed. The partial answer is kept."
    if isinstance(e, openai.APITimeoutError):
        return f"{name.capitalize()} did not answer in time."
    if isinstance(e, openai.APIStatusError):
        return f"{name.capitalize()} returned an error ({e.status_code}): {str(e)[:300]}"
    return f"Something went wrong while answering: {e}"


async def run_text_turn(text: str, *, config: Config | None, trace: TurnTrace | None = None, source: str = "typed",
                        on_event=None, endpoints: Endpoints | None = None, assistant: Assistant | None = None,
                        auto_confirm: bool | None = False, conversation_id: str | None = None,
                        meta: dict | None = None, call: tuple[str, dict] | None = None) -> dict:
    """One whole turn, its events to `on_event`; returns what `bestbox ask --json` prints.
    `assistant`: an Assistant or anything with its `run_turn` (the window's adapter). `call`: run
    this (tool, arguments) as a sent form instead of asking the model (`bestbox ask --tool`)."""
    if assistant is None:
        if endpoints is None or config is None:
            raise ValueError("need a config and endpoints, or an assistant")
        assistant = Assistant(config, endpoints)
    trace = trace or TurnTrace()
    result: dict = {"route": None, "answer": "", "tool_calls": [], "timings": {}, "model": None, "notes": [],
                    "citations": []}
    tokens: list[str] = []
    tried: list[dict] = []
    if call is not None:
        events = assistant.submit_tool(call[0], call[1], conversation_id, auto_confirm=auto_confirm, trace=trace)
    else:
        events = assistant.run_turn(text, conversation_id, source=source, trace=trace, meta=meta,
                                    auto_confirm=auto_confirm)
    async for ev in events:
        if on_event:
            on_event(ev)
        if ev.kind == "route":
            d = ev.data["decision"]
            result["route"] = d
            result["turn_id"] = ev.data["turn_id"]
            result["conversation_id"] = ev.data["conversation_id"]
        elif ev.kind == "note":
            result["notes"].append(ev.data["text"])
        elif ev.kind == "token":
            tokens.append(ev.data["text"])
        elif ev.kind == "tool_result":
            tried.append({k: ev.data.get(k) for k in ("name", "arguments", "rows", "error")})
        elif ev.kind == "done":
            result.update({k: ev.data[k] for k in ("answer", "tool_calls", "model", "timings", "citations")})
            result["server"] = ev.data.get("server")  # which server answered: tier, remote or local, address
            result.update({k: ev.data.get(k, False) for k in ("demo_model", "unverified")})
            result["stages"] = ev.data["trace"]["stages"]
        elif ev.kind == "needs_input":
            d = ev.data
            result["needs_input"] = {k: d[k] for k in ("tool", "title", "message", "missing", "invalid", "prefilled",
                                                        "write")}
            result["answer"] = ""
            result["timings"] = trace.timings()
            result["tool_calls"] = tried
        elif ev.kind == "error":
            result["error"] = ev.data["message"]
            result["answer"] = "".join(tokens)
            result["timings"] = trace.timings()
    return result
