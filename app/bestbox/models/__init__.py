"""Model downloads: the catalog of known GGUFs per server (`catalog`) and a resumable, verified
Hugging Face downloader (`download`, asyncio + httpx, no Qt). `bestbox models` and the server
cards' "Download" button use them."""
from .catalog import CATALOG, ModelEntry, custom_entry, entry_for, split_parts

__all__ = ["CATALOG", "ModelEntry", "custom_entry", "entry_for", "split_parts"]
