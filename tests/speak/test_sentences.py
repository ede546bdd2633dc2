"""Sentence cutting over a token stream, and Markdown → words for the ear."""
from __future__ import annotations

import pytest

from bestbox.speak.sentences import SentenceAggregator
from bestbox.speak.speech_text import for_speech


def stream(text: str, step: int = 1) -> tuple[list[str], list[int]]:
    """Sentences and, for each, how many characters had arrived when it was cut."""
    agg, out, at = SentenceAggregator(), [], []
    for i in range(0, len(text), step):
        got = agg.feed(text[i:i + step])
        out += got
        at += [i + step] * len(got)
    rest = agg.flush()
    return out + rest, at + [len(text)] * len(rest)


@pytest.mark.parametrize("step", [1, 3, 7])
def test_money_abbreviations_and_titles_do_not_split(step):
    text = "The total is $29.99 for March. Next, e.g. this one. Mr. Smith paid it! Done? Yes."
    got, _ = stream(text, step)
    assert got == ["The total is $29.99 for March.", "Next, e.g. this one.", "Mr. Smith paid it!", "Done?", "Yes."]


def test_waits_for_the_next_character_before_cutting():
    agg = SentenceAggregator()
    assert agg.feed("It costs $29.") == []  # could be $29.99
    assert agg.feed("99 today.") == []  # the end is not known until the next non-space character
    assert agg.feed("  ") == []
    assert agg.feed("Then") == ["It costs $29.99 today."]
    assert agg.flush() == ["Then"]


def test_first_sentence_is_cut_before_the_answer_ends():
    text = "Acme is the top vendor. It billed 5,000 dollars in March, e.g. for parts. That is all."
    got, at = stream(text)
    assert got[0] == "Acme is the top vendor." and at[0] < len(text) // 3


def test_decimals_versions_and_file_names_stay_whole():
    got, _ = stream("Version 2.5.1 is in config.toml now. It is 3.5 times faster.")
    assert got == ["Version 2.5.1 is in config.toml now.", "It is 3.5 times faster."]


def test_tables_and_code_are_one_unit_and_lists_split_per_item():
    text = ("Here are the vendors:\n\n| Vendor | Total |\n|---|---|\n| Acme | 5 |\n| Bolt | 7 |\n\n"
            "That is all. Steps:\n- one\n- two\n\n```sql\nSELECT 1. FROM x;\n```\nDone.")
    got, _ = stream(text, 2)
    assert got[1] == "| Vendor | Total |\n|---|---|\n| Acme | 5 |\n| Bolt | 7 |"
    assert "- one" in got and "- two" in got
    assert "```sql\nSELECT 1. FROM x;\n```" in got
    assert got[-1] == "Done."


def test_markdown_is_cleaned_and_tables_summarised():
    md = ("## Top vendors\n\n| Vendor | Total |\n|---|---|\n| Acme | $5,000 |\n| Bolt | 7 |\n| Cole | 9 |\n\n"
          "**Acme** leads; see [the report](http://x.com/a) or https://www.example.com/r?x=1.\n"
          "```sql\nSELECT * FROM t\n```\n- first item\n- `second` & more\n> quoted _text_")
    s = for_speech(md)
    assert s.startswith("Top vendors. A table of 3 rows with columns Vendor, Total.")
    assert "The first row: Vendor Acme, Total 5,000 dollars." in s
    assert "Acme leads; see the report or a link to example.com." in s
    assert "code block" in s and "SELECT" not in s
    assert "first item. second and more." in s and "quoted text" in s
    for sym in "*#|`[]()_>":
        assert sym not in s.replace("(There is a code block on screen.)", "")


def test_money_and_symbols_read_as_words():
    assert for_speech("Up 12% to €3.5M & $120k") == "Up 12 percent to 3.5 million euros and 120 thousand dollars"


def clause_stream(text: str, step: int) -> list[str]:
    agg, out = SentenceAggregator(), []
    for i in range(0, len(text), step):
        out += agg.feed(text[i:i + step])
    return out + agg.flush()


@pytest.mark.parametrize("step", [1, 4, 9])
def test_first_chunk_ends_at_a_clause_later_chunks_are_sentences(step):
    text = ("Acme was the top vendor in March by a wide margin, with 1,200 orders in total. "
            "It billed more, e.g., for parts, than anyone. That is all.")
    got = clause_stream(text, step)
    assert got == ["Acme was the top vendor in March by a wide margin,", "with 1,200 orders in total.",
                   "It billed more, e.g., for parts, than anyone.", "That is all."]


def test_clause_is_spoken_before_the_sentence_ends():
    agg = SentenceAggregator()
    assert agg.feed("Acme was the top vendor in March; ") == []  # waits for the next character
    assert agg.feed("it") == ["Acme was the top vendor in March;"]
    assert agg.feed(" billed most: 5 times more.") == []
    assert agg.feed(" Done") == ["it billed most: 5 times more."]


@pytest.mark.parametrize("text", [
    "The totals for the first quarter were 1,200 and 3,400 and 5,600 dollars. Next.",  # thousands
    "The order numbers you asked about are 1, 2, 3 and 4 in this case. Next.",  # a list of numbers
    "Short, so too few words to cut here. Next.",  # under six words before the comma
    "The meeting at the office starts at 10:30 on Monday morning sharp. Next.",  # a time
    "This is a state-of-the-art vendor with well-known parts in stock. Next.",  # hyphenated words
    "Pick one of the usual options, e.g.: bolts or nuts or screws or rivets. Next.",  # after "e.g."
])
def test_no_clause_cut_inside_numbers_lists_or_short_heads(text):
    got = clause_stream(text, 1)
    first = text[:text.index(" Next.")]
    if text.startswith("Short"):
        assert got == [first, "Next."]
    elif "e.g.:" in text:
        assert got[0] == "Pick one of the usual options," and got[1].startswith("e.g.:")
    else:
        assert got == [first, "Next."]


@pytest.mark.parametrize("text", [
    "| Vendor name here | Total amount, in dollars | Notes |\n|---|---|---|\n| Acme | 1,200 | a, b |\n\nDone.",
    "- the first item on the list is Acme, then Bolt\n- second\n\nDone.",
    "## The top vendors of March by total, sorted\n\nDone.",
    "1. the first item on the list is Acme, then Bolt\n2. second\n\nDone.",
])
def test_markdown_lines_are_never_cut_at_a_clause(text):
    got = clause_stream(text, 3)
    assert "," not in [g[-1] for g in got]
    assert got[-1] == "Done."


def test_dashes_cut_only_when_spaced_and_clause_words_zero_turns_it_off():
    got = clause_stream("The vendor with the most orders in March — Acme — billed most. Next.", 2)
    assert got[0] == "The vendor with the most orders in March —"
    got = clause_stream("The vendor with the most orders in March\u2014Acme\u2014billed most. Next.", 2)
    assert got[0] == "The vendor with the most orders in March\u2014"
    agg = SentenceAggregator(clause_words=0)
    assert agg.feed("Acme was the top vendor in March, with 5 orders. Next") == \
        ["Acme was the top vendor in March, with 5 orders."]
