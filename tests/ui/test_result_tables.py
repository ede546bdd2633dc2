"""Result tables: one record as (field, value) rows, every column in view (long text elided, whole in
the tooltip), and the same table rebuilt when a conversation is reopened from history."""
from __future__ import annotations

import json

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from bestbox.pipeline import stored_results
from bestbox.pipeline.history import History
from bestbox.ui.chat_pane import ChatPane
from bestbox.ui.result_table import ResultTable, record_of

from scripted_forms import VENDORS, FormSource
from ui_helpers import save_shot

TICKET = {"created": True, "ref": "INC-2026-0042", "priority": "P2", "team": "Service Desk", "status": "new",
          "row_count": 1}
WIDE = {"currency": "EUR", "row_count": 3, "rows": [
    {"vendor": f"Calpak Semiconductors Co., Ltd. branch {i}", "category": "Electronics and components",
     "country": "People's Republic of China", "rating": 3.5, "spend": 949921.0 * (i + 1), "po_count": 41 + i,
     "share_pct": 12.5, "last_order": "2026-11-02"} for i in range(3)]}


def test_one_record_is_a_field_value_table(qtbot):
    t = ResultTable(TICKET)
    qtbot.addWidget(t)
    assert t.record and [c.title for c in t.model.columns] == ["Field", "Value"]
    cells = {t.proxy.index(r, 0).data(): t.proxy.index(r, 1).data() for r in range(t.proxy.rowCount())}
    assert cells == {"Created": "yes", "Ref": "INC-2026-0042", "Priority": "P2", "Team": "Service Desk",
                     "Status": "new"}
    one = {**VENDORS, "rows": VENDORS["rows"][:1], "row_count": 1}
    v = ResultTable(one)
    qtbot.addWidget(v)
    cells = {v.proxy.index(r, 0).data(): v.proxy.index(r, 1).data() for r in range(v.proxy.rowCount())}
    assert cells["Spend (EUR)"] == "€412,300.00" and cells["Share (%)"] == "26.5" and cells["Vendor"] == "Northwind Metals"
    assert record_of(VENDORS) is None and record_of({"error": "x", "a": 1, "b": 2}) is None
    assert record_of({"booked": True, "room": {"name": "Cedar", "floor": 2}, "from": "10:00"}) == \
        {"booked": True, "room_name": "Cedar", "room_floor": 2, "from": "10:00"}


def test_every_column_fits_and_long_text_has_a_tooltip(qtbot):
    t = ResultTable(WIDE)
    qtbot.addWidget(t)
    t.resize(560, 300)
    t.show()
    qtbot.waitExposed(t)
    qtbot.wait(50)
    widths = [t.view.columnWidth(c) for c in range(t.model.columnCount())]
    assert sum(widths) <= t.view.viewport().width(), (widths, t.view.viewport().width())
    spend = [c.key for c in t.model.columns].index("spend")
    assert t.view.columnWidth(spend) >= t.view.sizeHintForColumn(spend)     # money is never cut
    assert t.proxy.index(0, 0).data(Qt.ItemDataRole.ToolTipRole) == WIDE["rows"][0]["vendor"]
    assert t.view.horizontalScrollBar().maximum() == 0


@pytest.fixture
def pane(qtbot, aloop):
    p = ChatPane(FormSource(delay=0.0))
    p.resize(900, 700)
    qtbot.addWidget(p)
    p.show()
    qtbot.waitExposed(p)
    return p


def test_reopened_conversation_rebuilds_the_tables(qtbot, pane, tmp_path, shots):
    h = History(tmp_path / "h.sqlite")
    conv = h.new_conversation()
    h.add_message(conv, "user", "show me the top five vendors", turn_id="t1")
    calls = stored_results.attach(
        [{"name": "top_vendors_by_spend", "arguments": {"limit": 5}, "rows": 5, "error": None},
         {"name": "open_ticket", "arguments": {"title": "VPN"}, "rows": 1, "error": None}],
        [("top_vendors_by_spend", VENDORS, "5 rows, total spend 1,556,470.00"), ("open_ticket", TICKET, "1 row")])
    h.add_message(conv, "assistant", "Northwind Metals leads.", turn_id="t1",
                  meta={"route": {"agent": "erp", "tier": "heavy", "decided_by": "fast"}, "tool_calls": calls})
    h.close()
    again = History(tmp_path / "h.sqlite")          # after a restart
    pane.show_conversation(conv, again.load(conv))
    again.close()
    steps = pane.answers[-1].tool_steps
    assert [s.table is not None for s in steps] == [True, True]
    table = steps[0].table
    assert table.model.rowCount() == 5 and table.proxy.index(0, 2).data() == "€412,300.00"
    table.view.sortByColumn(2, Qt.SortOrder.AscendingOrder)
    assert table.proxy.index(0, 0).data() == "Delta Office Supply"
    assert steps[1].table.record
    qtbot.wait(200)
    pane.scroll_to_end()
    qtbot.wait(100)
    save_shot(pane, shots / "reopened-tables.png")
    table.json_btn.click()
    assert json.loads(table.raw.toPlainText())["rows"] == VENDORS["rows"]
    table.copy_all()
    assert "Northwind Metals" in QApplication.clipboard().text()
