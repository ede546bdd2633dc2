"""The router: picks the agent (fast path, light LLM, or a user's correction) and the tier (policy).

Modes (config `routing.mode`, the roll-back switch):
- `hybrid`: the fast path decides when its confidence ≥ `routing.fast_confidence`, else the light LLM
  ("auto", the default: the threshold calibrated offline for this fast path's model, see calibrate.py);
- `llm`: the light LLM always decides;
- `fast`: the fast path always decides, no server needed.
Whatever the mode: a stored correction that matches the text wins (decided_by=correction); with no
light server, or one that is down, slow (`routing.llm_timeout_ms`) or talks nonsense, the fast
path decides (decided_by=fallback). The tier always comes from `policy.choose_tier`.

Shadow check: for a share `routing.shadow_sample_rate` of decisions the heavy model is asked the
same question in the background; agreement is recorded (never delays the turn).

Speculative routing: a voice turn's silence window (~0.7 s) is dead time. `preroute(text)` decides
for the speculative transcript in the background; when the turn then asks `route()` for the same
text, that decision is taken (its wait is what the turn pays; `detail.speculative` says so) instead
of asking the light model again. A correction made in between drops every pending decision.
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
MAX_PREROUTES = 4  # a turn has one live speculation; a few stale ones are cancelled, not piled up


def unsure_reason(fr) -> str:
    """Why the fast path is unsure: two agents with strong cues ("cues disagree: erp 0.54, oa 0.40"),
    or no agent with strong ones ("weak cues")."""
    (a1, p1), (a2, p2) = sorted(fr.scores.items(), key=lambda kv: -kv[1])[:2]
    if p2 >= 0.25:
        return f"cues disagree: {a1} {p1:.2f}, {a2} {p2:.2f}"
    return f"weak cues: {a1} {p1:.2f}"


class Router:
    def __init__(self, config, corrections_store: CorrectionStore | None = None,
                 fast_path: FastPath | None = None, *, rng: random.Random | None = None):
        """config: the app's `Config` (its `.routing` is used) or a `RoutingConfig`."""
        self.cfg = getattr(config, "routing", config)
        self.store = corrections_store
        corrections = corrections_store.corrections() if corrections_store else []
        if fast_path is None:
            fast_path = FastPath.from_shipped(corrections)
            data = getattr(config, "data", None)
            if data is not None and (data.source or data.database):  # the user's own names, not the demo's
                from ..data.records.names import entity_names

                fast_path.entity_names = {norm_key(k): v for k, v in entity_names(config).items()}
        self.fast = fast_path
        if corrections_store is not None:
            corrections_store.attach(self.fast)
        self._rng = rng or random.Random()
        self._shadow_tasks: set[asyncio.Task] = set()
        self.shadow_results: list[dict] = []
        self._preroutes: dict[tuple[str, str], asyncio.Task] = {}
        self._auto_threshold: float | None = None

    @property
    def threshold(self) -> float:
        """The hand-off threshold: a number from the config, or the calibrated one ("auto")."""
        t = getattr(self.cfg, "fast_confidence", "auto")
        if t == "auto":
            if self._auto_threshold is None:   # read once: the model does not change while running
                from .calibration import auto_threshold

                self._auto_threshold = auto_threshold(self.fast)
            t = self._auto_threshold
        return float(t)

    def preroute(self, text: str, light=None, heavy=None, *, mode: str | None = None) -> asyncio.Task | None:
        """Start deciding for `text` now (a speculative transcript); `route()` takes the result."""
        mode = mode or self.cfg.mode
        key = (norm_key(text), mode)
        if not key[0] or mode not in MODES:
            return None
        task = self._preroutes.get(key)
        if task is not None:
            return task
        task = asyncio.get_running_loop().create_task(self._decide(text, light, mode))
        self._preroutes[key] = task
        while len(self._preroutes) > MAX_PREROUTES:
            self._preroutes.pop(next(iter(self._preroutes))).cancel()
        return task

    def _take_preroute(self, text: str, mode: str) -> asyncio.Task | None:
        return self._preroutes.pop((norm_key(text), mode), None)

    def drop_preroutes(self) -> None:
        for t in self._preroutes.values():
            t.cancel()
        self._preroutes.clear()

    async def route(self, text: str, light=None, heavy=None, *, mode: str | None = None,
                    turn_id: str | None = None) -> RouteDecision:
        """light / heavy: `LLMClient`s or None. turn_id: when given (and a store is set) the
        decision is recorded under it, so it can be corrected later."""
        t0 = time.perf_counter()
        mode = mode or self.cfg.mode
        if mode not in MODES:
            raise ValueError(f"unknown routing mode {mode!r}; one of {', '.join(MODES)}")
        decision = None
        pre = self._take_preroute(text, mode)
        if pre is not None:
            try:
                decision = await asyncio.shield(pre)  # our cancellation must not look like its own
            except asyncio.CancelledError:
                if not pre.cancelled():
                    raise  # this turn was cancelled, not the speculation
            except Exception:  # noqa: BLE001 - decide again below, as without speculation
                decision = None
        if decision is not None:
            decision.detail["speculative"] = {"decided_ms": round(decision.ms, 2)}
            decision.ms = (time.perf_counter() - t0) * 1000.0  # what this turn waited
        else:
            decision = await self._decide(text, light, mode)
        if self.store is not None and turn_id is not None:
            self.store.record(turn_id, text, decision)
        rate = getattr(self.cfg, "shadow_sample_rate", 0.0)
        if heavy is not None and rate > 0 and self._rng.random() < rate:
            task_ = asyncio.get_running_loop().create_task(self._shadow(heavy, text, decision.agent, turn_id))
            self._shadow_tasks.add(task_)
            task_.add_done_callback(self._shadow_tasks.discard)
        return decision

    async def _decide(self, text: str, light, mode: str) -> RouteDecision:
        t0 = time.perf_counter()
        fr = self.fast.classify(text)
        detail: dict = {"fast": {"agent": fr.agent, "confidence": round(fr.confidence, 4), "ms": round(fr.ms, 3)}}
        agent, decided_by, confidence = fr.agent, "fast", fr.confidence
        if norm_key(text) and not fr.correction and fr.confidence < self.threshold:
            detail["fast"]["unsure"] = unsure_reason(fr)
        if not norm_key(text):
            agent, confidence = "general", 1.0
            detail["why"] = "no words"
        elif fr.correction:
            decided_by = "correction"
        elif mode == "fast" or (mode == "hybrid" and fr.confidence >= self.threshold):
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
        self.drop_preroutes()  # decided before the correction: may now be wrong
        if self.store is not None:
            return self.store.correct(turn_or_text, agent)
        self.fast.add_example(turn_or_text, agent)
        return {"turn_id": None, "text": turn_or_text, "agent": agent, "previous_agent": None}

    def reload_examples(self) -> None:
        """Re-sync the fast path with the store's corrections (e.g. after another process wrote
        some). Corrections made through the store reach the fast path already, at once."""
        if self.store is not None:
            self.fast.set_corrections(self.store.corrections())
