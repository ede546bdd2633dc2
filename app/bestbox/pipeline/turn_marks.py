"""What a turn carries besides its answer: the demo-model mark, the route of a form the user sent,
and the readable line that stands for that form in the conversation."""
from __future__ import annotations

from pathlib import Path

from ..routing.decision import RouteDecision


def _same_file(a: str | Path | None, b: str | Path | None) -> bool:
    if not a or not b:
        return False
    try:
        return Path(a).expanduser().resolve() == Path(b).expanduser().resolve()
    except OSError:
        return False


def is_demo_model(endpoints, config, server: str | None) -> bool:
    """True when `server` serves the bundled demo model: the server snapshot says so (it resolved an
    empty model setting to the demo), or the configured/served file is the demo file itself."""
    from .. import paths

    if not server:
        return False
    snapshot = getattr(endpoints, "snapshot", None)
    served = None
    if callable(snapshot):
        try:
            snap = snapshot(server)
        except Exception:  # an endpoints object without this server: fall back to the config
            snap = None
        if snap is not None and getattr(snap, "using_demo_model", False):
            return True
        served = getattr(snap, "model_path", None) if snap is not None else None
    demo = paths.demo_llm_model()
    if demo is None:
        return False
    try:
        configured = config.server(server).model
    except Exception:  # no such server in the config
        configured = None
    return _same_file(served, demo) or _same_file(configured, demo)


def form_route(agent: str) -> RouteDecision:
    """The route of a turn the user started by sending a tool's form: no router involved."""
    return RouteDecision(agent=agent, tier="heavy", needs_tools=True, complexity="low", est_output_tokens=200,
                         steps=1, decided_by="form", confidence=None, ms=0.0,
                         tier_reason="the user sent a tool's form", detail={"source": "form"})


def form_text(title: str, arguments: dict) -> str:
    """The user's message for a sent form: "Open an IT ticket: title = VPN down, priority = P2"."""
    from ..agents.needs_input import field_title

    shown = [f"{field_title(k).lower()} = {v}" for k, v in (arguments or {}).items() if v not in (None, "")]
    return f"{title}: {', '.join(shown)}" if shown else title
