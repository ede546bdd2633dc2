"""A whole answer started ahead of its turn, for a question that needs no tool.

The silence window that ends a voice turn holds the speculative transcript and its route
(`speech.speculation`, `routing.Router.preroute`). When that route goes to an agent with no tools
(and the user's documents do not answer it), nothing is read, written or confirmed: the answer
itself can start there, exactly as the turn would ask for it (the same `AgentRunner.run`, agent,
server, thinking and messages). Its events are only kept, never shown, never written to the
history. The turn takes them (and the rest as it streams) when its own request is the same
(`AnswersAhead.take`); speech that resumes, a newer speculative transcript, or a final text or
request that differs drops it (the HTTP stream closes, the server stops). Questions that need a
tool never start here: their tool choice (and a tool that only reads) starts in `pipeline.ahead`.

Listeners (`watchers`) hear of each answer that starts and may `subscribe` to its tokens: the
spoken reply synthesizes the first clause meanwhile (`speak.ahead`), and is told when it is dropped.
Whatever was dropped since the last turn is said on that turn's trace (`values["answer_ahead_dropped"]`)."""
from __future__ import annotations

import asyncio
import json
import logging
from typing import Any, AsyncIterator, Callable

from ..routing.fast_path import norm_key
from ..trace import TurnTrace, now_ms

log = logging.getLogger(__name__)
Listener = Callable[[str, str], None]   # (kind: "token" | "drop" | "end", text)


def request_key(agent: str, client: Any, thinking: bool, messages: list[dict]) -> str:
    """What must be equal for the turn to take an answer made ahead: the agent, the server (its
    address and name), thinking, and the conversation sent."""
    return json.dumps([agent, str(getattr(client, "base_url", "")), str(getattr(client, "name", "")),
                       bool(thinking), messages], sort_keys=True, default=str)


class AnswerAhead:
    """One speculative answer: its agent events in order, streamed on while it runs."""

    def __init__(self, key: str) -> None:
        self.key = key                  # norm_key of the speculative text
        self.request: str | None = None  # request_key(); None until the answer starts
        self.start_ms = now_ms()
        self.events: list = []
        self.finished = False
        self.error: BaseException | None = None
        self.state = "routing"          # routing | running | skipped | taken | dropped
        self.task: asyncio.Task | None = None
        self.ready = asyncio.Event()    # the request is known (or it will not start)
        self._changed = asyncio.Event()
        self._listeners: list[Listener] = []

    def subscribe(self, listener: Listener) -> None:
        """Hear its tokens (those so far at once, then as they come) and when it is dropped."""
        for ev in self.events:
            if getattr(ev, "kind", "") == "token":
                listener("token", ev.text)
        self._listeners.append(listener)

    def _tell(self, kind: str, text: str = "") -> None:
        for cb in list(self._listeners):
            try:
                cb(kind, text)
            except Exception:  # noqa: BLE001 - a listener must not break the answer
                log.debug("answer-ahead listener failed", exc_info=True)

    def add(self, ev) -> None:
        self.events.append(ev)
        self._changed.set()
        if getattr(ev, "kind", "") == "token":
            self._tell("token", ev.text)

    def end(self, error: BaseException | None = None) -> None:
        self.finished, self.error = True, error
        self.ready.set()
        self._changed.set()
        self._tell("end")

    def drop(self) -> None:
        self.state = "dropped"
        if self.task is not None and not self.task.done():
            self.task.cancel()
        self.ready.set()
        self._tell("drop")
        self._listeners.clear()

    async def replay(self) -> AsyncIterator:
        """Every event so far, then the rest as it comes; closing it early (Esc) stops the answer."""
        i = 0
        try:
            while True:
                self._changed.clear()
                while i < len(self.events):
                    yield self.events[i]
                    i += 1
                if self.finished:
                    if self.error is not None:
                        raise self.error
                    return
                if i == len(self.events):
                    await self._changed.wait()
        finally:
            if not self.finished and self.task is not None:
                self.task.cancel()


class AnswersAhead:
    """At most one answer ahead at a time (the newest speculative text)."""

    def __init__(self) -> None:
        self.current: AnswerAhead | None = None
        self.dropped: list[str] = []
        self.watchers: list[Callable[[AnswerAhead], None]] = []

    def start(self, assistant, text: str, conversation_id: str | None, route: asyncio.Task) -> None:
        key = norm_key(text)
        cur = self.current
        if not key or (cur is not None and cur.key == key and cur.state in ("routing", "running")):
            return
        self.drop("a newer speculative transcript")
        ahead = self.current = AnswerAhead(key)
        ahead.task = asyncio.get_running_loop().create_task(self._run(ahead, assistant, text, conversation_id, route))

    def drop(self, why: str) -> None:
        ahead, self.current = self.current, None
        if ahead is not None and ahead.state in ("routing", "running"):
            ahead.drop()
            if ahead.request is not None:
                self.dropped.append(why)

    async def take(self, text: str, agent: str, client: Any, thinking: bool, messages: list[dict],
                   trace: TurnTrace) -> AsyncIterator | None:
        """The answer made ahead for exactly this request (its events, then the rest as they come),
        or None; either way nothing is left pending."""
        ahead, self.current = self.current, None
        if ahead is not None and ahead.key != norm_key(text):
            self.current, ahead = ahead, None
            self.drop("the final transcript differs")
        if ahead is not None:
            await asyncio.shield(ahead.ready.wait())   # its route is the turn's: decided by now
            if ahead.state == "running" and ahead.request == request_key(agent, client, thinking, messages):
                ahead.state = "taken"
                trace.values["answer_ahead"] = "taken"
                trace.values["answer_ahead_started_ms"] = round(ahead.start_ms - trace.t0_ms, 1)
            else:
                self.current, ahead = ahead, None
                self.drop("the turn's request differs")
        if self.dropped:
            trace.values["answer_ahead_dropped"] = "; ".join(self.dropped)
            self.dropped = []
        return ahead.replay() if ahead is not None else None

    async def _run(self, ahead: AnswerAhead, assistant, text: str, conversation_id: str | None,
                   route: asyncio.Task) -> None:
        try:
            runner, agent, messages = await self._prepare(ahead, assistant, text, conversation_id, route)
        except asyncio.CancelledError:
            ahead.ready.set()
            raise
        except Exception as e:  # noqa: BLE001 - an optimisation: the turn answers as usual
            log.debug("answer ahead not started: %s", e)
            runner = None
        if runner is None:
            if ahead.state == "routing":
                ahead.state = "skipped"
            ahead.ready.set()
            return
        ahead.state = "running"
        ahead.ready.set()
        for w in list(self.watchers):
            try:
                w(ahead)
            except Exception:  # noqa: BLE001
                log.debug("answer-ahead watcher failed", exc_info=True)
        try:
            async for ev in runner.run(agent, messages, trace=TurnTrace()):
                ahead.add(ev)
            ahead.end()
        except asyncio.CancelledError:
            ahead.end(asyncio.CancelledError())
            raise
        except Exception as e:  # noqa: BLE001 - the turn that takes it says so, as its own error
            ahead.end(e)

    @staticmethod
    async def _prepare(ahead: AnswerAhead, assistant, text: str, conversation_id: str | None, route: asyncio.Task):
        """(runner, agent, messages) when the question needs no tool; (None, None, None) otherwise."""
        from ..agents.doc_lookup import look_up, reads_documents
        from ..agents.tools import tools_for
        from .assistant import agent_of

        decision = await asyncio.shield(route)
        agent = agent_of(decision)
        client = assistant.endpoints.client(decision.tier)
        if client is None or tools_for(agent):
            return None, None, None
        text = text.strip()
        if reads_documents(agent) and await asyncio.to_thread(look_up, text) is not None:
            return None, None, None   # the documents answer it: a tool call (issue 8), left to the turn
        runner, thinking = await assistant.runner_for(decision, decision.tier, client)
        messages = assistant.ahead_messages(conversation_id, text)
        ahead.request = request_key(agent, client, thinking, messages)
        return runner, agent, messages
