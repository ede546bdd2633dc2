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


def test_an_answer_from_the_team_server_says_so(qtbot, shots):
    from ui_helpers import save_shot

    row = BadgeRow()
    qtbot.addWidget(row)
    url = "https://gpu.team.lan:8443"
    row.set_result({"tier": "heavy"}, "heavy", {"ttft_ms": 212.0},
                   {"tier": "heavy", "where": "remote", "url": url})
    texts = [w.text() for w in row.findChildren(object) if hasattr(w, "text") and callable(w.text)]
    tips = [w.toolTip() for w in row.findChildren(object) if hasattr(w, "toolTip")]
    assert "heavy model · team server" in texts and any(url in t for t in tips), (texts, tips)
    row.resize(420, 30)
    row.show()
    qtbot.waitExposed(row)
    save_shot(row, shots / "badges-team-server.png")
    local = BadgeRow()
    qtbot.addWidget(local)
    local.set_result({"tier": "heavy"}, "heavy", {}, {"tier": "heavy", "where": "local", "url": "http://127.0.0.1:8080"})
    assert "heavy model" in [w.text() for w in local.findChildren(object) if hasattr(w, "text") and callable(w.text)]


def test_an_answer_from_the_local_stand_in_says_so(qtbot, shots):
    """Issue 10: the team server was away and this computer's own heavy answered: the badge says so."""
    from ui_helpers import save_shot

    from bestbox.pipeline.fallback import server_of
    from bestbox.llm.client import LLMClient

    url = "http://127.0.0.1:8080"
    server = server_of("heavy", LLMClient(url, name="heavy-local", stand_in=True))
    assert server == {"tier": "heavy", "where": "local", "url": url, "stand_in": True}
    row = BadgeRow()
    qtbot.addWidget(row)
    row.set_result({"tier": "heavy"}, "heavy", {"ttft_ms": 180.0}, server)
    badge = next(w for w in row.badges() if w.text().startswith("heavy model"))
    assert badge.text() == "heavy model · local stand-in", row.texts()
    assert url in badge.toolTip() and "team server did not answer" in badge.toolTip(), badge.toolTip()
    row.resize(420, 30)
    row.show()
    qtbot.waitExposed(row)
    save_shot(row, shots / "badges-local-stand-in.png")
    plain = server_of("heavy", LLMClient(url, name="heavy"))
    assert "stand_in" not in plain  # an ordinary local heavy: no mark


def test_first_audio_is_one_badge_after_total_whenever_the_sound_started(qtbot):
    """A spoken reply may start before the answer is done (its badge then moves after "total") or
    after it; either way one "first audio" badge, from the end of speech for a voice turn."""
    route = {"agent": "general", "tier": "light", "decided_by": "fast"}
    voice = {"asr_ms": 310.0, "ttft_ms": 900.0, "total_ms": 2400.0}
    early = BadgeRow()
    qtbot.addWidget(early)
    early.set_route(route)
    early.set_first_audio({"first_audio_ms": 1250.0, "voice": True, "first_audio_ahead": True})
    assert early.texts()[-1] == "first audio 1.25 s"
    early.set_result(route, "light", {**voice, "first_audio_ms": 1250.0, "first_audio_ahead": True})
    late = BadgeRow()
    qtbot.addWidget(late)
    late.set_route(route)
    late.set_result(route, "light", voice)
    late.set_first_audio({"first_audio_ms": 1250.0, "voice": True, "first_audio_ahead": True})
    for row in (early, late):
        texts = row.texts()
        assert texts[-2:] == ["total 2.40 s", "first audio 1.25 s"], texts
        tip = row.first_audio_badge.toolTip()
        assert "end of your speech" in tip and "made while you paused" in tip, tip
    typed = BadgeRow()
    qtbot.addWidget(typed)
    typed.set_result(route, "light", {"ttft_ms": 500.0, "total_ms": 900.0, "first_audio_ms": 700.0})
    assert typed.texts()[-1] == "first audio 700 ms"
    assert "sending the question" in typed.first_audio_badge.toolTip()
    assert "made while you paused" not in typed.first_audio_badge.toolTip()
