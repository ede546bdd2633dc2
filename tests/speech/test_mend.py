"""Near misses of glossary terms mended by sound and spelling (speech/mend.py)."""
from __future__ import annotations

import pytest

from bestbox.speech.glossary import Glossary
from bestbox.speech.mend import Mender

M = Mender(Glossary(names=["Altbridge K.K.", "Northwind Traders"]).all_terms())


@pytest.mark.parametrize("heard, want", [
    ("are any invoices over due", "are any invoices overdue"),
    ("Our invoice is over you.", "Our invoice is overdue."),
    ("How much do we owe all bridge KK?", "How much do we owe Altbridge K.K.?"),
    ("I've ended in voice in overview.", "I've ended invoices in overview."),   # "overview" is a word
])
def test_near_misses_become_the_term(heard, want):
    assert M.mend(heard)[0] == want


@pytest.mark.parametrize("text", [
    "Show me the top vendors by spend.", "The VPN is down, open a ticket.", "Open up tickets.",
    "How many vacation days do I have left?", "Can we close early on Friday?", "",
    # a term heard right keeps its neighbours: no number, no "for" is eaten with it
    "What is the status of purchase order 4500?", "Submit my expense report for approval.",
    "Check the leave balance for my team.", "Give me an overview of the overall numbers.",
])
def test_right_text_is_left_alone(text):
    assert M.mend(text) == (text, [])
