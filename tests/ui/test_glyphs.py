"""No text in the window uses a symbol character as an icon: a font that lacks it shows a box (the
"New conversation" button did, with "＋"). Icons come from assets/icons or are painted; text keeps
only typographic punctuation that every text font carries."""
from __future__ import annotations

import io
import tokenize
from pathlib import Path

from PySide6.QtGui import QFontMetrics
from PySide6.QtWidgets import QApplication, QToolButton

import bestbox.ui
from bestbox.ui.badges import RouteBadge
from bestbox.ui.banner import Banner
from bestbox.ui.conversation_list import ConversationList
from bestbox.ui.server_card import StateBadge
from bestbox.ui.status_bar import ServerChip

from ui_helpers import save_shot

# Punctuation of Latin-1 and General Punctuation, the currency signs and one arrow used in prose.
TYPOGRAPHIC = set("…—–·•“”‘’€£¥×→°")


def _string_chars(path: Path) -> set[str]:
    out: set[str] = set()
    for tok in tokenize.generate_tokens(io.StringIO(path.read_text(encoding="utf-8")).readline):
        if tok.type in (tokenize.STRING, getattr(tokenize, "FSTRING_MIDDLE", -1)):
            out |= {c for c in tok.string if ord(c) > 127}
    return out


def test_ui_strings_use_no_symbol_glyphs():
    ui = Path(bestbox.ui.__file__).parent
    found = {p.name: sorted(_string_chars(p) - TYPOGRAPHIC) for p in sorted(ui.glob("*.py"))}
    assert not {k: v for k, v in found.items() if v}


def test_allowed_punctuation_is_in_the_window_font(qapp):
    fm = QFontMetrics(QApplication.font())
    assert [c for c in sorted(TYPOGRAPHIC) if not fm.inFontUcs4(ord(c))] == []


def test_icons_replace_the_glyphs(qtbot, shots):
    conv = ConversationList()
    qtbot.addWidget(conv)
    assert conv.new_btn.text() == "New conversation" and not conv.new_btn.icon().isNull()
    banner = Banner("Something to say.", "warn")
    qtbot.addWidget(banner)
    close = banner.findChild(QToolButton)
    assert close.text() == "" and not close.icon().isNull()
    badge = RouteBadge("crm", "fast")
    qtbot.addWidget(badge)
    badge._set("crm", corrected=True)
    assert "corrected" in badge.text() and not badge.icon().isNull()
    badge._set("crm", corrected=False)
    assert badge.icon().isNull()
    state, chip = StateBadge(), ServerChip("heavy")
    qtbot.addWidget(state)
    qtbot.addWidget(chip)
    state.set_state("ready")
    assert "<img" in state.text() and "Ready" in state.text() and "<img" in chip.text()
    conv.resize(240, 120)
    conv.show()
    qtbot.waitExposed(conv)
    save_shot(conv, shots / "new-conversation-button.png")
