"""The router: picks the agent (fast path, light LLM, or a user's correction) and the tier (policy).

Modes (config `routing.mode`, the roll-back switch):
- `hybrid`: the fast path decides when its confidence ≥ `routing.fast_confidence`, else the light LLM;
- `llm`: the light LLM always decides;
- `fast`: the fast path always decides, no server needed.
Whatever the mode: a stored correction that matches the text wins (decided_by=correction); with no
light server, or one that is down, slow (`routing.llm_timeout_ms`) or talks nonsense, the fast
path decides (decided_by=fallback). The tier always comes from `policy.choose_tier`.

Shadow check: for a share `routing.shadow_sample_rate` of decisions the heavy model is asked the
same question in the background; agreement is recorded (never delays the turn).
"""
from __future__ import annotations

import asyncio
import random
import time

from . import llm_router
from .corrections import CorrectionStore
from .decision import MODES, RouteDecision
from .fast_path import FastPath, estimate_task, norm_key
from .policy import choose_tier

SHADOW_TIMEOUT_S = 30.0


class Router:
    def __init__(self, config, corrections_store: CorrectionStore | None = None,
                 fast_path: FastPath | None = None, *, rng: random.Random | None = None):
        """config: the app's `Config` (its `.routing` is used) or a `RoutingConfig`."""
        self.cfg = getattr(config, "routing", config)
        self.store = corrections_store
        corrections = corrections_store.corrections() if corrections_store else []
        if fast_path is None:
            fast_path = FastPath.from_shipped(corrections)
        self.fast = fast_path
        if corrections_store is not None:
            corrections_store.attach(self.fast)
        self._rng = rng or random.Random()
        self._shadow_tasks: set[asyncio.Task] = set()
        self.shadow_results: list[dict] = []

    async def route(self, text: str, light=None, heavy=None, *, mode: str | None = None,
                    turn_id: str | None = None) -> RouteDecision:
        """light / heavy: `LLMClient`s or None. turn_id: when given (and a store is set) the
        decision is recorded under it, so it can be corrected later."""
        t0 = time.perf_counter()
        mode = mode or self.cfg.mode
        if mode not in MODES:
            raise ValueError(f"unknown routing mode {mode!r}; one of {', '.join(MODES)}")
        fr = self.fast.classify(text)
        detail: dict = {"fast": {"agent": fr.agent, "confidence": round(fr.confidence, 4), "ms": round(fr.ms, 3)}}
        agent, decided_by, confidence = fr.agent, "fast", fr.confidence
        if not norm_key(text):
            agent, confidence = "general", 1.0
            detail["why"] = "no words"
        elif fr.correction:
            decided_by = "correction"
        elif mode == "fast" or (mode == "hybrid" and fr.confidence >= self.cfg.fast_confidence):
            pass
        elif light is None:
            decided_by = "fallback"
            detail["fallback"] = "no light server"
        else:
            try:
                label = await llm_router.classify(light, text, timeout_s=self.cfg.llm_timeout_ms / 1000.0)
            except llm_router.RouterLLMError as e:
                decided_by = "fallback"
                detail["fallback"] = f"{e.kind}: {e}"
                detail["llm_ms"] = round(e.ms, 2)
            else:
                agent, decided_by, confidence = label.agent, "llm", None
                detail.update(label.detail())
        task = estimate_task(text, agent)
        tier, reason = choose_tier(task)
        decision = RouteDecision(
            agent=agent, tier=tier, needs_tools=task.requires_tools, complexity=task.complexity,
            est_output_tokens=task.estimated_output_tokens, steps=task.steps, decided_by=decided_by,
            confidence=confidence, ms=(time.perf_counter() - t0) * 1000.0, mode=mode,
            tier_reason=reason, detail=detail,
        )
        if self.store is not None and turn_id is not None:
            self.store.record(turn_id, text, decision)
        rate = getattr(self.cfg, "shadow_sample_rate", 0.0)
        if heavy is not None and rate > 0 and self._rng.random() < rate:
            task_ = asyncio.get_running_loop().create_task(self._shadow(heavy, text, agent, turn_id))
            self._shadow_tasks.add(task_)
            task_.add_done_callback(self._shadow_tasks.discard)
        return decision

    async def _shadow(self, heavy, text: str, agent: str, turn_id: str | None) -> None:
        t0 = time.perf_counter()
        heavy_agent, error = None, None
        try:
            heavy_agent = (await llm_router.classify(heavy, text, timeout_s=SHADOW_TIMEOUT_S)).agent
        except llm_router.RouterLLMError as e:
            error = f"{e.kind}: {e}"
        ms = (time.perf_counter() - t0) * 1000.0
        self.shadow_results.append({"turn_id": turn_id, "agent": agent, "heavy_agent": heavy_agent,
                                    "agree": None if heavy_agent is None else heavy_agent == agent,
                                    "ms": ms, "error": error})
        if self.store is not None:
            self.store.record_shadow(turn_id, text, agent, heavy_agent, ms, error)

    async def drain(self) -> None:
        """Wait for background shadow checks (tests, CLI exit)."""
        while self._shadow_tasks:
            await asyncio.gather(*list(self._shadow_tasks), return_exceptions=True)

    def correct(self, turn_or_text: str, agent: str) -> dict:
        """Correct a decision; without a store, only this process's fast path learns it."""
        if self.store is not None:
            return self.store.correct(turn_or_text, agent)
        self.fast.add_example(turn_or_text, agent)
        return {"turn_id": None, "text": turn_or_text, "agent": agent, "previous_agent": None}

    def reload_examples(self) -> None:
        """Re-sync the fast path with the store's corrections (e.g. after another process wrote
        some). Corrections made through the store reach the fast path already, at once."""
        if self.store is not None:
            self.fast.set_corrections(self.store.corrections())
