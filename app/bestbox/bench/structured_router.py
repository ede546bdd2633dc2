"""single / dual: the design's structured route, as the router of the baseline configurations."""
from __future__ import annotations

import time


class StructuredRouter:
    """The design's router: a JSON-schema decision {"agent", "needs_tools", "complexity"} from one
    model, and every answer on heavy. Answers go to the agent a person would pick (`pin`), so the
    work after routing is the same as BestBox's; what the model said is kept in the detail."""

    def __init__(self, on: str, pin: dict[str, str] | None = None, timeout_s: float = 120.0):
        self.on = on
        self.pin = pin or {}
        self.timeout_s = timeout_s

    async def route(self, text: str, light=None, heavy=None, *, mode: str | None = None, turn_id: str | None = None):
        from ..routing import llm_router
        from ..routing.decision import RouteDecision
        from ..routing.fast_path import estimate_task

        client = heavy if self.on == "heavy" else light
        t0 = time.perf_counter()
        detail: dict = {"structured_on": self.on}
        said = None
        try:
            lab = await llm_router.classify_json(client, text, timeout_s=self.timeout_s)
            said = lab.agent
            detail.update(lab.detail())
        except llm_router.RouterLLMError as e:
            detail.update(error=f"{e.kind}: {e}", llm_ms=round(e.ms, 2))
        pinned = self.pin.get(text) or self._pin_near(text)
        agent = pinned or said or "general"
        detail["model_said"] = said
        task = estimate_task(text, agent)
        return RouteDecision(agent=agent, tier="heavy", needs_tools=task.requires_tools, complexity=task.complexity,
                             est_output_tokens=task.estimated_output_tokens, steps=task.steps, decided_by="llm",
                             confidence=None, ms=(time.perf_counter() - t0) * 1000, mode=f"structured-{self.on}",
                             tier_reason="design: everything answered on heavy", detail=detail)

    def _pin_near(self, text: str) -> str | None:
        """A voice turn's transcript is not the scripted text ("do my hub left" for "do I have
        left"): pin it to the closest scripted utterance, or every voice turn of single and dual
        would answer with whatever agent the tiny router said — other prompts, other work."""
        import difflib

        words = text.lower().split()
        best, agent = 0.0, None
        for known, a in self.pin.items():
            r = difflib.SequenceMatcher(None, words, known.lower().split()).ratio()
            if r > best:
                best, agent = r, a
        return agent if best >= 0.6 else None

    def correct(self, *_a, **_k):
        return {}
