"""The user's documents: read (extract), cut into passages (chunk), kept in one SQLite index
(store), kept in step with the folders (indexer), searched by keyword and embeddings (search)."""
from __future__ import annotations

from .indexer import Indexer, Progress, SyncReport
from .search import Hit, Searcher, answers, search

__all__ = ["Hit", "Indexer", "Progress", "Searcher", "SyncReport", "answers", "search", "folders_from_config"]


def folders_from_config(cfg) -> list[str]:
    return list(cfg.data.documents)
