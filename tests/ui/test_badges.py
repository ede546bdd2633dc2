"""The badges under an answer say who routed and, for a voice turn routed during the pause, that
the answer did not wait for the route."""
from bestbox.ui.badges import BadgeRow


def test_speculative_route_is_explained_in_the_tooltip(qtbot):
    row = BadgeRow()
    qtbot.addWidget(row)
    row.set_route({"agent": "erp", "tier": "heavy", "decided_by": "llm", "ms": 0.2,
                   "detail": {"speculative": {"decided_ms": 84.0}}})
    tips = [w.toolTip() for w in row.findChildren(object) if hasattr(w, "toolTip")]
    assert any("decided while you paused" in t and "84" in t for t in tips), tips


def test_ordinary_route_has_no_pause_note(qtbot):
    row = BadgeRow()
    qtbot.addWidget(row)
    row.set_route({"agent": "erp", "tier": "heavy", "decided_by": "fast", "confidence": 0.9, "ms": 0.2})
    tips = [w.toolTip() for w in row.findChildren(object) if hasattr(w, "toolTip")]
    assert not any("paused" in t for t in tips) and any("confidence 0.90" in t for t in tips), tips
