"""The user's documents for agents without tools of their own (the general agent; see the
`documents` column of routing/agents.py): before answering, the request is looked up in the
indexed folders, in code, with no model call. Only a look-up that answers (the same threshold as
`search_my_files`) is used; otherwise the agent answers as it would without documents, so small
talk never gets "your documents do not answer" and a cited fact never depends on a tiny model
choosing to look.
"""
from __future__ import annotations

from ..routing.agents import BY_KEY
from .tools import documents

TOOL = "search_my_files"
MIN_WORDS = 2


def reads_documents(agent: str) -> bool:
    info = BY_KEY.get(agent)
    return bool(info and info.documents)


def look_up(request: str) -> dict | None:
    """The tool's arguments when the indexed documents answer `request`, else None (also when no
    folder is configured or nothing is indexed yet: never an error for a question that needs none)."""
    from ..data.documents import store
    from ..data.documents.search import words

    query = " ".join(request.split())[:300]
    # One content word ("thanks", "joke") found in some passage is not a question the documents answer.
    if len(set(words(query))) < MIN_WORDS or not documents._config().data.documents \
            or not store.index_path().exists():
        return None
    result = documents.search_my_files(None, documents.MyDocsArgs(query=query))
    return {"query": query} if result.get("answered") else None
