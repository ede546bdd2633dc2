"""The user's own documents as a tool: passages from the indexed folders ([data] documents), each
with a citation id assigned here, in code ([1], [2] …), never by the model. When no passage
answers (nothing above the threshold in `data.documents.search.answers`), the result says so and
carries no citations, so the answer can say the documents do not answer instead of guessing.

The tool ignores the demo database connection every tool receives: it reads the document index.
"""
from __future__ import annotations

from pathlib import Path

from pydantic import Field

from .base import Args, Tool, error

NO_ANSWER = "The indexed documents do not answer this question; say so and do not guess."
MAX_PASSAGE_CHARS = 700


class MyDocsArgs(Args):
    query: str = Field(..., min_length=2, max_length=300,
                       description="The question or key words, e.g. how many days of annual leave")
    limit: int = Field(4, ge=1, le=8)


def _config():
    from ...config import load

    return load(create=False).config


def search_my_files(con, a: MyDocsArgs) -> dict:
    from ...data.documents import answers, search

    cfg = _config()
    if not cfg.data.documents:
        return error("search_my_files", "no document folders are configured; add one with "
                     "`bestbox docs index --add DIR`")
    res = search(a.query, a.limit, use_embeddings=cfg.data.documents_embed)
    good = [h for h in res["hits"] if answers(h)]
    if not good:
        return {"rows": [], "row_count": 0, "answered": False, "message": NO_ANSWER, "citations": [],
                "search_mode": res["mode"]}
    rows, cites = [], []
    for i, h in enumerate(good, start=1):
        page = f", page {h.page}" if h.page else ""
        rows.append({"cite": f"[{i}]", "source": f"{Path(h.path).name}{page}",
                     "text": " ".join(h.text.split())[:MAX_PASSAGE_CHARS]})
        cites.append({"id": i, "path": h.path, "page": h.page, "snippet": h.snippet})
    return {"rows": rows, "row_count": len(rows), "truncated": False, "answered": True, "citations": cites,
            "search_mode": res["mode"],
            "instruction": "Answer only from these passages and cite each fact with its [n]."}


TOOLS = [
    Tool("search_my_files", "oa", "Search the user's own files (their documents: policies, handbooks, price lists, "
         "manuals) for passages that answer a question, with citations.", MyDocsArgs, search_my_files),
]


def citations_of(tool_name: str, result: dict | None) -> tuple[list[dict], str | None]:
    """(citations, note) from one tool result, for the pipeline's "done" event."""
    if tool_name != "search_my_files" or not isinstance(result, dict):
        return [], None
    cites = [{k: c.get(k) for k in ("id", "path", "page", "snippet")} for c in result.get("citations") or []]
    note = None
    if result.get("answered") is False:
        note = "Your documents do not answer this question (no passage matched well enough)."
    return cites, note
