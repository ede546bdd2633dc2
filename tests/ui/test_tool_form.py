"""The tool form (from a tool's JSON schema) and the result table, alone and in the chat pane."""
from __future__ import annotations

import json

import pytest
from PySide6.QtWidgets import QApplication, QCheckBox, QComboBox, QDateEdit, QDateTimeEdit, QLineEdit, QSpinBox

from bestbox.ui.chat_pane import ChatPane
from bestbox.ui.result_table import ResultTable, columns_for, header_words
from bestbox.ui.tool_form import ToolForm, choices

from scripted_forms import NEEDS_INPUT, VENDORS, FormSource
from ui_helpers import save_shot


def test_form_widgets_from_schema(qtbot):
    f = ToolForm(NEEDS_INPUT)
    qtbot.addWidget(f)
    w = {n: fld.widget for n, fld in f.fields.items()}
    assert isinstance(w["room"], QLineEdit)
    assert isinstance(w["date"], QDateEdit) and w["date"].calendarPopup()
    assert isinstance(w["start"], QDateTimeEdit) and w["start"].calendarPopup()
    assert isinstance(w["duration_minutes"], QSpinBox) and w["duration_minutes"].minimum() == 15
    assert isinstance(w["priority"], QComboBox) and choices(BOOK := NEEDS_INPUT["schema"]["properties"]["priority"]) \
        == ["P1", "P2", "P3", "P4"] and w["priority"].currentData() == "P3"
    assert isinstance(w["kind"], QComboBox) and w["kind"].currentData() is None  # optional: "(any)"
    assert isinstance(w["video"], QCheckBox)
    labels = {n: lbl.text() for n, lbl in f.labels.items()}
    assert labels["room"] == "Room *" and labels["date"] == "Day *" and labels["duration_minutes"] == "Length in minutes"
    assert "{" not in f.title.text() + f.message.text()
    # prefilled from the model and the request
    assert w["date"].date().toString("yyyy-MM-dd") == "2026-11-30"
    assert w["start"].dateTime().toString("yyyy-MM-ddTHH:mm") == "2026-11-30T10:00"
    assert BOOK["pattern"]


def test_form_requires_then_sends_or_cancels(qtbot):
    f = ToolForm(NEEDS_INPUT)
    qtbot.addWidget(f)
    got, cancelled = [], []
    f.submitted.connect(got.append)
    f.cancelled.connect(lambda: cancelled.append(1))
    f.send()
    assert not got and f.problem.isVisibleTo(f) and "Room" in f.problem.text()
    f.set_value("room", "Cedar")
    f.set_value("duration_minutes", 90)
    f.send()
    assert got == [{"room": "Cedar", "date": "2026-11-30", "start": "2026-11-30T10:00", "duration_minutes": 90,
                    "priority": "P3", "video": False}]
    assert not f.send_btn.isEnabled()
    g = ToolForm(NEEDS_INPUT)
    qtbot.addWidget(g)
    g.cancelled.connect(lambda: cancelled.append(1))
    g.cancel_btn.click()
    assert cancelled == [1] and "nothing" in g.status.text().lower()


def test_result_table_sorts_copies_and_shows_json(qtbot):
    t = ResultTable(VENDORS)
    qtbot.addWidget(t)
    cols = {c.key: c for c in columns_for(VENDORS, VENDORS["rows"])}
    assert cols["spend"].title == "Spend (EUR)" and cols["share_pct"].title == "Share (%)"
    assert cols["po_count"].currency is None and header_words("po_count") == "PO count"
    p = t.proxy
    spend = [c.key for c in t.model.columns].index("spend")
    assert p.index(0, spend).data() == "€412,300.00"
    t.view.sortByColumn(spend, __import__("PySide6.QtCore", fromlist=["Qt"]).Qt.SortOrder.AscendingOrder)
    assert p.index(0, 0).data() == "Delta Office Supply"  # numbers sort as numbers, not as text
    t.copy_all()
    text = QApplication.clipboard().text()
    assert text.splitlines()[0].startswith("Vendor\tCategory\tSpend (EUR)") and "Northwind Metals" in text
    assert not t.raw.isVisibleTo(t)
    t.json_btn.click()
    assert t.raw.isVisibleTo(t) and json.loads(t.raw.toPlainText())["total_spend"] == 1556470.0


@pytest.fixture
def pane(qtbot, aloop):
    src = FormSource(delay=0.0)
    p = ChatPane(src)
    p.resize(900, 900)
    qtbot.addWidget(p)
    p.show()
    qtbot.waitExposed(p)
    return p, src


def test_chat_form_confirm_table_and_demo_mark(qtbot, pane, shots):
    p, src = pane
    p.send("book a meeting room for tomorrow at 10:00 for one hour")
    qtbot.waitUntil(lambda: bool(p.answers) and bool(p.answers[-1].forms), timeout=5000)
    qtbot.waitUntil(lambda: not p.running, timeout=5000)
    first = p.answers[-1]
    form = first.forms[0]
    assert "returned no text" not in " ".join(l.text() for l in first.findChildren(type(first.status)))
    qtbot.wait(300)
    save_shot(p, shots / "form.png")
    form.set_value("room", "Cedar")
    form.send_btn.click()
    qtbot.waitUntil(lambda: len(p.answers) == 2 and bool(p.answers[-1].confirm_cards), timeout=5000)
    assert src.submitted[0][0] == "book_room" and src.submitted[0][1]["room"] == "Cedar"
    assert src.submitted[0][3] == "t8"  # the form's turn
    sent = p.bubbles[-2]
    assert sent.text_value.startswith("Book a meeting room: room = Cedar, day = 2026-11-30"), sent.text_value
    card = p.answers[-1].confirm_cards[0]
    assert "Cedar" in card.preview.text()
    assert card.detail.text().startswith("book room — room: Cedar") and "{" not in card.detail.text()
    ans = p.answers[-1]
    # The agent loop's order: the call is on screen (not yet run) before the card asks.
    assert [st.name for st in ans.tool_steps] == ["book_room"] and not ans.tool_steps[0].finished
    card.confirm_btn.click()
    qtbot.waitUntil(lambda: not p.running, timeout=5000)
    step = ans.tool_steps[0]
    assert len(ans.tool_steps) == 1 and step.finished  # the result filled the same step
    assert step.table is not None and step.table.record
    cells = {step.table.proxy.index(r, 0).data(): step.table.proxy.index(r, 1).data()
             for r in range(step.table.proxy.rowCount())}
    assert cells["Room"] == "Cedar" and cells["From"].startswith("2026-11-30"), cells
    assert ans.demo and "demo model" in ans.badges.texts()
    assert ans.actions.isVisibleTo(ans) and ans.actions.regen_btn.isVisibleTo(ans)
    ans.actions.copy()
    assert QApplication.clipboard().text() == "Booked Cedar from 10:00 to 11:00."
    qtbot.wait(300)
    save_shot(p, shots / "table.png")


def test_form_cancel_leaves_a_note(qtbot, pane):
    p, src = pane
    p.send("book a meeting room for tomorrow at 10:00 for one hour")
    qtbot.waitUntil(lambda: bool(p.answers) and bool(p.answers[-1].forms), timeout=5000)
    p.answers[-1].forms[0].cancel_btn.click()
    assert any("nothing changed" in t for t in p.answers[-1].notes_texts())
    assert not src.submitted and len(p.answers) == 1


def test_regenerate_and_edit_resend(qtbot, aloop):
    from ui_scripted import ScriptedSource

    src = ScriptedSource(delay=0.0)
    p = ChatPane(src)
    qtbot.addWidget(p)
    p.show()
    p.send("show me the top vendors")
    qtbot.waitUntil(lambda: not p.running, timeout=5000)
    cut: list = []
    src.truncate_from_turn = lambda cid, tid: cut.append((cid, tid))
    p.answers[-1].actions.regen_btn.click()
    qtbot.waitUntil(lambda: not p.running, timeout=5000)
    assert src.turns == ["show me the top vendors"] * 2 and cut == [("c1", "t1")]
    assert len(p.bubbles) == 2
    user = p.bubbles[0]
    user.actions.edit_btn.click()
    assert user.actions.editing
    user.actions.editor.setPlainText("show me the top five vendors")
    user.actions.send_btn.click()
    qtbot.waitUntil(lambda: not p.running, timeout=5000)
    assert src.turns[-1] == "show me the top five vendors" and len(p.bubbles) == 2
    assert p.bubbles[0].text_value == "show me the top five vendors"
