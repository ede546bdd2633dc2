"""A new user's first requests, in the whole window, against real llama-servers with the demo model
and the real pipeline (issue 14). The tiny model decides what happens, so each request must end in
one of the useful states — a form, a confirmation card, a table, or an answer in words — and never
in a raw tool call or an exception. Forms are filled and sent, writes confirmed; a route correction
is still there after the conversation is reopened."""
from __future__ import annotations

import re

import pytest
from PySide6.QtWidgets import QApplication

from ui_helpers import save_shot

pytestmark = pytest.mark.gui

REQUESTS = ("my laptop can't connect to the VPN, open a ticket",
            "book a meeting room for tomorrow at 10:00 for one hour",
            "show me the top five vendors")
RAW = re.compile(r'\{\s*"(tool|name|arguments)"\s*:|Traceback|[A-Z][a-zA-Z]+Error:|internal error')
FILL = {"title": "Laptop cannot connect to the VPN", "room": "Cedar", "start": "10:00", "date": "tomorrow",
        "description": "VPN client says the certificate is not valid", "employee": "Anna Berg", "query": "vpn"}


def _visible_text(bubble) -> str:
    from PySide6.QtWidgets import QLabel

    parts = [bubble.text] + [w.text() for w in bubble.findChildren(QLabel) if w.isVisibleTo(bubble)]
    return "\n".join(parts)


def _states(ans) -> set[str]:
    s = set()
    if any(not f.done for f in ans.forms):
        s.add("form")
    if any(c.confirm_btn.isEnabled() for c in ans.confirm_cards):
        s.add("confirm")
    if any(st.table is not None for st in ans.tool_steps):
        s.add("table")
    if ans.text.strip() and not RAW.search(ans.text):
        s.add("answer")
    if any(st.finished and not st._summary.startswith("failed") for st in ans.tool_steps):
        s.add("result")
    return s


def _settled(chat) -> bool:
    a = chat.answers[-1] if chat.answers else None
    return a is not None and (not chat.running or bool(_states(a) & {"form", "confirm"}))


def _no_raw(chat) -> None:
    for b in chat.answers:
        t = _visible_text(b)
        assert not RAW.search(t), t[:600]


ROOMS = ("Cedar", "Oak", "Juniper", "Maple", "Birch")    # the demo data books rooms relative to today


def _fill(form, attempt: int) -> None:
    for name in dict.fromkeys([*form.missing(), *form.flagged]):
        value = ROOMS[attempt % len(ROOMS)] if name == "room" else FILL.get(name, "test")
        form.set_value(name, value)


def _shot(qtbot, chat, shots, seen: dict, state: str, tag: str) -> None:
    """The first time a state shows: its picture (after the layout settled)."""
    if state not in seen:
        qtbot.wait(300)
        chat.scroll_to_end()
        qtbot.wait(100)
        seen[state] = save_shot(chat.window(), shots / f"e2e_{tag}_{state}.png")


def _drive(qtbot, chat, shots, tag: str, seen: dict) -> None:
    """Follow one request through forms and confirmations to its end; screenshot each state."""
    for attempt in range(6):
        qtbot.waitUntil(lambda: _settled(chat), timeout=240_000)
        ans = chat.answers[-1]
        st = _states(ans)
        _no_raw(chat)
        if "form" in st:
            _shot(qtbot, chat, shots, seen, "form", tag)
            form = next(f for f in ans.forms if not f.done)
            _fill(form, attempt)
            n = len(chat.answers)
            form.send_btn.click()
            qtbot.waitUntil(lambda: len(chat.answers) > n, timeout=10_000)
            continue
        if "confirm" in st:
            _shot(qtbot, chat, shots, seen, "confirm", tag)
            next(c for c in ans.confirm_cards if c.confirm_btn.isEnabled()).confirm_btn.click()
            qtbot.waitUntil(lambda: not chat.running, timeout=240_000)
            continue
        break
    qtbot.waitUntil(lambda: _settled(chat), timeout=240_000)
    ans = chat.answers[-1]
    st = _states(ans)
    if "table" in st:
        _shot(qtbot, chat, shots, seen, "table", tag)
    qtbot.wait(300)
    save_shot(chat.window(), shots / f"e2e_{tag}_end.png")
    assert st or getattr(ans, "error_text", ""), f"{tag}: nothing useful shown"
    assert not getattr(ans, "error_text", "") or not RAW.search(ans.error_text), ans.error_text
    _no_raw(chat)


# Four demo-model turns and two server starts: ~160 s on 2 idle cores, over 300 s when they are shared.
@pytest.mark.timeout(600)
def test_first_three_requests(qtbot, aloop, ui_config, shots):
    from bestbox import config as config_mod
    from bestbox.ui.app import AppController

    ctrl = AppController(QApplication.instance(), config_mod.load(), use_tray=False)
    done: list[int] = []
    ctrl.finished.connect(lambda: done.append(1))
    qtbot.addWidget(ctrl.window)
    ctrl.show()
    win, chat = ctrl.window, ctrl.window.chat
    seen: dict = {}
    try:
        qtbot.waitUntil(lambda: all(c.badge.state == "ready" for c in win.servers.cards.values()), timeout=180_000)
        qtbot.waitUntil(lambda: ctrl.warmed_up, timeout=180_000)
        assert ctrl.assistant.error is None, ctrl.assistant.error
        for i, q in enumerate(REQUESTS):
            win.new_conversation()  # each as a first request: nothing carried over from the others
            chat.send(q)
            _drive(qtbot, chat, shots, f"{i + 1}", seen)
        vendors_cid = chat.conversation_id
        vendors_rows = [st.table.model.rowCount() for a in chat.answers for st in a.tool_steps if st.table is not None]
        if "form" not in seen:
            # The tiny model filled every call this time: send a booking the tool refuses (no such
            # room), which the pipeline turns into the form, as a user's own mistake would.
            win.new_conversation()
            chat.run_tool("book_room", {"room": "Nowhere", "date": "tomorrow", "start": "10:00"})
            _drive(qtbot, chat, shots, "4", seen)
            assert "form" in seen
        print("states seen:", sorted(seen))
        # The demo model's answers carry the mark.
        assert any(a.demo for a in chat.answers), [a.badges.texts() for a in chat.answers]
        # A route correction stays with the turn after the conversation is reopened.
        win.open_conversation(vendors_cid)
        ans = next(a for a in chat.answers if a.badges.route_badge is not None and a.turn_id)
        wrong = "crm" if ans.badges.route_badge.agent != "crm" else "erp"
        ans.badges.route_badge._pick(wrong)
        cid, turn = chat.conversation_id, ans.turn_id

        def stored() -> bool:
            msgs = ctrl.assistant.load(cid)
            return any(m.get("turn_id") == turn and (m.get("meta") or {}).get("corrected_agent") == wrong for m in msgs)

        qtbot.waitUntil(stored, timeout=20_000)
        win.new_conversation()
        win.open_conversation(cid)
        again = next(a for a in chat.answers if a.turn_id == turn)
        assert again.badges.route_badge.agent == wrong and "corrected" in again.badges.route_badge.text()
        # The tables come back too, from the tool results stored with the turn.
        assert [st.table.model.rowCount() for st in again.tool_steps if st.table is not None] == vendors_rows
        _no_raw(chat)
        qtbot.wait(1000)
        chat.scroll.ensureWidgetVisible(again, 0, 200)
        qtbot.wait(200)
        save_shot(win, shots / "e2e_reopened.png")
    finally:
        if not done:
            ctrl.request_quit()
            qtbot.waitUntil(lambda: bool(done), timeout=60_000)
