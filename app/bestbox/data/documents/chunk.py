"""Blocks → passages (chunks) small enough to quote and to embed.

Text is packed paragraph by paragraph up to ~CHUNK_CHARS; a paragraph longer than that is cut at
sentence ends, then at spaces. A table becomes Markdown table rows under its header row, packed
the same way but never split inside a row, so every cell stays with its row and its column name.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from .extract import Block

CHUNK_CHARS = 1000


@dataclass
class Chunk:
    text: str
    page: int | None
    seq: int = 0


def _pieces(paragraph: str, limit: int) -> list[str]:
    if len(paragraph) <= limit:
        return [paragraph]
    out, cur = [], ""
    for sent in re.split(r"(?<=[.!?])\s+", paragraph):
        while len(sent) > limit:  # one huge "sentence": cut at a space
            cut = sent.rfind(" ", 0, limit)
            cut = cut if cut > limit // 2 else limit
            if cur:
                out.append(cur)
                cur = ""
            out.append(sent[:cut])
            sent = sent[cut:].lstrip()
        if cur and len(cur) + 1 + len(sent) > limit:
            out.append(cur)
            cur = sent
        else:
            cur = f"{cur} {sent}" if cur else sent
    if cur:
        out.append(cur)
    return out


def _text_chunks(text: str, limit: int) -> list[str]:
    paras = [" ".join(p.split()) for p in re.split(r"\n\s*\n", text)]
    out, cur = [], ""
    for para in (p for p in paras if p):
        for piece in _pieces(para, limit):
            if cur and len(cur) + 2 + len(piece) > limit:
                out.append(cur)
                cur = piece
            else:
                cur = f"{cur}\n\n{piece}" if cur else piece
    if cur:
        out.append(cur)
    return out


def _cell(v: str) -> str:
    return " ".join(str(v).split()).replace("|", "\\|")


def table_rows(rows: list[list[str]]) -> tuple[str, list[str]]:
    """(header lines, body lines) of a Markdown table; short rows are padded to the header's width."""
    width = max(len(r) for r in rows)
    norm = [[_cell(c) for c in r] + [""] * (width - len(r)) for r in rows]
    header = "| " + " | ".join(norm[0]) + " |\n|" + "---|" * width
    return header, ["| " + " | ".join(r) + " |" for r in norm[1:]]


def _table_chunks(block: Block, limit: int) -> list[str]:
    header, body = table_rows(block.rows)
    title = f"Table {block.title}\n" if block.title else ""
    if not body:
        return [title + header]
    out, cur = [], []
    size = len(title) + len(header)
    for line in body:
        if cur and size + len(line) + 1 > limit:
            out.append(title + header + "\n" + "\n".join(cur))
            cur, size = [], len(title) + len(header)
        cur.append(line)
        size += len(line) + 1
    if cur:
        out.append(title + header + "\n" + "\n".join(cur))
    return out


def chunk_blocks(blocks: list[Block], limit: int = CHUNK_CHARS) -> list[Chunk]:
    chunks: list[Chunk] = []
    for b in blocks:
        texts = _table_chunks(b, limit) if b.is_table else _text_chunks(b.text, limit)
        chunks += [Chunk(t, b.page) for t in texts]
    for i, c in enumerate(chunks):
        c.seq = i
    return chunks
