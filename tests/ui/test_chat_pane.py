"""The chat pane against a scripted event source: streaming, badges, tool steps, confirmation,
Stop, both-servers-down, voice events."""
from __future__ import annotations

import pytest

from bestbox.ui.chat_pane import ChatPane
from bestbox.ui.stall_meter import StallMeter

from ui_helpers import save_shot
from ui_scripted import ANSWER, ScriptedSource


@pytest.fixture
def pane(qtbot, aloop):
    def make(**kw):
        src = ScriptedSource(**kw)
        p = ChatPane(src)
        p.resize(900, 760)
        qtbot.addWidget(p)
        p.show()
        qtbot.waitExposed(p)
        qtbot.wait(30)
        return p, src
    return make


def test_streams_answer_with_badges(qtbot, pane, shots):
    p, src = pane()
    meter = StallMeter()
    meter.start()
    p.composer.input.setPlainText("show me the top five vendors by spend this quarter")
    p.composer.input.send_requested.emit()
    assert p.running and p.composer.send_btn.text() == "Stop"
    qtbot.waitUntil(lambda: not p.running, timeout=10000)
    meter.stop()
    ans = p.answers[-1]
    assert ans.text == ANSWER
    assert "Northwind Metals" in ans.view.toPlainText()
    texts = ans.badges.texts()
    assert texts[0] == "ERP"
    assert "routed by fast path" in texts
    assert "heavy model" in texts
    assert any(t.startswith("route ") for t in texts)
    assert "first token 412 ms" in texts
    assert "38.6 tok/s" in texts
    assert "total 2.31 s" in texts
    assert len(ans.tool_steps) == 1 and ans.tool_steps[0].finished
    assert ans.renders < len(ANSWER) / 6  # throttled, not one render per token
    assert p.composer.send_btn.text() == "Send"
    print("event loop during the answer:", meter.report())  # the number is `bestbox bench`'s
    ans.tool_steps[0].header.click()
    assert ans.tool_steps[0].expanded()
    qtbot.wait(50)
    save_shot(p, shots / "chat_pane.png")


def test_route_badge_correction(qtbot, pane):
    p, src = pane()
    p.send("show me the top vendors")
    qtbot.waitUntil(lambda: not p.running, timeout=10000)
    badge = p.answers[-1].badges.route_badge
    badge._pick("crm")
    assert src.corrections == [("t1", "crm")]
    assert "corrected" in badge.text()


def test_confirmation_card_resolves_future(qtbot, pane):
    p, src = pane(confirm=True)
    p.send("order three laptops")
    qtbot.waitUntil(lambda: bool(p.answers) and bool(p.answers[-1].confirm_cards), timeout=5000)
    card = p.answers[-1].confirm_cards[0]
    assert src.confirm_reply is not None and not src.confirm_reply.done()
    card.confirm_btn.click()
    assert src.confirm_reply.result() is True
    assert not card.confirm_btn.isEnabled()
    qtbot.waitUntil(lambda: not p.running, timeout=10000)
    assert p.answers[-1].text == ANSWER


def test_confirmation_cancel(qtbot, pane):
    p, src = pane(confirm=True)
    p.send("order three laptops")
    qtbot.waitUntil(lambda: bool(p.answers) and bool(p.answers[-1].confirm_cards), timeout=5000)
    p.answers[-1].confirm_cards[0].cancel_btn.click()
    assert src.confirm_reply.result() is False
    qtbot.waitUntil(lambda: not p.running, timeout=10000)
    assert any("was not run" in t for t in p.answers[-1].notes_texts())


def test_stop_cancels_the_turn(qtbot, pane):
    p, src = pane(delay=0.05)
    p.send("tell me everything")
    qtbot.waitUntil(lambda: len(p.answers[-1].text) > 12, timeout=5000)
    p.composer.send_btn.click()  # Stop
    qtbot.waitUntil(lambda: not p.running, timeout=5000)
    assert src.cancelled
    ans = p.answers[-1]
    assert ans.partial
    assert ans.text and ans.text != ANSWER


def test_both_servers_down_offers_start(qtbot, pane):
    p, src = pane(both_down=True)
    fired = []
    p.start_servers_requested.connect(lambda: fired.append(1))
    p.send("hello")
    qtbot.waitUntil(lambda: not p.running, timeout=5000)
    ans = p.answers[-1]
    assert "Both model servers are down" in ans.error_text
    ans.start_button.click()
    assert fired == [1]


def test_waits_for_loading_servers(qtbot, pane):
    p, src = pane(state="starting")
    p.send("hello")
    qtbot.waitUntil(lambda: "Waiting" in p.answers[-1].status.text(), timeout=3000)
    assert not src.turns
    src.state = "serving"
    qtbot.waitUntil(lambda: not p.running, timeout=5000)
    assert src.turns == ["hello"]


def test_note_shown(qtbot, pane):
    p, _ = pane(note="Answered by the small (light) model because the heavy server is not running.")
    p.send("hi")
    qtbot.waitUntil(lambda: not p.running, timeout=5000)
    assert any("small (light) model" in t for t in p.answers[-1].notes_texts())


def test_enter_sends_shift_enter_newline(qtbot, pane):
    from PySide6.QtCore import Qt

    p, src = pane()
    box = p.composer.input
    box.setFocus()
    qtbot.keyClicks(box, "line one")
    qtbot.keyClick(box, Qt.Key.Key_Return, Qt.KeyboardModifier.ShiftModifier)
    qtbot.keyClicks(box, "line two")
    assert box.toPlainText() == "line one\nline two"
    qtbot.keyClick(box, Qt.Key.Key_Return)
    assert box.toPlainText() == ""
    qtbot.waitUntil(lambda: not p.running, timeout=5000)
    assert src.turns == ["line one\nline two"]


def test_history_renders_partial_and_badges(qtbot, pane):
    p, _ = pane()
    p.show_conversation("c9", [
        {"role": "user", "text": "top vendors", "meta": {"source": "voice", "raw_transcript": "top menders"}},
        {"role": "assistant", "text": "Partial text", "partial": True, "turn_id": "t9",
         "meta": {"route": {"agent": "erp", "tier": "heavy", "decided_by": "llm", "ms": 80},
                  "model": "heavy", "timings": {"route_ms": 80, "ttft_ms": 300, "total_ms": 900},
                  "tool_calls": [{"name": "top_vendors_by_spend", "arguments": {}, "rows": 5}]}},
    ])
    user, ans = p.bubbles
    assert user.raw == "top menders" and user.raw_btn.isVisibleTo(user)
    assert ans.partial and ans.badges.texts()[0] == "ERP"
    assert "route 80 ms" in ans.badges.texts()


def test_long_answer_does_not_stall(qtbot, pane):
    """A long answer (~9 kB: a 60-row table — tools cap their rows — and a page of prose) streamed
    token by token: each render builds the document off-view and swaps it in (one layout), the
    replaced documents are freed, and the throttle backs off as renders get dearer, so a long answer
    costs few renders. (The loop's longest stall is measured by `bestbox bench`, not asserted.)"""
    rows = "\n".join(f"| Vendor {i:03d} | ${1000 * i:,} | {i % 40} | {'on time' if i % 3 else 'late'} |"
                     for i in range(60))
    long = ("## Spend by vendor\n\n| Vendor | Spend | POs | Delivery |\n|---|---:|---:|---|\n" + rows
            + "\n\n" + " ".join(["The long tail of vendors accounts for a small share of spend."] * 60))
    p, src = pane(answer=long, delay=0.0005)
    meter = StallMeter(watchdog_ms=45)
    meter.start()
    p.send("list every vendor with spend")
    qtbot.waitUntil(lambda: not p.running, timeout=60_000)
    meter.stop()
    ans = p.answers[-1]
    assert ans.text == long
    assert "Vendor 059" in ans.view.toPlainText()
    from PySide6.QtGui import QTextDocument

    qtbot.wait(20)  # deleteLater of the replaced documents
    assert len(ans.view.findChildren(QTextDocument)) <= 2, "replaced documents must not pile up"
    assert 1 <= ans.renders < src.chunks_sent / 4, (ans.renders, src.chunks_sent)
    print("event loop during the long answer:", meter.report())
