"""Streamed tokens → whole sentences, as soon as each is complete.

After . ? or ! the aggregator waits for the next non-space character before it decides: an upper-case
letter, a digit, a quote or a new line after a real sentence end splits; "$29." followed by "99",
"e.g. this" and "Mr. Smith" do not. Markdown blocks (tables, code fences) are held until they close, so
for_speech can summarise them whole. `flush()` at the end returns the rest.

The first chunk only may end at a clause boundary (, ; : or a spaced dash) once it holds `clause_words`
words: speech starts a sentence earlier, later chunks stay whole sentences so the prosody stays natural.
"1,200", "1, 2, 3", "e.g., x", hyphenated words and Markdown lines (tables, lists, headings) never cut
there."""
from __future__ import annotations

import re

_ABBREV = {"e.g", "i.e", "etc", "mr", "mrs", "ms", "dr", "prof", "inc", "ltd", "co", "vs", "no", "st",
           "approx", "dept", "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov",
           "dec", "fig", "u.s", "a.m", "p.m", "nr", "cf"}
_WORD_BEFORE = re.compile(r"([A-Za-z][A-Za-z.]*)\.$")
# A clause ends at , ; : or an em dash, or a dash with a space on each side ("state-of-the-art" does not).
_CLAUSE = re.compile(r"[,;:\u2014]|(?<=\s)[-\u2013](?=\s)")
_MARKDOWN_LINE = re.compile(r"\s*([-*+>#|]|\d+[.)]\s|```)")


class SentenceAggregator:
    def __init__(self, min_chars: int = 2, clause_words: int = 6) -> None:
        self.buf = ""
        self.min_chars = min_chars
        self.clause_words = clause_words  # 0: whole sentences only
        self.cut_any = False

    def feed(self, text: str) -> list[str]:
        self.buf += text
        out = []
        while True:
            cut = self._find_cut()
            if not self.cut_any and self.clause_words:
                clause = self._clause_cut()
                if clause is not None and (cut is None or clause < cut):
                    cut = clause
            if cut is None:
                return out
            self.cut_any = True
            sentence, self.buf = self.buf[:cut].strip(), self.buf[cut:].lstrip()
            if len(sentence) >= self.min_chars:
                out.append(sentence)

    def flush(self) -> list[str]:
        rest, self.buf = self.buf.strip(), ""
        return [rest] if rest else []

    def _in_block(self, upto: int) -> bool:
        head = self.buf[:upto]
        if head.count("```") % 2:
            return True
        last = head.rsplit("\n", 1)[-1]
        return last.lstrip().startswith("|")

    def _find_cut(self) -> int | None:
        b = self.buf
        for m in re.finditer(r"[.?!]+[\"')\]]*|\n\s*\n|\n(?=\s*[-*+#]|\s*\d+[.)]\s)", b):
            end = m.end()
            if self._in_block(m.start()):
                # A table or code block ends at a blank line, or a line that is not part of it.
                continue
            if m.group(0).startswith("\n"):
                if b[:m.start()].strip():
                    return end
                continue
            nxt = re.match(r"\s*", b[end:])
            j = end + nxt.end()
            if j >= len(b):
                return None  # wait for the next non-space character
            if nxt.end() == 0:
                continue  # "29.99", "e.g.x", "file.txt": no space, no sentence end
            if self._abbreviation(b[:end]) and not b[j].isupper() and "\n" not in nxt.group(0):
                continue
            if self._abbreviation(b[:end]) and b[j].isupper() and _is_title(b[:end]):
                continue
            if b[j].isupper() or b[j].isdigit() or b[j] in "\"'([*#-|`" or "\n" in nxt.group(0):
                return end
        return self._block_end()

    def _clause_cut(self) -> int | None:
        """The end of the first clause, when it is long enough and surely not inside a number or list."""
        b = self.buf
        if _MARKDOWN_LINE.match(b):
            return None
        for m in _CLAUSE.finditer(b):
            head = b[:m.end()]
            if "\n" in head or self._in_block(m.start()):
                return None  # past the first line: the sentence rules take over
            nxt = re.match(r"\s*", b[m.end():])
            j = m.end() + nxt.end()
            if j >= len(b):
                return None  # wait for the next non-space character ("1," may be "1,200")
            if m.group(0) in ",;:" and nxt.end() == 0:
                continue  # "1,200", "3:45", "a;b"
            before = b[:m.start()].rstrip()
            if before.endswith(".") or (before[-1:].isdigit() and b[j].isdigit()):
                continue  # "e.g.," and "1, 2, 3" are no clause ends
            if len(head.split()) >= self.clause_words:
                return m.end()
        return None

    def _block_end(self) -> int | None:
        """A finished table (a following line without '|') or code fence is one unit."""
        b = self.buf
        if b.lstrip().startswith("|"):
            lines = b.split("\n")
            for k, line in enumerate(lines[1:-1], start=1):  # the last line may still be growing
                if "|" not in line:
                    return len("\n".join(lines[:k]))
        if b.lstrip().startswith("```") and b.count("```") >= 2:
            return b.index("```", b.index("```") + 3) + 3
        return None

    @staticmethod
    def _abbreviation(head: str) -> bool:
        m = _WORD_BEFORE.search(head)
        return bool(m) and (m.group(1).lower() in _ABBREV or len(m.group(1)) == 1)


def _is_title(head: str) -> bool:
    m = _WORD_BEFORE.search(head)
    return bool(m) and m.group(1).lower() in {"mr", "mrs", "ms", "dr", "prof", "st"}
