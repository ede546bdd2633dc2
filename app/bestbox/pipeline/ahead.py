"""Work on a voice turn's speculative transcript beyond its route: the tool choice, started in the
silence window (`agents.ahead`), kept for the turn with the same text, dropped otherwise.

One at a time: a new speculative text replaces the old one, speech that resumes drops it
(`drop`), and the turn takes it only for the same normalized text (`routing.fast_path.norm_key`,
the key the speculative route uses). The runner then checks that the choice answered exactly the
turn's first step. Whatever was dropped since the last turn is said on that turn's trace
(`values["tool_choice_ahead_dropped"]`)."""
from __future__ import annotations

import asyncio
import logging

from ..agents.ahead import ChoiceAhead, choose_ahead
from ..routing.fast_path import norm_key
from ..trace import TurnTrace, now_ms

log = logging.getLogger(__name__)


class TurnsAhead:
    def __init__(self) -> None:
        self._key: str | None = None
        self._task: asyncio.Task | None = None
        self.dropped: list[str] = []

    def start(self, assistant, text: str, conversation_id: str | None, route: asyncio.Task) -> None:
        key = norm_key(text)
        if not key or (key == self._key and self._task is not None):
            return
        self.drop("a newer speculative transcript")
        self._key = key
        self._task = asyncio.get_running_loop().create_task(
            self._choose(assistant, text, conversation_id, route, now_ms()))

    def drop(self, why: str) -> None:
        if self._task is not None:
            self._task.cancel()
            if self._task.done() and not self._task.cancelled() and self._task.exception() is None \
                    and self._task.result() is not None:
                self._task.result().cancel_prefill()    # the answer it read ahead will not come
            self.dropped.append(why)
        self._key, self._task = None, None

    async def take(self, text: str, trace: TurnTrace) -> ChoiceAhead | None:
        """The choice made for `text` (waited for when it is still running: it started earlier
        than the turn could), or None; either way nothing is left pending."""
        if norm_key(text) != self._key and self._task is not None:
            self.drop("the final transcript differs")
        task, self._key, self._task = self._task, None, None
        if self.dropped:
            trace.values["tool_choice_ahead_dropped"] = "; ".join(self.dropped)
            self.dropped = []
        if task is None:
            return None
        try:
            return await asyncio.shield(task)
        except asyncio.CancelledError:
            if not task.cancelled():
                task.cancel()   # the turn was cancelled (Esc): its choice goes with it
                raise
            return None
        except Exception as e:  # noqa: BLE001 - an optimisation: the turn chooses as usual
            trace.values["tool_choice_ahead"] = f"failed: {type(e).__name__}"
            return None

    @staticmethod
    async def _choose(assistant, text: str, conversation_id: str | None, route: asyncio.Task,
                      asked_ms: float) -> ChoiceAhead | None:
        from .assistant import agent_of

        decision = await asyncio.shield(route)
        routed_ms = now_ms()
        # Only the tier the policy wants, when it is up: a fallback (or a stand-in to start) is the turn's call.
        client = assistant.endpoints.client(decision.tier)
        if client is None:
            return None
        runner, _ = await assistant.runner_for(decision, decision.tier, client)
        text = text.strip()
        return await choose_ahead(runner, agent_of(decision), assistant.ahead_messages(conversation_id, text), text,
                                  asked_ms=asked_ms, routed_ms=routed_ms)
