"""A scripted turn source for widget tests (the unit seam): it yields TurnEvents like
`Assistant.run_turn` with small delays, so the chat pane can be tested without servers."""
from __future__ import annotations

import asyncio

from bestbox.pipeline.events import TurnEvent

ROUTE = {"agent": "erp", "tier": "heavy", "needs_tools": True, "complexity": "medium", "decided_by": "fast",
         "confidence": 0.91, "ms": 3.2, "mode": "hybrid"}

ANSWER = ("Here are the **top five vendors** by spend this quarter:\n\n"
          "| Vendor | Spend | POs |\n|---|---:|---:|\n"
          "| Northwind Metals | $412,300 | 38 |\n| Apex Components | $388,950 | 41 |\n"
          "| Blue River Logistics | $301,120 | 22 |\n| Carter & Sons | $254,700 | 19 |\n"
          "| Delta Office Supply | $198,400 | 57 |\n\n"
          "Northwind Metals leads on volume; Delta has the most orders but small ones.")


def tokens(text: str, size: int = 6) -> list[str]:
    return [text[i:i + size] for i in range(0, len(text), size)]


class ScriptedSource:
    def __init__(self, *, answer: str = ANSWER, delay: float = 0.005, confirm: bool = False,
                 both_down: bool = False, state: str = "serving", note: str | None = None):
        self.answer = answer
        self.delay = delay
        self.confirm = confirm
        self.both_down = both_down
        self.state = state
        self.note = note
        self.corrections: list[tuple[str, str]] = []
        self.confirm_reply: asyncio.Future | None = None
        self.cancelled = False
        self.turns: list[str] = []
        self.chunks_sent = 0

    def server_state(self) -> str:
        return self.state

    async def wait_for_servers(self, timeout_s: float = 600.0) -> str:
        while self.state == "starting":
            await asyncio.sleep(0.02)
        return self.state

    def correct_route(self, turn_id: str, agent: str) -> None:
        self.corrections.append((turn_id, agent))

    async def run_turn(self, text, conversation_id=None, *, source="typed", meta=None):
        self.turns.append(text)
        yield TurnEvent("route", {"decision": ROUTE, "turn_id": "t1", "conversation_id": "c1"})
        if self.both_down:
            yield TurnEvent("error", {"message": "Both model servers are down. Start them from the server panel.",
                                      "both_down": True, "turn_id": "t1", "conversation_id": "c1"})
            return
        if self.note:
            yield TurnEvent("note", {"text": self.note})
        yield TurnEvent("tool_call", {"name": "top_vendors_by_spend", "arguments": {"period": "this_quarter", "limit": 5}})
        await asyncio.sleep(self.delay)
        yield TurnEvent("tool_result", {"name": "top_vendors_by_spend", "rows": 5, "summary": "5 vendors, $1.56M total",
                                        "error": None, "result": {"rows": [["Northwind Metals", 412300]]}})
        if self.confirm:
            fut = asyncio.get_running_loop().create_future()
            self.confirm_reply = fut
            yield TurnEvent("confirm", {"tool": "create_requisition", "arguments": {"item": "laptops", "qty": 3},
                                        "preview": "Create a purchase requisition for 3 laptops."}, reply=fut)
            try:
                ok = await fut
            except asyncio.CancelledError:
                self.cancelled = True
                raise
            if not ok:
                yield TurnEvent("note", {"text": "Cancelled: create_requisition was not run."})
        try:
            for t in tokens(self.answer):
                await asyncio.sleep(self.delay)
                self.chunks_sent += 1
                yield TurnEvent("token", {"text": t})
        except asyncio.CancelledError:
            self.cancelled = True
            raise
        yield TurnEvent("done", {"answer": self.answer, "route": ROUTE, "tool_calls": [], "model": "heavy",
                                 "partial": False, "turn_id": "t1", "conversation_id": "c1",
                                 "timings": {"route_ms": 3.2, "ttft_ms": 412.0, "total_ms": 2310.5,
                                             "tokens_per_s": 38.6}})
