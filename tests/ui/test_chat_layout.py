"""Long messages wrap inside the chat column: nothing is clipped under the server panel."""
from __future__ import annotations

from PySide6.QtCore import QPoint
from PySide6.QtWidgets import QWidget

from ui_helpers import save_shot
from test_main_window import FakeBridge, HistorySource, _Loaded, _snaps  # noqa: F401 - shared fakes

LONG_Q = ("my laptop can't connect to the VPN since this morning, I tried restarting it twice and the client "
          "says the certificate is not valid, the Wi-Fi works fine otherwise and colleagues on the same floor "
          "can connect, could you please open a ticket for the service desk and tell me what else to try? "
          "Also the path is C:\\Users\\someone\\AppData\\Local\\VendorVPNClient\\logs\\connection-2026-11-29.log")
LONG_A = ("Here is what I found. " * 40 + "\n\n" + "averyveryverylongwordwithoutanyspaces" * 6 + "\n\nDone.")


def _right_edges_inside(w) -> list[str]:
    vp = w.chat.scroll.viewport()
    bad = []
    for b in w.chat.bubbles:
        for child in [b, *b.findChildren(QWidget)]:
            if not child.isVisible():
                continue
            right = child.mapTo(vp, QPoint(child.width(), 0)).x()
            if right > vp.width() + 1:
                bad.append(f"{type(child).__name__} {child.objectName()} ends at {right} > {vp.width()}")
    return bad


def test_long_messages_wrap(qtbot, aloop, tmp_path, shots):
    from bestbox.pipeline.history import History
    from bestbox.ui.main_window import MainWindow
    from bestbox.ui.voice_adapter import VoiceController

    src = HistorySource(History(tmp_path / "h.sqlite"), answer=LONG_A, delay=0.0)
    w = MainWindow(FakeBridge(_snaps()), src, VoiceController(None), _Loaded(tmp_path / "config.toml"))
    qtbot.addWidget(w)
    w.resize(1100, 760)
    w.show()
    qtbot.waitExposed(w)
    w.chat.send(LONG_Q)
    qtbot.waitUntil(lambda: not w.chat.running, timeout=20_000)
    qtbot.wait(200)
    save_shot(w, shots / "long_messages.png")
    assert not _right_edges_inside(w)
    assert w.chat.scroll.horizontalScrollBar().maximum() == 0
    body = w.chat.scroll.widget()
    assert body.width() <= w.chat.scroll.viewport().width() + 1, (body.width(), w.chat.scroll.viewport().width())


class _SearchSource(HistorySource):
    def rename(self, cid, title):
        self.history.rename(cid, title)

    def search_conversations(self, q):
        return self.history.search(q)

    def truncate_from_turn(self, cid, tid):
        return self.history.truncate_from_turn(cid, tid)


def test_rename_and_search_conversations(qtbot, aloop, tmp_path):
    from bestbox.pipeline.history import History
    from bestbox.ui.main_window import MainWindow
    from bestbox.ui.voice_adapter import VoiceController

    hist = History(tmp_path / "h.sqlite")
    a = hist.new_conversation("Top vendors")
    b = hist.new_conversation("VPN trouble")
    hist.add_message(b, "user", "my laptop can't connect to the VPN", turn_id="t1")
    w = MainWindow(FakeBridge(_snaps()), _SearchSource(hist), VoiceController(None), _Loaded(tmp_path / "c.toml"))
    qtbot.addWidget(w)
    w.show()
    qtbot.waitExposed(w)
    c = w.conversations
    c.search.setText("laptop")
    assert c.ids() == [b]
    c.search.setText("nothing like this")
    assert c.ids() == [] and c.empty.text() == "No conversation matches."
    c.search.clear()
    assert set(c.ids()) == {a, b}
    item = c.list.item(c.ids().index(a))
    item.setText("Vendors Q4")  # what the in-place editor does
    assert {x["id"]: x["title"] for x in hist.list_conversations()}[a] == "Vendors Q4"
    assert w.act_settings.shortcut().toString() == "Ctrl+,"
